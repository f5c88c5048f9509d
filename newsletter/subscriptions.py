"""The subscription lifecycle as plain functions: sign-up, confirm, preferences, pause/resume and
unsubscribe (export and erasure: newsletter/privacy.py; signed links: newsletter/links.py). Views
and the admin call these; they never touch models directly.

Every state change writes a ConsentRecord (newsletter/preferences.py), so the history of what a
reader agreed to survives later edits (and goes with them when they ask to be erased).
"""

import logging
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction

from newsletter import preferences, ratelimit, subscription_mail
from newsletter.addresses import InvalidAddress, canonical_email
from newsletter.emails import build_message
from newsletter.first_digest import plan_first_digest
from newsletter.links import link
from newsletter.models import ConsentRecord, Subscriber, Suppression, email_hash

log = logging.getLogger(__name__)
Status = Subscriber.Status
Action = ConsentRecord.Action


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
        preferences.apply(subscriber, prefs)
        preferences.record(subscriber, Action.SIGNUP, ip, user_agent)
    else:
        # Anyone can type this address: the stored choices stay until the emailed link is used.
        subscriber.pending_choices = preferences.choices_of(prefs)
        subscriber.save(update_fields=["pending_choices"])
        choices = subscriber.pending_choices
        subscriber.transition("sign_up", preferences.consent(subscriber, ip, user_agent, choices))
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
        preferences.apply(subscriber, preferences.prefs_from(subscriber.pending_choices))
        subscriber.pending_choices = None
        subscriber.save(update_fields=["pending_choices"])
    subscriber.transition("confirm", preferences.consent(subscriber, ip, user_agent))
    # Fresh double opt-in is exactly what a suppressed or erased address needed.
    Suppression.objects.filter(email_hash=email_hash(subscriber.email)).delete()
    log.info("subscriber %s confirmed", subscriber.pk)
    plan_first_digest(subscriber)
    return True


@transaction.atomic
def update_preferences(
    subscriber: Subscriber, prefs: Mapping[str, Any], ip: str | None = None, user_agent: str = ""
) -> list[str]:
    """Save new choices; returns what changed (nothing recorded when nothing changed)."""
    before = preferences.as_shown(subscriber)
    # The reader's own choices, from an emailed link, replace any a sign-up left waiting.
    subscriber.pending_choices = None
    preferences.apply(subscriber, prefs)
    changes = preferences.describe_changes(before, preferences.as_shown(subscriber))
    if changes:
        preferences.record(subscriber, Action.CHANGE, ip, user_agent)
        log.info("subscriber %s changed preferences", subscriber.pk)
    return changes


def change_status(subscriber: Subscriber, action: str, ip: str | None = None, user_agent: str = "") -> bool:
    """The reader pauses, resumes or unsubscribes. False (and nothing written) when it does not
    apply: idempotent."""
    changed = subscriber.transition(action, preferences.consent(subscriber, ip, user_agent))
    if changed:
        log.info("subscriber %s: %s", subscriber.pk, action)
    return changed


def resubscribe(subscriber: Subscriber, ip: str | None = None, user_agent: str = "") -> None:
    """An unsubscribed reader asks to come back: same path as signing up again (fresh opt-in).
    Links from before are signed out: the confirmation email brings new ones."""
    subscriber.sign_out_links()
    sign_up({"email": subscriber.email, **preferences.preferences_of_objects(subscriber)}, ip, user_agent)
    subscriber.refresh_from_db()


def sign_out_links(subscriber: Subscriber) -> None:
    """ "Sign out all my links": every link sent so far stops working, except unsubscribe."""
    subscriber.sign_out_links()
    log.info("subscriber %s signed out their links", subscriber.pk)


@transaction.atomic
def address_changed(subscriber: Subscriber, user_agent: str = "admin") -> bool:
    """Staff changed the address: the new one is mailed nothing but a confirmation until its
    owner confirms, and links sent to the old one stop working. True if a confirmation is due."""
    subscriber.sign_out_links()
    if not subscriber.transition("change_address", preferences.consent(subscriber, user_agent=user_agent)):
        return False  # unsubscribed or suppressed: stays so, and nothing is sent
    if ratelimit.allow_email_to(subscriber.email):
        enqueue_email(subscriber.pk, "confirm")
    return True
