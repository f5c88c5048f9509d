"""The one email builder: every message is templates/emails/<name>.subject.txt, .txt and .html."""

from collections.abc import Mapping

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def build_message(
    name: str,
    context: Mapping,
    to: str,
    headers: Mapping[str, str] | None = None,
    tags: list[str] | None = None,
    metadata: Mapping[str, str] | None = None,
) -> EmailMultiAlternatives:
    context = {
        "SITE_NAME": settings.SITE_NAME,
        "SITE_URL": settings.SITE_URL,
        "postal_address": settings.NEWSLETTER_POSTAL_ADDRESS,
        **context,
    }
    # Subjects are single lines: a stray newline would be a header injection.
    subject = " ".join(render_to_string(f"emails/{name}.subject.txt", context).split())
    message = EmailMultiAlternatives(
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
