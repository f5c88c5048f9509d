"""The one email builder: every message is templates/emails/<name>.subject.txt, .txt and .html."""

import base64
import functools
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import date

from anymail.backends.postmark import EmailBackend as PostmarkBackend
from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.mail import EmailMultiAlternatives
from django.template.defaultfilters import pluralize
from django.template.loader import get_template, render_to_string
from django.urls import reverse
from django.utils.dateformat import format as date_format
from django.utils.html import escape
from django.utils.module_loading import import_string

from newsletter.tokens import make_token
from papers.mathtext import to_text


class Email(EmailMultiAlternatives):
    """A multipart/alternative message whose MIME form (SMTP, raw-MIME ESP APIs such as Amazon SES)
    is built in a fraction of the standard library's time. API ESPs read the fields, not this."""

    def message(self):
        subject = self.subject
        # The stdlib's RFC 2047 encoder measures every prefix of the subject in both encodings
        # (quadratic); a non-ASCII subject is encoded here in one pass instead.
        self.subject = encoded_words(subject)
        try:
            msg = super().message()
        finally:
            self.subject = subject
        if msg.is_multipart():
            # Left unset, the generator draws random boundaries and searches the whole body for
            # each one; a random UUID will not occur in the body.
            msg.set_boundary(f"=_{uuid.uuid4().hex}")
        return msg


def encoded_words(value: str) -> str:
    """A header value as RFC 2047 base64 encoded-words of at most 75 characters each, split
    between characters (never inside one); ASCII values pass through unchanged."""
    if value.isascii():
        return value
    words, chunk, size = [], [], 0
    for char in value:
        length = len(char.encode())
        if size + length > 45:  # 45 bytes -> 60 base64 characters + 12 of framing
            words.append("".join(chunk))
            chunk, size = [], 0
        chunk.append(char)
        size += length
    words.append("".join(chunk))
    return " ".join(f"=?utf-8?b?{base64.b64encode(word.encode()).decode()}?=" for word in words)


def build_message(
    name: str,
    context: Mapping,
    to: str,
    headers: Mapping[str, str] | None = None,
    tags: list[str] | None = None,
    metadata: Mapping[str, str] | None = None,
) -> Email:
    context = {
        "SITE_NAME": settings.SITE_NAME,
        "SITE_URL": settings.SITE_URL,
        "postal_address": settings.NEWSLETTER_POSTAL_ADDRESS,
        **context,
    }
    # Subjects are single lines: a stray newline would be a header injection.
    subject = " ".join(render_to_string(f"emails/{name}.subject.txt", context).split())
    message = Email(
        subject=subject,
        body=render_to_string(f"emails/{name}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers=dict(headers or {}),
    )
    message.attach_alternative(render_to_string(f"emails/{name}.html", context), "text/html")
    # Read by Anymail's backends (and recorded by its test backend); ignored by the others.
    message.tags = list(tags or [name])
    message.metadata = dict(metadata or {})
    return message


# --- The daily digest ---------------------------------------------------------------------------
# A personalised digest differs between readers only in which papers, why, and the links. Each
# paper's fragment and the surrounding shell are rendered once per day with %%SLOT%% markers;
# assembling a reader's email is then string joins, ~100x cheaper than a template render.

SLOT = re.compile(r"%%([A-Z_]+)%%")
TOKEN_SLOT = "TOKENSLOT"


def split_slots(rendered: str) -> list[str]:
    """'a %%X%% b' -> ['a ', 'X', ' b']: literals at even positions, slot names at odd ones."""
    return SLOT.split(rendered)


def fill_slots(parts: list[str], values: Mapping[str, str]) -> str:
    return "".join(values[part] if i % 2 else part for i, part in enumerate(parts))


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


class DigestRenderer:
    """Renders the day's papers once; builds each reader's digest from the pieces."""

    def __init__(self, papers: Iterable):
        base = {"SITE_NAME": settings.SITE_NAME, "postal_address": settings.NEWSLETTER_POSTAL_ADDRESS}
        self.titles: dict[int, str] = {}
        self.html: dict[int, list[str]] = {}
        self.text: dict[int, list[str]] = {}
        for paper in papers:
            context = {**base, **paper_context(paper)}
            self.titles[paper.pk] = context["title"]
            self.html[paper.pk] = split_slots(render_to_string("emails/digest_paper.html", context))
            self.text[paper.pk] = split_slots(render_to_string("emails/digest_paper.txt", context).strip())
        slots = {
            name: f"%%{name.upper()}%%" for name in ("issue_date", "count_phrase", "papers", "preheader")
        }
        slots |= {f"{name}_url": f"%%{name.upper()}_URL%%" for name in ("web", "manage", "unsubscribe")}
        self.html_shell = split_slots(render_to_string("emails/digest.html", {**base, **slots}))
        self.text_shell = split_slots(render_to_string("emails/digest.txt", {**base, **slots}))
        self.subject = get_template("emails/digest.subject.txt")
        self.url_prefixes = {
            name: settings.SITE_URL + reverse(name, args=[TOKEN_SLOT]).split(TOKEN_SLOT)[0]
            for name in ("digest-web", "manage", "unsubscribe")
        }

    def links(self, delivery_id: int | None, key: str) -> dict[str, str]:
        prefix = self.url_prefixes
        web = prefix["digest-web"] + make_token(delivery_id, "digest") + "/" if delivery_id else ""
        return {
            "WEB_URL": web or settings.SITE_URL + "/",
            "MANAGE_URL": prefix["manage"] + make_token(key, "manage") + "/",
            "UNSUBSCRIBE_URL": prefix["unsubscribe"] + make_token(key, "unsubscribe") + "/",
        }

    def parts(self, picks: Sequence, issue_date: date, links: Mapping[str, str]) -> tuple[str, str, str]:
        """(subject, text, html) of one reader's digest."""
        count = len(picks)
        values = {
            **links,
            "ISSUE_DATE": date_format(issue_date, "l, F j, Y"),
            "COUNT_PHRASE": f"{count} new paper{pluralize(count)}",
        }
        values["PREHEADER"] = escape(", ".join(self.titles[p.paper_id] for p in picks[:3]))
        values["PAPERS"] = "".join(
            fill_slots(self.html[p.paper_id], {"REASON": escape(reason(p))}) for p in picks
        )
        html = fill_slots(self.html_shell, values)
        values["PAPERS"] = "\n\n".join(
            fill_slots(self.text[p.paper_id], {"REASON": reason(p)}) for p in picks
        )
        text = fill_slots(self.text_shell, values)
        subject = self.subject.render({"count": count, "top_title": self.titles[picks[0].paper_id]})
        return " ".join(subject.split()), text, html

    def message(self, out, delivery_id: int | None = None, to: str | None = None) -> Email:
        """One reader's digest. `out` has key, email, issue_date and picks (digests.Outgoing)."""
        links = self.links(delivery_id, out.key)
        subject, text, html = self.parts(out.picks, out.issue_date, links)
        message = Email(
            subject=subject,
            body=text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[to or out.email],
            headers={
                # RFC 8058 one-click unsubscribe: mailbox providers POST to this URL.
                "List-Unsubscribe": f"<{links['UNSUBSCRIBE_URL']}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        )
        message.attach_alternative(html, "text/html")
        message.tags = ["digest"] if delivery_id else ["digest-test"]
        message.metadata = {"delivery_id": str(delivery_id)} if delivery_id else {}
        extra = digest_esp_extra(settings.EMAIL_BACKEND, settings.POSTMARK_DIGEST_STREAM)
        if extra:
            message.esp_extra = extra
        return message


@functools.cache
def digest_esp_extra(backend: str, postmark_stream: str) -> dict[str, str]:
    """ESP-specific send parameters for digests: Postmark's Broadcast message stream."""
    if postmark_stream and issubclass(import_string(backend), PostmarkBackend):
        return {"MessageStream": postmark_stream}
    return {}


def reason(pick) -> str:
    return "; ".join(pick.reasons[:2]) or "picked for you"
