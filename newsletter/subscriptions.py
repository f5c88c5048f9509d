"""The subscription lifecycle as plain functions: sign-up, confirm, preferences, pause/resume,
unsubscribe, export and erasure. Views and the admin call these; they never touch models directly.

Every state change writes a ConsentRecord, so the history of what a reader agreed to survives
later edits (and goes with them when they ask to be erased).
"""

import logging
import uuid
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from newsletter import ratelimit, subscription_mail
from newsletter.emails import build_message
from newsletter.models import ConsentRecord, DeliveryEvent, Subscriber, Suppression, email_hash
from newsletter.tokens import BadToken, make_token, read_token

log = logging.getLogger(__name__)

# Bump when the wording next to the sign-up button changes; stored with every consent.
CONSENT_VERSION = "signup-form-v1"
PREFERENCE_FIELDS = (
    "frequency",
    "digest_size",
    "delivery_hour",
    "time_zone",
    "delivery_weekday",
    "interests",
)
Status = Subscriber.Status
Action = ConsentRecord.Action


class SubscriberGone(BadToken):
    """A genuine link to a reader who has since been erased."""


def find_subscriber(token: str, purpose: str) -> Subscriber:
    """The subscriber a signed link points to, or BadToken (SubscriberGone when the link is
    genuine but the reader was erased)."""
    try:
        key = uuid.UUID(read_token(token, purpose))
    except ValueError as exc:
        raise BadToken(str(exc)) from exc
    try:
        return Subscriber.objects.get(key=key)
    except Subscriber.DoesNotExist as exc:
        raise SubscriberGone(str(key)) from exc


def path_for(subscriber: Subscriber, purpose: str) -> str:
    """The site path of a signed link, e.g. /manage/<token>/ (URL name == token purpose)."""
    return reverse(purpose, args=[make_token(subscriber.key, purpose)])


def link(subscriber: Subscriber, purpose: str) -> str:
    """Absolute signed link for emails."""
    return settings.SITE_URL + path_for(subscriber, purpose)


def preferences_of(subscriber: Subscriber) -> dict[str, Any]:
    """What the reader chose, as plain JSON-able data (stored with consents and exported)."""
    prefs = {name: getattr(subscriber, name) for name in PREFERENCE_FIELDS}
    prefs["topics"] = sorted(subscriber.topics.values_list("slug", flat=True))
    return prefs


def record(subscriber: Subscriber, action: str, ip: str | None = None, user_agent: str = "") -> None:
    ConsentRecord.objects.create(
        subscriber=subscriber,
        action=action,
        ip_address=ip or None,
        user_agent=user_agent[:300],
        consent_version=CONSENT_VERSION,
        choices=preferences_of(subscriber),
    )


def _apply(subscriber: Subscriber, prefs: Mapping[str, Any]) -> None:
    for name in PREFERENCE_FIELDS:
        setattr(subscriber, name, prefs[name])
    subscriber.save()
    subscriber.topics.set(prefs["topics"])


# One transaction with the outbox row: the confirmation is never lost, nor sent for a sign-up
# that was rolled back.
@transaction.atomic
def sign_up(prefs: Mapping[str, Any], ip: str | None = None, user_agent: str = "") -> None:
    """Start (or restart) double opt-in for prefs["email"]; the same outcome for every address.

    A confirmed reader keeps their settings and is emailed a link to manage them; anyone else
    (new, pending, unsubscribed, suppressed, erased) becomes pending with the new choices.
    """
    try:
        kind, subscriber_id = _sign_up(prefs, ip, user_agent)
    except IntegrityError:  # the same new address signed up twice at once: the row exists now
        kind, subscriber_id = _sign_up(prefs, ip, user_agent)
    if ratelimit.allow_email_to(prefs["email"]):
        enqueue_email(subscriber_id, kind)
    else:
        log.info("sign-up email for subscriber %s skipped: daily limit", subscriber_id)


@transaction.atomic
def _sign_up(prefs: Mapping[str, Any], ip: str | None, user_agent: str) -> tuple[str, int]:
    subscriber = Subscriber.objects.select_for_update().filter(email=prefs["email"]).first()
    if subscriber and subscriber.status in (Status.ACTIVE, Status.PAUSED):
        return "already_subscribed", subscriber.pk
    subscriber = subscriber or Subscriber(email=prefs["email"])
    subscriber.set_status(Status.PENDING)
    _apply(subscriber, prefs)
    record(subscriber, Action.SIGNUP, ip, user_agent)
    log.info("subscriber %s signed up, pending confirmation", subscriber.pk)
    return "confirm", subscriber.pk


def resend_link(email: str) -> None:
    """ "Send me my link again": pending readers get a new confirmation, confirmed ones a manage link."""
    subscriber = Subscriber.objects.filter(email=email).first()
    if not subscriber or subscriber.status not in (Status.PENDING, Status.ACTIVE, Status.PAUSED):
        return
    if ratelimit.allow_email_to(email):
        kind = "confirm" if subscriber.status == Status.PENDING else "already_subscribed"
        enqueue_email(subscriber.pk, kind)


def enqueue_email(subscriber_id: int, kind: str) -> None:
    """Through the outbox: written with the caller's transaction, sent (and retried) by a worker."""
    subscription_mail.queue(subscriber_id, kind)


# Which emails still make sense in which state, checked again when the task runs.
EMAIL_STATES = {
    "confirm": {Status.PENDING},
    "already_subscribed": {Status.ACTIVE, Status.PAUSED},
}


def send_subscription_email(subscriber_id: int, kind: str) -> bool:
    """Send one lifecycle email if the reader is still in a state it applies to."""
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is None or subscriber.status not in EMAIL_STATES[kind]:
        log.info("%s email for subscriber %s not sent: no longer applies", kind, subscriber_id)
        return False
    context = {
        "subscriber": subscriber,
        "confirm_url": link(subscriber, "confirm"),
        "manage_url": link(subscriber, "manage"),
        "unsubscribe_url": link(subscriber, "unsubscribe"),
    }
    build_message(kind, context, to=subscriber.email, metadata={"subscriber": str(subscriber.pk)}).send()
    log.info("%s email sent to subscriber %s", kind, subscriber_id)
    return True


@transaction.atomic
def confirm(subscriber: Subscriber, ip: str | None = None, user_agent: str = "") -> bool:
    """Pending -> active. True if this call confirmed; confirming twice is harmless."""
    subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
    if subscriber.status != Status.PENDING:
        return False
    subscriber.set_status(Status.ACTIVE)
    subscriber.confirmed_at = subscriber.status_changed_at
    subscriber.unsubscribed_at = None
    subscriber.save()
    # Fresh double opt-in is exactly what a suppressed or erased address needed.
    Suppression.objects.filter(email_hash=email_hash(subscriber.email)).delete()
    record(subscriber, Action.CONFIRM, ip, user_agent)
    log.info("subscriber %s confirmed", subscriber.pk)
    return True


def describe_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Human sentences for what a preferences save changed (pure: compares two preferences_of())."""
    labels = {
        "topics": "Topics",
        "interests": "Interests",
        "frequency": "Frequency",
        "digest_size": "Papers per email",
        "delivery_hour": "Delivery hour",
        "time_zone": "Time zone",
        "delivery_weekday": "Weekly delivery day",
    }
    changes = []
    for name, label in labels.items():
        old, new = before.get(name), after.get(name)
        if old != new:
            changes.append(f"{label}: {_show(name, old)} → {_show(name, new)}")
    return changes


def _show(name: str, value: Any) -> str:
    if name == "topics":
        return ", ".join(value) or "none"
    if name == "delivery_hour":
        return f"{value:02d}:00"
    if name == "delivery_weekday":
        return ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")[value]
    if name == "frequency":
        return Subscriber.Frequency(value).label
    return str(value) if value != "" else "none"


@transaction.atomic
def update_preferences(
    subscriber: Subscriber, prefs: Mapping[str, Any], ip: str | None = None, user_agent: str = ""
) -> list[str]:
    """Save new choices; returns what changed (nothing recorded when nothing changed)."""
    before = _as_shown(subscriber)
    _apply(subscriber, prefs)
    changes = describe_changes(before, _as_shown(subscriber))
    if changes:
        record(subscriber, Action.CHANGE, ip, user_agent)
        log.info("subscriber %s changed preferences", subscriber.pk)
    return changes


def _as_shown(subscriber: Subscriber) -> dict[str, Any]:
    """Preferences with topic names (not slugs), for telling the reader what changed."""
    return {**preferences_of(subscriber), "topics": sorted(t.name for t in subscriber.topics.all())}


# action -> (states it applies to, new state, consent action)
TRANSITIONS = {
    "pause": ({Status.ACTIVE}, Status.PAUSED, Action.PAUSE),
    "resume": ({Status.PAUSED}, Status.ACTIVE, Action.RESUME),
    "unsubscribe": ({Status.PENDING, Status.ACTIVE, Status.PAUSED}, Status.UNSUBSCRIBED, Action.UNSUBSCRIBE),
}


@transaction.atomic
def change_status(subscriber: Subscriber, action: str, ip: str | None = None, user_agent: str = "") -> bool:
    """Pause, resume or unsubscribe. False (and nothing written) when it does not apply: idempotent."""
    allowed_from, new_status, consent_action = TRANSITIONS[action]
    locked = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
    if locked.status not in allowed_from:
        subscriber.status = locked.status
        return False
    locked.set_status(new_status)
    if new_status == Status.UNSUBSCRIBED:
        locked.unsubscribed_at = locked.status_changed_at
    locked.save()
    record(locked, consent_action, ip, user_agent)
    subscriber.refresh_from_db()
    log.info("subscriber %s: %s", subscriber.pk, action)
    return True


def resubscribe(subscriber: Subscriber, ip: str | None = None, user_agent: str = "") -> None:
    """An unsubscribed reader asks to come back: same path as signing up again (fresh opt-in)."""
    sign_up({"email": subscriber.email, **preferences_of_objects(subscriber)}, ip, user_agent)
    subscriber.refresh_from_db()


def preferences_of_objects(subscriber: Subscriber) -> dict[str, Any]:
    prefs = {name: getattr(subscriber, name) for name in PREFERENCE_FIELDS}
    prefs["topics"] = list(subscriber.topics.all())
    return prefs


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
