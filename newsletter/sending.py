"""Exactly-once sending of planned digests: claim rows atomically, send, classify, record.

A delivery moves queued -> sending -> sent | failed | unknown | skipped. Only a claimed row
('sending', claimed by one UPDATE ... WHERE status = 'queued') is ever handed to the ESP, so a
duplicated task, a second worker or a re-run finds nothing to do. Transient errors put the row
back to 'queued' and schedule a retry; an error after which the ESP may hold the message makes
it 'unknown' (an operator decides), never a blind resend.
"""

import json
import logging
import random
import smtplib
import socket
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import requests
from anymail.exceptions import AnymailAPIError, AnymailInvalidAddress, AnymailRecipientsRefused
from django.conf import settings
from django.core.mail import get_connection
from django.db import connection, transaction
from django.utils import timezone
from urllib3.exceptions import MaxRetryError, NewConnectionError

from newsletter import digests, tracking
from newsletter.models import DigestDelivery, Subscriber

log = logging.getLogger(__name__)
Status = DigestDelivery.Status
TRANSIENT = "transient"


@dataclass(slots=True)
class Result:
    delivery_id: int
    subscriber_id: int
    status: str  # a Status, or TRANSIENT before the retry policy decides
    error: str = ""
    message_id: str = ""
    paper_ids: Sequence[int] = ()
    reasons: Sequence[str] = ()


def send_chunk(delivery_ids: Sequence[int], now: datetime | None = None) -> Counter:
    """Send these deliveries (those still queued); returns how many ended in each state."""
    now = now or timezone.now()
    chunk = digests.load_chunk(delivery_ids, now)
    counts = settle_unsendable(chunk, now)
    if not chunk.outgoing:
        return counts
    sent_to = []
    with get_connection() as esp:
        size = settings.DIGEST_CLAIM_BATCH
        for start in range(0, len(chunk.outgoing), size):
            batch = chunk.outgoing[start : start + size]
            attempts = claim([out.delivery_id for out in batch], now)
            results = [send_one(out, chunk.renderer, esp) for out in batch if out.delivery_id in attempts]
            record(results, attempts, timezone.now())
            counts.update(r.status for r in results)
            sent_to += [r.subscriber_id for r in results if r.status in (Status.SENT, Status.UNKNOWN)]
    Subscriber.objects.filter(id__in=sent_to).update(last_digest_at=now)
    return counts


def settle_unsendable(chunk: digests.Chunk, now: datetime) -> Counter:
    """Nothing matched, or the reader may no longer be mailed: 'skipped', with the reason."""
    reasons = {**dict.fromkeys(chunk.empty, "Nothing new matched this reader."), **chunk.blocked}
    rows = [
        DigestDelivery(id=pk, status=Status.SKIPPED, error=why, updated_at=now) for pk, why in reasons.items()
    ]
    if rows:
        # Only rows still queued: a concurrent worker may have claimed one meanwhile.
        queued = set(
            DigestDelivery.objects.filter(id__in=list(reasons), status=Status.QUEUED).values_list(
                "id", flat=True
            )
        )
        DigestDelivery.objects.bulk_update(
            [r for r in rows if r.pk in queued], ["status", "error", "updated_at"]
        )
    return Counter({Status.SKIPPED: len(rows)} if rows else {})


def claim(delivery_ids: Sequence[int], now: datetime) -> dict[int, int]:
    """Atomically move queued rows of still-active readers to 'sending'; returns the ones this
    call won, with their attempt number. One statement: no two workers can win the same row."""
    if not delivery_ids:
        return {}
    table, readers = DigestDelivery._meta.db_table, Subscriber._meta.db_table
    marks = ", ".join(["%s"] * len(delivery_ids))
    sql = (
        f"UPDATE {table} SET status = %s, claimed_at = %s, updated_at = %s, attempts = attempts + 1 "
        f"WHERE id IN ({marks}) AND status = %s AND EXISTS "
        f"(SELECT 1 FROM {readers} r WHERE r.id = subscriber_id AND r.status = %s) RETURNING id, attempts"
    )
    stamp = connection.ops.adapt_datetimefield_value(now)
    params = [Status.SENDING, stamp, stamp, *delivery_ids, Status.QUEUED, Subscriber.Status.ACTIVE]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return dict(cursor.fetchall())


def send_one(out: digests.Outgoing, renderer, esp) -> Result:
    result = Result(
        out.delivery_id,
        out.subscriber_id,
        Status.SENT,
        paper_ids=[p.paper_id for p in out.picks],
        reasons=[p.reasons[0] if p.reasons else "" for p in out.picks],
    )
    try:
        message = renderer.message(out, delivery_id=out.delivery_id)
    # A digest that cannot be built was surely not sent: 'failed', with the reason, not 'unknown'.
    except Exception as exc:  # noqa: BLE001
        log.exception("digest %s: could not build the email", out.delivery_id)
        result.status, result.error = Status.FAILED, f"Could not build the email: {exc}"[:1000]
        return result
    try:
        accepted = esp.send_messages([message])
    # Every failure must land in a state: anything we cannot place is 'unknown', not lost.
    except Exception as exc:  # noqa: BLE001
        result.status, result.error = classify(exc), f"{type(exc).__name__}: {exc}"[:1000]
        if result.status == Status.UNKNOWN:
            log.exception("digest %s: send ended in an unknown state", out.delivery_id)
        return result
    if not accepted:
        result.status, result.error = Status.FAILED, "The email backend accepted nothing."
    message_id = getattr(getattr(message, "anymail_status", None), "message_id", None)
    result.message_id = "" if message_id is None else str(message_id)[:200]
    return result


def classify(exc: BaseException) -> str:
    """TRANSIENT: the ESP surely doesn't have it, try again. FAILED: it never will. UNKNOWN: it
    may have accepted it."""
    if isinstance(exc, AnymailRecipientsRefused | AnymailInvalidAddress | smtplib.SMTPRecipientsRefused):
        return Status.FAILED
    code = getattr(exc, "status_code", None)
    if isinstance(exc, AnymailAPIError) and code is not None:
        return TRANSIENT if code == 429 or code >= 500 else Status.FAILED
    if isinstance(exc, requests.RequestException):
        return TRANSIENT if never_reached_esp(exc) else Status.UNKNOWN
    if isinstance(exc, smtplib.SMTPResponseException):
        return TRANSIENT if 400 <= exc.smtp_code < 500 else Status.FAILED
    if isinstance(exc, ConnectionRefusedError | socket.gaierror | smtplib.SMTPConnectError):
        return TRANSIENT
    return Status.UNKNOWN


def never_reached_esp(exc: requests.RequestException) -> bool:
    """Connect timeouts and refused/unresolvable connections happen before a request is sent;
    a read timeout or a dropped connection may come after the ESP accepted it."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    # Anymail re-raises requests' error as a subclass of it, with the original as the cause.
    original = exc.__cause__ if isinstance(exc.__cause__, requests.RequestException) else exc
    if isinstance(original, requests.ConnectionError) and not isinstance(original, requests.ReadTimeout):
        cause = original.args[0] if original.args else None
        return isinstance(cause, MaxRetryError) and isinstance(cause.reason, NewConnectionError)
    return False


def retry_delay(attempt: int, rand: float | None = None) -> float:
    """Exponential backoff with jitter, capped well below the broker's visibility timeout (a
    countdown longer than that would let Redis hand the waiting task to a second worker)."""
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600)
    cap = min(settings.DIGEST_RETRY_MAX_SECONDS, visibility / 2)
    delay = min(cap, settings.DIGEST_RETRY_BASE_SECONDS * 2 ** (attempt - 1))
    return delay * (0.5 + 0.5 * (random.random() if rand is None else rand))  # noqa: S311


def record(results: Sequence[Result], attempts: dict[int, int], now: datetime) -> None:
    """Write the outcome of one claimed batch in one statement; schedule retries after commit."""
    retry, rows = [], []
    for r in results:
        status, error = r.status, r.error
        if status == TRANSIENT:
            tries = attempts[r.delivery_id]
            if tries < settings.DIGEST_MAX_ATTEMPTS:
                status, error = Status.QUEUED, f"Attempt {tries} failed, will retry: {error}"
                retry.append(r.delivery_id)
            else:
                status, error = Status.FAILED, f"Gave up after {tries} attempts: {error}"
        sent_at = now if status in (Status.SENT, Status.UNKNOWN) else None
        rows.append((r.delivery_id, status, error, r.message_id, sent_at, r.paper_ids, r.reasons))
    write_outcomes(rows, now)
    unknown = [r.delivery_id for r in results if r.status == Status.UNKNOWN]
    if unknown:
        tracking.confirm_unknown(unknown)
    if retry:
        delay = retry_delay(max(attempts[pk] for pk in retry))
        log.info("digest: %d deliveries will be retried in %.0fs", len(retry), delay)
        schedule(retry, countdown=delay)


def write_outcomes(rows: Sequence[tuple], now: datetime) -> None:
    """UPDATE ... FROM (VALUES ...): one statement for a batch of differing rows. The ORM's
    bulk_update builds a CASE per field and row, which costs more than sending the emails."""
    if not rows:
        return
    pg = connection.vendor == "postgresql"
    cast = {"int": "::bigint", "time": "::timestamptz", "json": "::jsonb"} if pg else {}
    one = "({})".format(
        ", ".join(f"%s{cast.get(t, '')}" for t in ("int", "", "", "", "time", "json", "json"))
    )
    adapt = connection.ops.adapt_datetimefield_value
    params = []
    for pk, status, error, message_id, sent_at, paper_ids, reasons in rows:
        params += [
            pk,
            status,
            error,
            message_id,
            adapt(sent_at),
            json.dumps(list(paper_ids)),
            json.dumps(list(reasons)),
        ]
    table = DigestDelivery._meta.db_table
    values = ", ".join([one] * len(rows))
    sql = (
        f"WITH v(id, status, error, message_id, sent_at, paper_ids, reasons) AS (VALUES {values}) "
        f"UPDATE {table} SET status = v.status, error = v.error, esp_message_id = v.message_id, "
        f"sent_at = v.sent_at, paper_ids = v.paper_ids, reasons = v.reasons, updated_at = %s "
        f"FROM v WHERE {table}.id = v.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, adapt(now)])


def schedule(delivery_ids: Sequence[int], countdown: float = 0) -> None:
    """Enqueue send tasks in chunks once the rows they name are committed."""
    from newsletter.tasks import send_digest_chunk

    size = settings.DIGEST_CHUNK_SIZE
    chunks = [list(delivery_ids[i : i + size]) for i in range(0, len(delivery_ids), size)]

    def enqueue():
        for ids in chunks:
            send_digest_chunk.apply_async(args=[ids], countdown=countdown or None)

    transaction.on_commit(enqueue)


def requeue(delivery_ids: Sequence[int], statuses: Sequence[str] = (Status.FAILED,)) -> int:
    """Put failed (or, after an operator checked the ESP, unknown) rows back through the same
    claim-and-send path. Other rows are left alone, so a double click changes nothing."""
    with transaction.atomic():
        rows = DigestDelivery.objects.filter(id__in=delivery_ids, status__in=statuses)
        ids = list(rows.values_list("id", flat=True))
        DigestDelivery.objects.filter(id__in=ids).update(
            status=Status.QUEUED, attempts=0, error="", updated_at=timezone.now()
        )
        schedule(ids)
    return len(ids)


def tick(now: datetime | None = None) -> list[int]:
    """The scheduled entry point: plan due readers, fan out, and look after stuck rows."""
    now = now or timezone.now()
    if digests.mark_abandoned(now):
        tracking.confirm_unknown()
    due, planned = digests.due_readers(now), []
    # Committed and enqueued slice by slice, so workers send while planning goes on.
    size = settings.DIGEST_CHUNK_SIZE * 10
    for start in range(0, len(due), size):
        with transaction.atomic():
            ids = digests.create_deliveries(due[start : start + size], now)
            schedule(ids)
        planned += ids
    with transaction.atomic():
        schedule(digests.stale_queued(now))
    if planned:
        log.info("digest tick: planned %d deliveries", len(planned))
    return planned
