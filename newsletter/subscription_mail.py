"""The outbox for confirmation and "already subscribed" emails (pretix's pattern): the row is
written in the transaction that asks for the email, only its id goes to the broker, a worker
claims the row atomically and records the outcome.

A transient ESP error (connection refused, 429, 5xx) puts the row back in the queue with
exponential backoff; a refusal fails it for good; an error after which the ESP may hold the
message makes it 'unknown', never a blind resend. When the broker cannot take the task after the
commit, the reader still gets their page and the sweep queues the row later.
"""

import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from newsletter.models import SubscriptionEmail
from newsletter.sending import TRANSIENT, classify

log = logging.getLogger(__name__)
Status = SubscriptionEmail.Status
# By name: the task module imports this one.
DELIVER_TASK = "newsletter.tasks.deliver_subscription_email"
# Web servers' and workers' clocks differ a little: a task that arrives "early" by a worker's
# clock (a fresh row, a retry at its countdown) is still due, or it would wait for the sweep.
CLOCK_TOLERANCE = timedelta(seconds=10)
# Sends one email if it still applies: True when sent, False when the reader's state moved on.
Sender = Callable[[int, str], bool]


def queue(subscriber_id: int, kind: str) -> SubscriptionEmail:
    """Write the email to the outbox (inside the caller's transaction); enqueue it after commit."""
    email = SubscriptionEmail.objects.create(subscriber_id=subscriber_id, kind=kind)
    transaction.on_commit(lambda: enqueue(email.pk))
    return email


def enqueue(email_id: int, countdown: float | None = None) -> None:
    """Hand the id to a worker. A broker that is down must not turn a committed sign-up into an
    error page: the row waits in the outbox and the sweep queues it again."""
    try:
        current_app.send_task(DELIVER_TASK, args=[email_id], countdown=countdown)
    except OperationalError as exc:
        log.warning("subscription email %s not queued (%s): the sweep will send it", email_id, exc)


def deliver(email_id: int, send: Sender) -> str | None:
    """Claim and send one outbox row; returns its new status, or None when there was nothing to
    claim (already sent, in flight, or not due yet)."""
    email = SubscriptionEmail.objects.claim(email_id, timezone.now(), early=CLOCK_TOLERANCE)
    if email is None:
        return None
    try:
        sent = send(email.subscriber_id, email.kind)
    # Every failure must land in a state; classify() decides which.
    except Exception as exc:  # noqa: BLE001
        settle_failure(email, exc, timezone.now())
    else:
        email.finish(Status.SENT if sent else Status.SKIPPED, timezone.now())
    log.info("subscription email %s: %s after %d attempt(s)", email.pk, email.status, email.attempts)
    return email.status


def settle_failure(email: SubscriptionEmail, exc: Exception, now: datetime) -> None:
    error = f"{type(exc).__name__}: {exc}"
    outcome = classify(exc)
    if outcome != TRANSIENT:
        email.finish(outcome, now, error=error)
    elif email.attempts >= settings.SUBSCRIPTION_MAIL_MAX_ATTEMPTS:
        email.finish(Status.FAILED, now, error=f"Gave up after {email.attempts} attempts: {error}")
    else:
        delay = retry_delay(email.attempts)
        retry_at = now + timedelta(seconds=delay)
        email.finish(
            Status.QUEUED,
            now,
            error=f"Attempt {email.attempts} failed, will retry: {error}",
            retry_at=retry_at,
        )
        enqueue(email.pk, countdown=delay)


def retry_delay(attempt: int, rand: float | None = None) -> float:
    """Exponential backoff with jitter: base, 2 x base, 4 x base ... capped."""
    delay = min(
        settings.SUBSCRIPTION_MAIL_RETRY_MAX_SECONDS,
        settings.SUBSCRIPTION_MAIL_RETRY_BASE_SECONDS * 2 ** (attempt - 1),
    )
    return delay * (0.5 + 0.5 * (random.random() if rand is None else rand))  # noqa: S311


def sweep(now: datetime | None = None) -> int:
    """Scheduled: queue again the emails whose task was lost, and settle rows whose worker died
    mid-send. Returns how many were queued again."""
    now = now or timezone.now()
    SubscriptionEmail.objects.mark_abandoned(now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60))
    waiting = now - timedelta(seconds=settings.SUBSCRIPTION_MAIL_SWEEP_AFTER)
    lost = list(
        SubscriptionEmail.objects.due(waiting).order_by("next_attempt_at").values_list("pk", flat=True)[:1000]
    )
    for pk in lost:
        enqueue(pk)
    if lost:
        log.info("subscription mail sweep: queued %d waiting emails again", len(lost))
    return len(lost)
