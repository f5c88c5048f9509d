"""A reader's rights over their data: "Download my data" and "Delete me"."""

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from newsletter import ratelimit, reader_signals
from newsletter.models import DeliveryEvent, Subscriber, Suppression, email_hash
from newsletter.preferences import preferences_of
from newsletter.subscriptions import EMAIL_STATES, enqueue_email

log = logging.getLogger(__name__)


def email_data_link(subscriber: Subscriber, purpose: str) -> bool:
    """Mail the reader a short-lived link to download ("export") or delete ("erase") their data:
    a manage link can be forwarded, so these two ask the mailbox again. False if not sent."""
    if subscriber.status not in EMAIL_STATES[purpose] or not ratelimit.allow_email_to(subscriber.email):
        return False
    enqueue_email(subscriber.pk, purpose)
    log.info("subscriber %s asked for a link to %s their data", subscriber.pk, purpose)
    return True


def export_data(subscriber: Subscriber) -> dict[str, Any]:
    """Everything stored about one reader, as JSON-able data ("Download my data")."""
    deliveries = subscriber.deliveries.order_by("issue_date").values(
        "issue_date",
        "status",
        "paper_ids",
        "reasons",
        "planned_at",
        "sent_at",
        "attempts",
        "error",
        "esp_message_id",
    )
    events = DeliveryEvent.objects.filter(subscriber=subscriber).order_by("occurred_at")
    return {
        "email": subscriber.email,
        "status": subscriber.status,
        "preferences": preferences_of(subscriber),
        # Choices from a sign-up that wait for the emailed confirmation (None: nothing waiting).
        "pending_choices": subscriber.pending_choices,
        # Ratings, seed papers, follows, mutes and the trending dial.
        "taught": reader_signals.export(subscriber),
        "created_at": subscriber.created_at,
        "confirmed_at": subscriber.confirmed_at,
        "unsubscribed_at": subscriber.unsubscribed_at,
        "status_changed_at": subscriber.status_changed_at,
        "last_digest_at": subscriber.last_digest_at,
        "consents": [
            {
                "action": consent.action,
                "at": consent.created_at,
                "ip_address": consent.ip_address,
                "user_agent": consent.user_agent,
                "consent_version": consent.consent_version,
                "choices": consent.choices,
            }
            for consent in subscriber.consents.all()
        ],
        "deliveries": list(deliveries),
        "email_events": [
            {
                "type": event.event_type,
                "at": event.occurred_at,
                "esp": event.esp,
                "message_id": event.message_id,
                "reject_reason": event.reject_reason,
                "description": event.description,
                "raw": event.raw,  # as the ESP reported it, trimmed
            }
            for event in events
        ],
    }


@transaction.atomic
def erase(subscriber: Subscriber) -> None:
    """Delete the reader and their consents; keep only a hash so the address needs fresh consent."""
    subscriber_id = subscriber.pk
    # ESP payloads name the recipient: keep the event (for delivery statistics) without them.
    DeliveryEvent.objects.filter(subscriber=subscriber).update(subscriber=None, raw={}, description="")
    Suppression.objects.update_or_create(
        email_hash=email_hash(subscriber.email),
        defaults={"reason": Suppression.Reason.ERASED, "source": "reader", "created_at": timezone.now()},
    )
    subscriber.delete()
    log.info("subscriber %s erased", subscriber_id)
