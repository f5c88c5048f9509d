"""Per-view relaxations of the Content-Security-Policy (settings: CONTENT_SECURITY_POLICY)."""

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_replace, csp_update

# Emails are styled with inline style attributes (mail clients ignore style sheets).
INLINE_STYLES = {"style-src": [UNSAFE_INLINE]}


def shows_inline_styles(view):
    """Allow inline styles on this view's pages, in the enforced and the report-only policy alike."""
    return csp_update(INLINE_STYLES, REPORT_ONLY=True)(csp_update(INLINE_STYLES)(view))


def shows_email(view):
    """For a page that shows an email as mailed, or embeds one."""
    return shows_inline_styles(view)


def framed_by_own_pages(view):
    """For a page that the site's own pages show in an iframe."""
    ancestors = {"frame-ancestors": [SELF]}
    return csp_replace(ancestors, REPORT_ONLY=True)(csp_replace(ancestors)(view))
