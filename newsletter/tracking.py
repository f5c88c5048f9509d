"""What ESPs tell us about our mail, applied once: Anymail's `tracking` signal has one receiver.

Every event is recorded as a DeliveryEvent and classified into a Kind that decides the policy:
hard bounces, complaints and invalid addresses suppress the address at once; unsubscribes
unsubscribe; repeated soft bounces pause the reader; a delivery confirms an `unknown` digest;
opens and clicks are only counted per day unless TRACKING_PER_READER is on.

ESPs resend events (sometimes without an event id), so each event gets a fingerprint and only
the request that inserts it applies the policy. The transitions themselves are conditional
updates, so distinct events that mean the same thing change nothing twice either. The only
exception that escapes is a database error: Anymail answers 500 and the ESP retries later.
"""

import hashlib
import json
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from anymail.signals import AnymailTrackingEvent, EventType, RejectReason, tracking
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.dispatch import receiver
from django.utils import timezone

from newsletter.addresses import normalize_email
from newsletter.models import (
    DeliveryEvent,
    DigestDelivery,
    EngagementCount,
    Subscriber,
    Suppression,
    email_hash,
)
from newsletter.payloads import delivery_id_from, event_time, shrink, storable

log = logging.getLogger(__name__)
Kind = DeliveryEvent.Kind
Status = Subscriber.Status

SUPPRESSING = {
    Kind.HARD_BOUNCE: Suppression.Reason.HARD_BOUNCE,
    Kind.COMPLAINT: Suppression.Reason.COMPLAINT,
    Kind.INVALID: Suppression.Reason.REJECTED,
}
REJECTED_KINDS = {
    RejectReason.BOUNCED: Kind.HARD_BOUNCE,
    RejectReason.SPAM: Kind.COMPLAINT,
    RejectReason.UNSUBSCRIBED: Kind.UNSUBSCRIBE,
    RejectReason.INVALID: Kind.INVALID,
}
SIMPLE_KINDS = {
    EventType.COMPLAINED: Kind.COMPLAINT,
    EventType.UNSUBSCRIBED: Kind.UNSUBSCRIBE,
    EventType.DEFERRED: Kind.SOFT_BOUNCE,
    EventType.FAILED: Kind.SOFT_BOUNCE,
    EventType.DELIVERED: Kind.DELIVERED,
    EventType.OPENED: Kind.ENGAGEMENT,
    EventType.CLICKED: Kind.ENGAGEMENT,
}
# Anymail reports these as `bounced`, but the ESP says the mailbox may work again later.
TEMPORARY_BOUNCES = {
    "Postmark": ("Type", {"SoftBounce"}),
    "Amazon SES": ("bounceType", {"Transient", "Undetermined"}),
    "SendGrid": ("type", {"blocked"}),
}


# --- Pure helpers (no database) ----------------------------------------------------------------


def classify(event_type: str, reject_reason: str | None, esp_name: str, esp_event: object) -> str:
    """The Kind of an Anymail event. `esp_event` refines what Anymail normalises away."""
    if event_type == EventType.BOUNCED:
        return Kind.SOFT_BOUNCE if is_temporary_bounce(esp_name, esp_event) else Kind.HARD_BOUNCE
    if event_type == EventType.REJECTED:
        if esp_name == "SendGrid" and _field(esp_event, "reason").lower() == "spam reporting address":
            return Kind.COMPLAINT
        return REJECTED_KINDS.get(reject_reason, Kind.OTHER)
    return SIMPLE_KINDS.get(event_type, Kind.OTHER)


def is_temporary_bounce(esp_name: str, esp_event: object) -> bool:
    field, values = TEMPORARY_BOUNCES.get(esp_name, ("", set()))
    if esp_name == "Amazon SES":
        esp_event = esp_event.get("bounce", {}) if isinstance(esp_event, dict) else {}
    return bool(field) and _field(esp_event, field) in values


def _field(esp_event: object, name: str) -> str:
    value = esp_event.get(name) if isinstance(esp_event, dict) else None
    return value if isinstance(value, str) else ""


def stable_event_id(event: AnymailTrackingEvent, esp_name: str) -> str:
    """The ESP's own id for the event when it survives retries, else Anymail's event_id."""
    if esp_name == "Mailgun" and isinstance(event.esp_event, dict):
        # Anymail uses the signature token, which a re-signed retry would change.
        event_data = event.esp_event.get("event-data") or {}
        if isinstance(event_data, dict) and event_data.get("id"):
            return str(event_data["id"])
    return str(event.event_id or "")


def fingerprint(esp_name: str, event_type: str, message_id: str, recipient: str, when, event_id: str) -> str:
    stamp = when.isoformat() if isinstance(when, datetime) else ""
    parts = [esp_name, event_type, message_id, recipient, stamp, event_id]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def small_raw(esp_event: object, recipient: str, limit: int = 4000) -> dict:
    """What the ESP sent, shrunk, with the reader's address replaced (ids are logged, not emails)."""
    if hasattr(esp_event, "lists"):  # a QueryDict from a form-encoded webhook
        esp_event = {k: v[0] if len(v) == 1 else v for k, v in esp_event.lists()}
    if not isinstance(esp_event, dict):
        esp_event = {"event": esp_event}
    raw = shrink(esp_event)
    if len(json.dumps(raw)) > limit:
        raw = {k: v for k, v in raw.items() if not isinstance(v, (dict, list))}
    text = json.dumps(raw)
    if recipient:
        text = text.replace(recipient, "<recipient>")
    return json.loads(text)


# --- The receiver ------------------------------------------------------------------------------


@receiver(tracking, dispatch_uid="newsletter.tracking")
def handle_tracking_event(sender, event: AnymailTrackingEvent, esp_name: str, **kwargs) -> None:
    record_event(event, esp_name)


def record_event(event: AnymailTrackingEvent, esp_name: str) -> DeliveryEvent:
    """Store the event once and apply the policy the first time it is seen."""
    event_type = storable(event.event_type, 20)
    kind = classify(event_type, event.reject_reason, esp_name, event.esp_event)
    recipient = normalize_email(storable(event.recipient, 254))
    when = event_time(event.timestamp, timezone.now())
    message_id = storable(event.message_id, 200)
    event_id = storable(stable_event_id(event, esp_name), 200)
    key = fingerprint(esp_name, event_type, message_id, recipient, when, event_id)
    per_reader = kind != Kind.ENGAGEMENT or settings.TRACKING_PER_READER
    with transaction.atomic():
        delivery = find_delivery(event.metadata, message_id) if per_reader else None
        subscriber = find_subscriber(recipient, delivery) if per_reader else None
        row, created = DeliveryEvent.objects.get_or_create(
            fingerprint=key,
            defaults={
                "event_type": event_type,
                "kind": kind,
                "esp": esp_name[:30],
                # Without per-reader tracking an open keeps nothing that leads back to a reader.
                "message_id": message_id if per_reader else "",
                "event_id": event_id if per_reader else "",
                "delivery": delivery,
                "subscriber": subscriber,
                "occurred_at": when or timezone.now(),
                "reject_reason": storable(event.reject_reason, 30),
                "description": storable(event.description, 500) or storable(event.mta_response, 500),
                "raw": small_raw(event.esp_event, recipient) if per_reader else {},
            },
        )
        if created:
            apply_policy(row, recipient or (subscriber.email if subscriber else ""))
    return row


def find_delivery(metadata: object, message_id: str) -> DigestDelivery | None:
    """Our digest, by the delivery_id we put in the metadata, else by the ESP's message id."""
    deliveries = DigestDelivery.objects.select_related("subscriber")
    delivery_id = delivery_id_from(metadata)
    if delivery_id is not None:
        delivery = deliveries.filter(pk=delivery_id).first()
        if delivery:
            return delivery
    return deliveries.filter(esp_message_id=message_id).first() if message_id else None


def find_subscriber(recipient: str, delivery: DigestDelivery | None) -> Subscriber | None:
    """The reader at the address the ESP names. A reader who has since changed address is
    left alone: the event is about the old address."""
    if recipient:
        return Subscriber.objects.filter(email=recipient).first()
    return delivery.subscriber if delivery else None


def apply_policy(event: DeliveryEvent, address: str) -> None:
    if not (event.subscriber_id or event.delivery_id):
        # Not our reader and not our digest: anyone with webhook access (or an ESP account
        # shared with other senders) must not be able to fill the suppression list.
        address = ""
    if event.kind in SUPPRESSING:
        suppress(address, SUPPRESSING[event.kind], event)
    elif event.kind == Kind.UNSUBSCRIBE:
        unsubscribe(address, event)
    elif event.kind == Kind.SOFT_BOUNCE:
        pause_if_bouncing(event.subscriber)
    elif event.kind == Kind.DELIVERED and event.delivery:
        mark_delivered(event.delivery, event.message_id, event.occurred_at)
    elif event.kind == Kind.ENGAGEMENT:
        count_engagement(event.event_type, event.occurred_at)


def suppress(address: str, reason: str, event: DeliveryEvent) -> None:
    if address:
        Suppression.objects.get_or_create(
            email_hash=email_hash(address), defaults={"reason": reason, "source": f"{event.esp} webhook"}
        )
    if event.subscriber_id:
        changed = event.subscriber.transition("suppress", esp_consent(event))
        if changed:
            log.info("subscriber %s suppressed: %s (event %s)", event.subscriber_id, reason, event.pk)


def unsubscribe(address: str, event: DeliveryEvent) -> None:
    """The reader unsubscribed through the ESP (e.g. one-click List-Unsubscribe)."""
    if address:
        Suppression.objects.get_or_create(
            email_hash=email_hash(address),
            defaults={"reason": Suppression.Reason.UNSUBSCRIBED, "source": f"{event.esp} webhook"},
        )
    if event.subscriber_id and event.subscriber.transition("unsubscribe", esp_consent(event)):
        log.info("subscriber %s unsubscribed at the ESP (event %s)", event.subscriber_id, event.pk)


def pause_if_bouncing(subscriber: Subscriber | None) -> None:
    if subscriber is None or subscriber.status != Status.ACTIVE:
        return
    bouncing = soft_bounced_messages(subscriber.pk) >= settings.TRACKING_SOFT_BOUNCE_LIMIT
    if bouncing and subscriber.transition("pause_bouncing", {"choices": {"source": "repeated soft bounces"}}):
        log.info("subscriber %s paused after repeated soft bounces", subscriber.pk)


def soft_bounced_messages(subscriber_id: int) -> int:
    """Distinct messages to this reader that soft-bounced within the window and were never
    delivered: a greylisted digest that arrives an hour later does not count."""
    since = timezone.now() - timedelta(days=settings.TRACKING_SOFT_BOUNCE_WINDOW_DAYS)
    recent = DeliveryEvent.objects.filter(subscriber_id=subscriber_id, occurred_at__gte=since)
    delivered = recent.filter(kind=Kind.DELIVERED).exclude(message_id="").values("message_id")
    bounced = recent.filter(kind=Kind.SOFT_BOUNCE).exclude(message_id__in=delivered)
    return bounced.values("message_id").distinct().count()


def esp_consent(event: DeliveryEvent) -> dict:
    """The ConsentRecord fields for a status change the ESP reported."""
    return {"choices": {"source": f"{event.esp} webhook", "event": event.pk}}


def mark_delivered(delivery: DigestDelivery, message_id: str, when: datetime) -> bool:
    """The ESP delivered a digest whose send result we never learnt: it was sent after all."""
    return DigestDelivery.objects.filter(pk=delivery.pk).confirm_delivered(message_id, when) == 1


def confirm_unknown(delivery_ids: Sequence[int] | None = None) -> int:
    """Move 'unknown' digests the ESP has reported delivered to 'sent'."""
    rows = DigestDelivery.objects.all()
    if delivery_ids is not None:
        rows = rows.filter(pk__in=delivery_ids)
    confirmed = rows.confirm_reported()
    if confirmed:
        log.info("%d 'unknown' digests were confirmed delivered by the ESP", confirmed)
    return confirmed


def count_engagement(event_type: str, when: datetime) -> None:
    counter, _ = EngagementCount.objects.get_or_create(day=timezone.localdate(when), event_type=event_type)
    EngagementCount.objects.filter(pk=counter.pk).update(count=F("count") + 1)


def link_events(delivery_id: int) -> int:
    """Attach events that arrived before the sender stored this digest's ESP message id and
    named no delivery id (ESPs that do not echo metadata); a `delivered` among them confirms an
    `unknown` digest. Returns how many events were attached."""
    delivery = DigestDelivery.objects.filter(pk=delivery_id).exclude(esp_message_id="").first()
    if delivery is None:
        return 0
    orphans = DeliveryEvent.objects.filter(delivery=None, message_id=delivery.esp_message_id)
    delivered = orphans.filter(kind=Kind.DELIVERED).order_by("occurred_at").first()
    attached = orphans.update(delivery=delivery)
    if delivered:
        mark_delivered(delivery, delivered.message_id, delivered.occurred_at)
    return attached


# --- Housekeeping (hourly, newsletter.tasks.tracking_housekeeping) -------------------------------

LINK_LOOKBACK = timedelta(days=2)
KEEP_ANONYMOUS_ENGAGEMENT = timedelta(days=30)


def link_orphans(now: datetime) -> int:
    """Attach recent events that arrived before their digest's ESP message id was stored."""
    orphans = DeliveryEvent.objects.filter(delivery=None, received_at__gte=now - LINK_LOOKBACK)
    message_ids = orphans.exclude(message_id="").values("message_id")
    deliveries = DigestDelivery.objects.filter(esp_message_id__in=message_ids).values_list("pk", flat=True)
    return sum(link_events(pk) for pk in deliveries)


def prune_engagement(now: datetime) -> int:
    """Anonymous open/click rows only exist to recognise replays; the daily counts stay."""
    old = DeliveryEvent.objects.filter(
        kind=Kind.ENGAGEMENT, subscriber=None, delivery=None, occurred_at__lt=now - KEEP_ANONYMOUS_ENGAGEMENT
    )
    return old.delete()[0]
