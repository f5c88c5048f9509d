"""Site-wide request guards."""

import logging

from django.conf import settings
from django.http import HttpResponse

log = logging.getLogger(__name__)


class WebhookSecretRequired:
    """With DEBUG off, ESP tracking webhooks are refused until ANYMAIL_WEBHOOK_SECRET is set:
    without it anyone could post bounces and complaints and get readers suppressed. The answer
    is a 503 so the ESP keeps retrying its events until the operator sets the secret."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        unguarded = not settings.DEBUG and not settings.ANYMAIL.get("WEBHOOK_SECRET")
        # Only the configured ESP's webhook exists (newsletter/webhooks.py); others are 404s.
        if unguarded and request.path == f"/anymail/{settings.ANYMAIL_ESP}/tracking/":
            log.error("tracking webhook refused: ANYMAIL_WEBHOOK_SECRET is not set (paperboy.W004)")
            return HttpResponse(
                "Tracking webhooks are off until ANYMAIL_WEBHOOK_SECRET is set.",
                status=503,
                content_type="text/plain",
            )
        return self.get_response(request)
