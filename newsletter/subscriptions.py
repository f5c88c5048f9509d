"""The subscription lifecycle as plain functions: sign-up, confirm, preferences, pause/resume and
unsubscribe (export and erasure: newsletter/privacy.py). Views and the admin call these; they
never touch models directly.

Every state change writes a ConsentRecord, so the history of what a reader agreed to survives
later edits (and goes with them when they ask to be erased).
"""

import logging
import secrets
from collections.abc import Mapping
from typing import Any, NamedTuple

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse

from newsletter import ratelimit, reader_signals, subscription_mail
from newsletter.addresses import InvalidAddress, canonical_email
from newsletter.emails import build_message
from newsletter.first_digest import plan_first_digest
from newsletter.models import ConsentRecord, Subscriber, Suppression, email_hash
from newsletter.tokens import PURPOSES, BadToken, read_reader_token, reader_token
from papers.models import Topic

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
    "muted",
    "trending",
)
Status = Subscriber.Status
Action = ConsentRecord.Action


class SubscriberGone(BadToken):
    """A genuine link to a reader who has since been erased."""


class SignedOut(BadToken):
    """A genuine link made before the reader signed out their links."""


class Opened(NamedTuple):
    subscriber: Subscriber
    extra: str  # the value signed with the reader, e.g. a delivery id
    current: bool  # made with the reader's current link key


def find_link(token: str, purpose: str) -> Opened:
    """The reader a signed link points to, or BadToken: SubscriberGone when the reader was
    erased, SignedOut when the link predates their link key (unless the purpose survives that)."""
    found = read_reader_token(token, purpose)
    subscriber = Subscriber.objects.filter(key=found.key).first()
    if subscriber is None:
        raise SubscriberGone(str(found.key))
    current = secrets.compare_digest(found.link_key, subscriber.link_key)
    if not current and not PURPOSES[purpose].survives_sign_out:
        raise SignedOut(str(found.key))
    return Opened(subscriber, found.extra, current)


def find_subscriber(token: str, purpose: str) -> Subscriber:
    return find_link(token, purpose).subscriber


def token_for(subscriber: Subscriber, purpose: str, extra: object = "") -> str:
    """The one way to sign a link for a reader: it carries their current link key."""
    return reader_token(subscriber.key, subscriber.link_key, purpose, extra)


def path_for(subscriber: Subscriber, purpose: str, extra: object = "") -> str:
    """The site path of a signed link, e.g. /manage/<token>/ (URL name == token purpose)."""
    return reverse(purpose, args=[token_for(subscriber, purpose, extra)])


def link(subscriber: Subscriber, purpose: str, extra: object = "") -> str:
    """Absolute signed link for emails."""
    return settings.SITE_URL + path_for(subscriber, purpose, extra)


def preferences_of(subscriber: Subscriber) -> dict[str, Any]:
    """What the reader chose, as plain JSON-able data (stored with consents and exported)."""
    prefs = {name: getattr(subscriber, name) for name in PREFERENCE_FIELDS}
    prefs["topics"] = sorted(subscriber.topics.values_list("slug", flat=True))
    prefs.update(reader_signals.taught(subscriber))
    return prefs


def consent(
    subscriber: Subscriber, ip: str | None = None, user_agent: str = "", choices: Mapping | None = None
) -> dict[str, Any]:
    """The fields of a ConsentRecord for something the reader did (choices: what they chose)."""
    return {
        "ip_address": ip or None,
        "user_agent": user_agent[:300],
        "consent_version": CONSENT_VERSION,
        "choices": preferences_of(subscriber) if choices is None else choices,
    }


def record(subscriber: Subscriber, action: str, ip: str | None = None, user_agent: str = "") -> None:
    ConsentRecord.objects.create(subscriber=subscriber, action=action, **consent(subscriber, ip, user_agent))


def _apply(subscriber: Subscriber, prefs: Mapping[str, Any]) -> None:
    for name in PREFERENCE_FIELDS:
        setattr(subscriber, name, prefs[name])
    subscriber.save()
    subscriber.topics.set(prefs["topics"])
    reader_signals.apply(subscriber, prefs)


def choices_of(prefs: Mapping[str, Any]) -> dict[str, Any]:
    """Form choices (topics as Topic objects) as JSON-able data, topics by slug."""
    choices = {name: prefs[name] for name in PREFERENCE_FIELDS}
    # Seeds and follows wait with the rest (reader_signals.apply takes the keys present).
    choices.update({name: list(prefs[name]) for name in reader_signals.SIGNAL_KEYS if name in prefs})
    return {**choices, "topics": sorted(topic.slug for topic in prefs["topics"])}


def prefs_from(choices: Mapping[str, Any]) -> dict[str, Any]:
    """choices_of() back to preferences; a topic retired since then is left out."""
    return {**choices, "topics": list(Topic.objects.filter(slug__in=choices["topics"], active=True))}


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
    if subscriber is None:
        subscriber = Subscriber(email=prefs["email"], status=Status.PENDING)
        _apply(subscriber, prefs)
        record(subscriber, Action.SIGNUP, ip, user_agent)
    else:
        # Anyone can type this address: the stored choices stay until the emailed link is used.
        subscriber.pending_choices = choices_of(prefs)
        subscriber.save(update_fields=["pending_choices"])
        subscriber.transition("sign_up", consent(subscriber, ip, user_agent, subscriber.pending_choices))
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
    # Short-lived links to download or delete one's data (newsletter/privacy.py).
    "export": {Status.PENDING, Status.ACTIVE, Status.PAUSED, Status.UNSUBSCRIBED},
    "erase": {Status.PENDING, Status.ACTIVE, Status.PAUSED, Status.UNSUBSCRIBED},
}


def send_subscription_email(subscriber_id: int, kind: str) -> bool:
    """Send one lifecycle email if the reader is still in a state it applies to."""
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is None or subscriber.status not in EMAIL_STATES[kind]:
        log.info("%s email for subscriber %s not sent: no longer applies", kind, subscriber_id)
        return False
    try:
        canonical_email(subscriber.email)
    except InvalidAddress:
        # Stored before addresses were checked: no mail server would take it, so don't try.
        log.warning("%s email for subscriber %s not sent: the address is not valid", kind, subscriber_id)
        return False
    context = {
        "subscriber": subscriber,
        "confirm_url": link(subscriber, "confirm"),
        "manage_url": link(subscriber, "manage"),
        "unsubscribe_url": link(subscriber, "unsubscribe"),
    }
    if kind in ("export", "erase"):
        context["data_url"] = link(subscriber, kind)
    build_message(kind, context, to=subscriber.email, metadata={"subscriber": str(subscriber.pk)}).send()
    log.info("%s email sent to subscriber %s", kind, subscriber_id)
    return True


@transaction.atomic
def confirm(subscriber: Subscriber, ip: str | None = None, user_agent: str = "") -> bool:
    """Pending -> active. True if this call confirmed; confirming twice is harmless."""
    subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
    if subscriber.status != Status.PENDING:
        return False
    if subscriber.pending_choices is not None:
        _apply(subscriber, prefs_from(subscriber.pending_choices))
        subscriber.pending_choices = None
        subscriber.save(update_fields=["pending_choices"])
    subscriber.transition("confirm", consent(subscriber, ip, user_agent))
    # Fresh double opt-in is exactly what a suppressed or erased address needed.
    Suppression.objects.filter(email_hash=email_hash(subscriber.email)).delete()
    log.info("subscriber %s confirmed", subscriber.pk)
    plan_first_digest(subscriber)
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
        "seed_papers": "Papers like these",
        "followed_authors": "Authors you follow",
        "followed_orgs": "Organizations you follow",
        "muted": "Muted words",
        "trending": "How much trending",
    }
    changes = []
    for name, label in labels.items():
        old, new = before.get(name), after.get(name)
        if old != new:
            changes.append(f"{label}: {_show(name, old)} → {_show(name, new)}")
    return changes


def _show(name: str, value: Any) -> str:
    if name in ("topics", "seed_papers", "followed_authors", "followed_orgs"):
        return ", ".join(value or []) or "none"
    if name == "muted":
        return ", ".join(value.splitlines()) or "none"
    if name == "trending":
        return Subscriber.Trending(value).label
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
    # The reader's own choices, from an emailed link, replace any a sign-up left waiting.
    subscriber.pending_choices = None
    _apply(subscriber, prefs)
    changes = describe_changes(before, _as_shown(subscriber))
    if changes:
        record(subscriber, Action.CHANGE, ip, user_agent)
        log.info("subscriber %s changed preferences", subscriber.pk)
    return changes


def _as_shown(subscriber: Subscriber) -> dict[str, Any]:
    """Preferences with topic names (not slugs), for telling the reader what changed."""
    return {**preferences_of(subscriber), "topics": sorted(t.name for t in subscriber.topics.all())}


def change_status(subscriber: Subscriber, action: str, ip: str | None = None, user_agent: str = "") -> bool:
    """The reader pauses, resumes or unsubscribes. False (and nothing written) when it does not
    apply: idempotent."""
    changed = subscriber.transition(action, consent(subscriber, ip, user_agent))
    if changed:
        log.info("subscriber %s: %s", subscriber.pk, action)
    return changed


def resubscribe(subscriber: Subscriber, ip: str | None = None, user_agent: str = "") -> None:
    """An unsubscribed reader asks to come back: same path as signing up again (fresh opt-in).
    Links from before are signed out: the confirmation email brings new ones."""
    subscriber.sign_out_links()
    sign_up({"email": subscriber.email, **preferences_of_objects(subscriber)}, ip, user_agent)
    subscriber.refresh_from_db()


def preferences_of_objects(subscriber: Subscriber) -> dict[str, Any]:
    prefs = {name: getattr(subscriber, name) for name in PREFERENCE_FIELDS}
    prefs["topics"] = list(subscriber.topics.all())
    return prefs


def sign_out_links(subscriber: Subscriber) -> None:
    """ "Sign out all my links": every link sent so far stops working, except unsubscribe."""
    subscriber.sign_out_links()
    log.info("subscriber %s signed out their links", subscriber.pk)


@transaction.atomic
def address_changed(subscriber: Subscriber, user_agent: str = "admin") -> bool:
    """Staff changed the address: the new one is mailed nothing but a confirmation until its
    owner confirms, and links sent to the old one stop working. True if a confirmation is due."""
    subscriber.sign_out_links()
    if not subscriber.transition("change_address", consent(subscriber, user_agent=user_agent)):
        return False  # unsubscribed or suppressed: stays so, and nothing is sent
    if ratelimit.allow_email_to(subscriber.email):
        enqueue_email(subscriber.pk, "confirm")
    return True
