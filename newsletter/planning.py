"""Who gets a digest for which date, and the queue of planned rows: the first step of the flow.

plan (this module) -> match and render (digests, matching, emails) -> send and record (sending)
-> track (tracking). Planning writes one queued DigestDelivery row per (reader, local date) and
enqueues send tasks by name after the commit; it also looks after rows whose worker went away.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from newsletter.models import DigestDelivery, Subscriber, Suppression, email_hash

log = logging.getLogger(__name__)
PLAN_BATCH = 2000
Status = DigestDelivery.Status
SEND_TASK = "newsletter.tasks.send_digest_chunk"


def local_slots(time_zones: Iterable[str], now: datetime) -> dict[tuple[date, int, int], list[str]]:
    """Group time zones by their local (date, hour, weekday) at `now`: one query per group."""
    slots: dict[tuple[date, int, int], list[str]] = defaultdict(list)
    for name in time_zones:
        try:
            local = now.astimezone(ZoneInfo(name))
        except (ZoneInfoNotFoundError, ValueError):
            log.warning("digest planning: unknown time zone %r skipped", name)
            continue
        slots[(local.date(), local.hour, local.weekday())].append(name)
    return slots


def local_date(time_zone: str, now: datetime) -> date:
    try:
        return now.astimezone(ZoneInfo(time_zone)).date()
    except (ZoneInfoNotFoundError, ValueError):
        return now.date()


def due_readers(now: datetime) -> list[tuple[int, str, date]]:
    """(subscriber id, email, local issue date) of active readers whose hour has come today
    (at most DIGEST_CATCH_UP_HOURS ago) and who have no delivery for that date yet. Hours that DST
    skips still come (2:00 -> 3:00 is past 2); an hour that happens twice finds the row made the
    first time."""
    active = Subscriber.objects.filter(status=Subscriber.Status.ACTIVE)
    zones = active.order_by().values_list("time_zone", flat=True).distinct()
    due = []
    for (day, hour, weekday), names in local_slots(zones, now).items():
        weekly_today = Q(frequency=Subscriber.Frequency.WEEKLY, delivery_weekday=weekday)
        readers = (
            active.filter(time_zone__in=names, delivery_hour__lte=hour)
            .filter(delivery_hour__gt=hour - settings.DIGEST_CATCH_UP_HOURS)
            .filter(Q(frequency=Subscriber.Frequency.DAILY) | weekly_today)
            .exclude(deliveries__issue_date=day)
            .order_by("id")
            .values_list("id", "email")
        )
        due += [(pk, email, day) for pk, email in readers]
    return due


def suppressed_hashes(emails: Iterable[str]) -> set[str]:
    hashes = list({email_hash(e) for e in emails})
    found: set[str] = set()
    for start in range(0, len(hashes), PLAN_BATCH):
        batch = hashes[start : start + PLAN_BATCH]
        found.update(Suppression.objects.filter(email_hash__in=batch).values_list("email_hash", flat=True))
    return found


@transaction.atomic
def create_deliveries(readers: Sequence[tuple[int, str, date]], now: datetime) -> list[int]:
    """One queued row per (reader, date), skipping suppressed addresses. The unique constraint
    makes concurrent planners harmless: the loser's rows are ignored, not duplicated. Returns the
    ids this call created (their planned_at is exactly `now`)."""
    blocked = suppressed_hashes(email for _, email, _ in readers)
    rows = [
        DigestDelivery(subscriber_id=pk, issue_date=day, planned_at=now, updated_at=now)
        for pk, email, day in readers
        if email_hash(email) not in blocked
    ]
    DigestDelivery.objects.bulk_create(rows, ignore_conflicts=True, batch_size=PLAN_BATCH)
    days = {row.issue_date for row in rows}
    mine = DigestDelivery.objects.filter(
        issue_date__in=days, subscriber_id__in=[row.subscriber_id for row in rows], planned_at=now
    )
    return list(mine.filter(status=Status.QUEUED).order_by("id").values_list("id", flat=True))


def plan_due(now: datetime) -> list[int]:
    return create_deliveries(due_readers(now), now)


def readers_for_date(issue_date: date, subscribers=None) -> list[tuple[int, str, date]]:
    """Active readers (of a queryset, else all) due on this date whatever the hour, without a
    delivery for it yet: the send_digests command's --date and --subscriber."""
    weekly = Q(frequency=Subscriber.Frequency.WEEKLY, delivery_weekday=issue_date.weekday())
    readers = (
        (Subscriber.objects.all() if subscribers is None else subscribers)
        .filter(status=Subscriber.Status.ACTIVE)
        .filter(Q(frequency=Subscriber.Frequency.DAILY) | weekly)
        .exclude(deliveries__issue_date=issue_date)
        .order_by("id")
        .values_list("id", "email")
    )
    return [(pk, email, issue_date) for pk, email in readers]


def unsent_for_date(issue_date: date, subscriber_ids: Sequence[int] | None = None) -> list[int]:
    """Rows of this date that never reached the ESP (queued, or claimed by a worker that did not
    start them, e.g. a killed run): a re-run sends them. A live worker that still holds one of
    the claims skips it, as it can only start rows it still holds."""
    rows = DigestDelivery.objects.filter(issue_date=issue_date)
    if subscriber_ids is not None:
        rows = rows.filter(subscriber_id__in=subscriber_ids)
    rows.filter(status=Status.CLAIMED).release(timezone.now())
    return list(rows.queued().order_by("id").values_list("id", flat=True))


def stale_queued(now: datetime) -> list[int]:
    """Queued rows untouched for longer than any retry delay: their task was lost (e.g. a purged
    queue, or a Redis worker killed with tasks it had not started). Sending them again is safe,
    the claim decides."""
    cutoff = now - timedelta(seconds=settings.DIGEST_RETRY_MAX_SECONDS + 1800)
    old = DigestDelivery.objects.queued().filter(updated_at__lt=cutoff)
    return list(old.order_by("id").values_list("id", flat=True))


def schedule(delivery_ids: Sequence[int], countdown: float = 0) -> None:
    """Enqueue send tasks in chunks once the rows they name are committed."""
    size = settings.DIGEST_CHUNK_SIZE
    chunks = [list(delivery_ids[i : i + size]) for i in range(0, len(delivery_ids), size)]

    def enqueue():
        for ids in chunks:
            current_app.send_task(SEND_TASK, args=[ids], countdown=countdown or None)

    if chunks:
        transaction.on_commit(enqueue)


def requeue(delivery_ids: Sequence[int], statuses: Sequence[str] = (Status.FAILED,)) -> int:
    """Put failed (or, after an operator checked the ESP, unknown) rows back through the same
    claim-and-send path. Other rows are left alone, so a double click changes nothing."""
    with transaction.atomic():
        ids = DigestDelivery.objects.filter(id__in=delivery_ids).requeue(statuses, timezone.now())
        schedule(ids)
    return len(ids)


def recover(now: datetime) -> tuple[int, int]:
    """Rows whose worker went away. Claimed but never started for DIGEST_CLAIM_TIMEOUT: nothing
    reached the ESP, so they are queued and sent again. 'sending' after the hard task time limit:
    the ESP may have them, so they become 'unknown' (or 'sent' if it reported them delivered).
    Returns (released, abandoned)."""
    stale_claims = now - timedelta(seconds=settings.DIGEST_CLAIM_TIMEOUT)
    with transaction.atomic():
        released = DigestDelivery.objects.filter(claimed_at__lt=stale_claims).release(now)
        schedule(released)
    abandoned_at = now - timedelta(seconds=settings.DIGEST_SENDING_TIMEOUT)
    error = "The worker stopped while sending; the ESP may have accepted the message."
    abandoned = DigestDelivery.objects.filter(claimed_at__lt=abandoned_at).mark_unknown(error, now)
    if released:
        log.warning("digest: %d claimed deliveries lost their worker and were queued again", len(released))
    if abandoned:
        log.warning("digest: %d deliveries were abandoned mid-send and are now 'unknown'", abandoned)
        DigestDelivery.objects.confirm_reported()
    return len(released), abandoned


def tick(now: datetime | None = None) -> list[int]:
    """The scheduled entry point: recover rows of lost workers, plan due readers, fan out."""
    now = now or timezone.now()
    recover(now)
    due, planned = due_readers(now), []
    # Committed and enqueued slice by slice, so workers send while planning goes on.
    size = settings.DIGEST_CHUNK_SIZE * 10
    for start in range(0, len(due), size):
        with transaction.atomic():
            ids = create_deliveries(due[start : start + size], now)
            schedule(ids)
        planned += ids
    with transaction.atomic():
        schedule(stale_queued(now))
    if planned:
        log.info("digest tick: planned %d deliveries", len(planned))
    return planned
