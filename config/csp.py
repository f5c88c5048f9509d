"""Per-view relaxations of the Content-Security-Policy (settings: CONTENT_SECURITY_POLICY)."""

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_replace, csp_update

# Emails are styled with inline style attributes (mail clients ignore style sheets).
EMAIL_STYLES = {"style-src": [UNSAFE_INLINE]}


def shows_email(view):
    """For a page that shows an email as mailed, or embeds one: allow its inline styles, in the
    enforced and the report-only policy alike."""
    return csp_update(EMAIL_STYLES, REPORT_ONLY=True)(csp_update(EMAIL_STYLES)(view))


def framed_by_own_pages(view):
    """For a page that the site's own pages show in an iframe."""
    ancestors = {"frame-ancestors": [SELF]}
    return csp_replace(ancestors, REPORT_ONLY=True)(csp_replace(ancestors)(view))
