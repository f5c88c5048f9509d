"""The ESP tracking webhook: /anymail/<ANYMAIL_ESP>/tracking/ and nothing else.

Anymail's own URLs mount a view for every ESP it supports; each unconfigured one is attack
surface that answers 500 without credentials. Only the configured ESP's tracking view is served
here, through Anymail's view class with three changes: the basic-auth check comes before the
body is read, a body in the wrong shape is a 400 (a 500 makes the ESP retry it for days), and a
signed timestamp must be recent (Mailgun and SendGrid sign one; without a freshness check a
signed request captured once can be replayed forever).
"""

import functools
import json
from datetime import datetime

from anymail.exceptions import AnymailAPIError, AnymailWebhookValidationFailure
from anymail.urls import urlpatterns as anymail_urls
from anymail.webhooks.base import AnymailBasicAuthMixin
from django.conf import settings
from django.http import Http404
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

# What an ESP's parser raises on a payload that is not in the shape it documents.
MALFORMED = (AnymailAPIError, ValueError, TypeError, KeyError, AttributeError, IndexError)


def mailgun_signed_at(request) -> str | None:
    """Mailgun signs `timestamp` + `token`: in the JSON body's `signature`, or as form fields."""
    if request.content_type == "application/json":
        return json.loads(request.body)["signature"]["timestamp"]
    return request.POST.get("timestamp")


def sendgrid_signed_at(request) -> str | None:
    return request.headers.get("X-Twilio-Email-Event-Webhook-Timestamp")


SIGNED_AT = {"Mailgun": mailgun_signed_at, "SendGrid": sendgrid_signed_at}


def is_fresh(signed_at: object, now: datetime, max_age: int) -> bool:
    """Whether a signed Unix timestamp is within `max_age` seconds of `now`, either way."""
    try:
        seconds = int(str(signed_at))
    except ValueError:
        return False
    return abs(int(now.timestamp()) - seconds) <= max_age


class Hardened:
    """Mixed in before one of Anymail's tracking views (see the module docstring)."""

    def run_validators(self, request):
        AnymailBasicAuthMixin.validate_request(self, request)  # credentials before anything else
        try:
            super().run_validators(request)
            signed_at = SIGNED_AT[self.esp_name](request) if self.esp_name in SIGNED_AT else None
        except MALFORMED as exc:
            raise AnymailWebhookValidationFailure(f"Malformed {self.esp_name} webhook") from exc
        max_age = settings.TRACKING_SIGNATURE_MAX_AGE
        if self.signs_timestamps() and not is_fresh(signed_at, timezone.now(), max_age):
            raise AnymailWebhookValidationFailure(
                f"{self.esp_name} webhook signed more than {max_age} seconds from now"
            )

    def signs_timestamps(self) -> bool:
        # SendGrid's signature is optional in Anymail; Mailgun's is required.
        if self.esp_name == "SendGrid":
            return bool(self.webhook_verification_key)
        return self.esp_name in SIGNED_AT

    def parse_events(self, request):
        try:
            return super().parse_events(request)
        except MALFORMED as exc:
            raise AnymailWebhookValidationFailure(f"Malformed {self.esp_name} webhook") from exc


@functools.cache
def tracking_view(esp: str):
    """Anymail's tracking view for an ESP module name ("postmark", "amazon_ses"...), hardened."""
    for pattern in anymail_urls:
        if pattern.name == f"{esp}_tracking_webhook":
            anymail_view = pattern.callback.view_class
            return type(anymail_view.__name__, (Hardened, anymail_view), {}).as_view()
    return None


@csrf_exempt
def tracking(request, esp: str):
    view = tracking_view(esp) if esp == settings.ANYMAIL_ESP else None
    if view is None:
        raise Http404("No tracking webhook for this ESP.")
    return view(request)
