"""Tiny builders for tracking tests."""

import datetime as dt
import itertools

from anymail.signals import AnymailTrackingEvent, tracking
from anymail.webhooks.postmark import PostmarkTrackingWebhookView

from newsletter.models import DigestDelivery, Subscriber

_numbers = itertools.count(1)
NOON = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)


def make_reader(email: str = "", status: str = Subscriber.Status.ACTIVE) -> Subscriber:
    return Subscriber.objects.create(email=email or f"reader{next(_numbers)}@example.com", status=status)


def make_delivery(reader: Subscriber, status: str = DigestDelivery.Status.SENT, esp_message_id="", **kw):
    return DigestDelivery.objects.create(
        subscriber=reader,
        issue_date=kw.pop("issue_date", dt.date(2026, 11, 24)),
        status=status,
        esp_message_id=esp_message_id,
        **kw,
    )


def fire(event_type: str, recipient: str, esp_name: str = "Postmark", **kw) -> None:
    """Send Anymail's tracking signal the way its webhook views do."""
    kw.setdefault("timestamp", NOON)
    kw.setdefault("message_id", f"msg-{next(_numbers)}")
    event = AnymailTrackingEvent(event_type=event_type, recipient=recipient, **kw)
    tracking.send(sender=PostmarkTrackingWebhookView, event=event, esp_name=esp_name)
