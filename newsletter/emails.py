"""The one email builder: every message is templates/emails/<name>.subject.txt, .txt and .html,
rendered by `render` and built by `build_message`; the digest only supplies its context."""

import functools
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from email.header import Header

from anymail.backends.postmark import EmailBackend as PostmarkBackend
from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.mail import EmailMultiAlternatives
from django.template.defaultfilters import pluralize
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.dateformat import format as date_format
from django.utils.module_loading import import_string
from django.utils.safestring import mark_safe

from newsletter import sections
from newsletter.tokens import reader_token
from papers.mathtext import to_text


class Email(EmailMultiAlternatives):
    """A message whose MIME form (SMTP, raw-MIME ESP APIs such as Amazon SES) keeps a non-ASCII
    subject within RFC 5322's 78 characters a line. Django has the standard library encode it
    without counting the header's indent, so each folded line came out one character too long.
    API ESPs read `subject` itself, which stays as written."""

    def message(self):
        subject = self.subject
        if not subject.isascii():
            # Encoded words of at most 76 characters; the generator folds between them.
            self.subject = " ".join(Header(subject, "utf-8", maxlinelen=76).encode().split())
        try:
            return super().message()
        finally:
            self.subject = subject


def render(name: str, context: Mapping) -> tuple[str, str, str]:
    """(subject, text, html) of templates/emails/<name>.subject.txt, .txt and .html."""
    context = {
        "SITE_NAME": settings.SITE_NAME,
        "SITE_URL": settings.SITE_URL,
        "postal_address": settings.NEWSLETTER_POSTAL_ADDRESS,
        **context,
    }
    # Subjects are single lines: a stray newline would be a header injection.
    subject = " ".join(render_to_string(f"emails/{name}.subject.txt", context).split())
    text = render_to_string(f"emails/{name}.txt", context)
    return subject, text, render_to_string(f"emails/{name}.html", context)


def build_message(
    name: str,
    context: Mapping,
    to: str,
    headers: Mapping[str, str] | None = None,
    tags: list[str] | None = None,
    metadata: Mapping[str, str] | None = None,
    esp_extra: Mapping | None = None,
) -> Email:
    subject, text, html = render(name, context)
    message = Email(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers=dict(headers or {}),
    )
    message.attach_alternative(html, "text/html")
    # Read by Anymail's backends (and recorded by its test backend); ignored by the others.
    message.tags = list(tags or [name])
    message.metadata = dict(metadata or {})
    if esp_extra:
        message.esp_extra = dict(esp_extra)
    return message


# --- The daily digest ---------------------------------------------------------------------------
# A personalised digest differs between readers only in which papers, why, and the links: the
# digest supplies those as the context of templates/emails/digest.*, rendered by build_message.

TOKEN_SLOT = "TOKENSLOT"


def excerpt(paper, limit: int = 320) -> str:
    text = " ".join((paper.summary or paper.abstract).split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(".,;:") + "…"  # cut between words


def byline(paper) -> str:
    if paper.organization_id:
        return str(paper.organization)
    names = list(paper.authors[:3])
    total = max(paper.author_count, len(paper.authors))
    if not names:
        return f"{total} author{pluralize(total)}" if total else ""
    return ", ".join(names) + (" et al." if total > len(names) else "")


def paper_context(paper) -> dict:
    # Email clients render no MathML: math reads as plain text, "$\mathcal{O}(n)$" as "𝒪(n)".
    return {
        "title": to_text(" ".join(paper.title.split())),
        "url": settings.SITE_URL + paper.get_absolute_url(),
        "arxiv_url": paper.arxiv_url,
        "byline": byline(paper),
        "date": date_format(paper.listed_on, "M j, Y"),
        "upvotes": paper.upvotes,
        "excerpt": to_text(excerpt(paper)),
        "editor_note": " ".join(paper.editor_note.split()),
        "code_url": paper.code_url,
        "code_stars": intcomma(paper.code_stars) if paper.code_stars else "",
    }


def paper_card(paper) -> dict:
    """A paper's parts of the digest, rendered once per day: they are the same for every reader.
    Kept because it is worth more than 10% of the daily job: rendered per reader through
    {% include %}, a digest took 1.69 ms of CPU instead of 0.67 ms, about 11% of the ~9.4 ms a
    digest costs end to end, and bench/daily_job.py (10,000 readers, 2 workers) sent 103-115
    digests/s against 201-247. The engine escapes the parts like any value; the digest
    templates place them as finished HTML and text, never searching them for anything."""
    context = {"paper": paper_context(paper)}
    return {
        "title": context["paper"]["title"],
        "html": mark_safe(render_to_string("emails/digest_paper.html", context)),
        "links_html": mark_safe(render_to_string("emails/digest_paper_links.html", context)),
        "text": render_to_string("emails/digest_paper.txt", context).strip(),
    }


class DigestRenderer:
    """The day's papers as template data, once; each reader's digest context from them."""

    def __init__(self, papers: Iterable):
        self.papers = {paper.pk: paper_card(paper) for paper in papers}
        self.titles: dict[int, str] = {pk: card["title"] for pk, card in self.papers.items()}
        self.url_prefixes = {
            name: settings.SITE_URL + reverse(name, args=[TOKEN_SLOT]).split(TOKEN_SLOT)[0]
            for name in ("digest-web", "manage", "unsubscribe", "feedback")
        }

    def add_pinned(self, papers: Iterable) -> None:
        """Papers editors pinned, rendered here when they are not among the day's papers."""
        for paper in papers:
            if paper.pk not in self.papers:
                self.papers[paper.pk] = paper_card(paper)
                self.titles[paper.pk] = self.papers[paper.pk]["title"]

    def links(self, delivery_id: int | None, key: str, link_key: str = "") -> dict[str, str]:
        prefix = self.url_prefixes
        web = (
            prefix["digest-web"] + reader_token(key, link_key, "digest", delivery_id) + "/"
            if delivery_id
            else ""
        )
        return {
            "web_url": web or settings.SITE_URL + "/",
            "manage_url": prefix["manage"] + reader_token(key, link_key, "manage") + "/",
            "unsubscribe_url": prefix["unsubscribe"] + reader_token(key, link_key, "unsubscribe") + "/",
            "key": str(key),
            "link_key": link_key,
        }

    def feedback_links(self, key: str, link_key: str, paper_id: int) -> dict[str, str]:
        """👍, 👎 and "add to my papers" for one paper: one token scoped to (reader, paper)."""
        base = self.url_prefixes["feedback"] + reader_token(key, link_key, "feedback", paper_id) + "/"
        return {"more_url": base + "more/", "less_url": base + "less/", "save_url": base + "save/"}

    def item(self, pick, links: Mapping[str, str]) -> dict:
        return {
            "paper": self.papers[pick.paper_id],
            "reason": reason(pick),
            **self.feedback_links(links["key"], links["link_key"], pick.paper_id),
        }

    def context(self, picks: Sequence, issue_date: date, links: Mapping[str, str]) -> dict:
        """The context of templates/emails/digest.* for one reader: the papers in their sections
        (editors' pins, matches, trending), with a heading only when there are several."""
        parts = sections.split(picks)
        groups = [("pinned", parts.pinned), ("matched", parts.matched), ("trending", parts.trending)]
        groups = [(kind, group) for kind, group in groups if group]
        count = len(picks)
        top = parts.matched or picks
        return {
            **links,
            "issue_date": date_format(issue_date, "l, F j, Y"),
            "count": count,
            "count_phrase": f"{count} new paper{pluralize(count)}",
            "top_title": self.titles[top[0].paper_id],
            "preheader": ", ".join(self.titles[p.paper_id] for p in picks[:3]),
            "sections": [
                {
                    "kind": kind,
                    "heading": len(groups) > 1,
                    "items": [self.item(p, links) for p in group],
                }
                for kind, group in groups
            ],
        }

    def parts(self, picks: Sequence, issue_date: date, links: Mapping[str, str]) -> tuple[str, str, str]:
        """(subject, text, html) of one reader's digest."""
        return render("digest", self.context(picks, issue_date, links))

    def message(self, out, delivery_id: int | None = None, to: str | None = None) -> Email:
        """One reader's digest. `out` has key, link_key, email, issue_date and picks (digests.Outgoing)."""
        links = self.links(delivery_id, out.key, out.link_key)
        return build_message(
            "digest",
            self.context(out.picks, out.issue_date, links),
            to=to or out.email,
            headers={
                # RFC 8058 one-click unsubscribe: mailbox providers POST to this URL.
                "List-Unsubscribe": f"<{links['unsubscribe_url']}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
            tags=["digest"] if delivery_id else ["digest-test"],
            metadata={"delivery_id": str(delivery_id)} if delivery_id else {},
            esp_extra=digest_esp_extra(settings.EMAIL_BACKEND, settings.POSTMARK_DIGEST_STREAM),
        )


@functools.cache
def digest_esp_extra(backend: str, postmark_stream: str) -> dict[str, str]:
    """ESP-specific send parameters for digests: Postmark's Broadcast message stream."""
    if postmark_stream and issubclass(import_string(backend), PostmarkBackend):
        return {"MessageStream": postmark_stream}
    return {}


# How the section markers read on a paper's "why" line.
SECTION_REASONS = {
    sections.PINNED: "pinned by the editors",
    sections.TRENDING: "one of the day's most upvoted",
}


def reason(pick) -> str:
    if pick.reasons and pick.reasons[0] in SECTION_REASONS:
        return SECTION_REASONS[pick.reasons[0]]
    return "; ".join(pick.reasons[:2]) or "picked for you"
