"""System checks that warn about configuration that is fine for development but not production."""

import re

from django.conf import settings
from django.core.checks import Warning, register

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
    if PLACEHOLDER_DOMAIN.search(settings.DEFAULT_FROM_EMAIL):
        warnings.append(
            Warning(
                f"DEFAULT_FROM_EMAIL is {settings.DEFAULT_FROM_EMAIL}.",
                hint="Set DEFAULT_FROM_EMAIL to an address on a domain your ESP has verified.",
                id="paperboy.W003",
            )
        )
    return warnings
