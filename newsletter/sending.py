"""Exactly-once sending of planned digests: claim a chunk, send each message, record each outcome.

A task claims its rows with a lease (newsletter.delivery_states), then keeps up to
DIGEST_SEND_THREADS messages in flight, each thread with its own ESP connection. Every message is
marked 'sending' in a commit right before its ESP call, and its outcome is committed as soon as
the ESP answers (together with the next messages' marks, in one transaction): a killed worker
leaves at most one 'sending' row per thread, and its other rows provably never reached the ESP.
Transient errors put the row back to 'queued' with a backoff; an ESP 429 slows the whole site
down (newsletter.throttle) and the message is tried again; an error after which the ESP may hold
the message makes it 'unknown' (an operator decides), never a blind resend.
"""

import logging
import random
import smtplib
import socket
import threading
import uuid
from collections import Counter, deque
from collections.abc import Sequence
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime

import requests
from anymail.exceptions import AnymailAPIError, AnymailInvalidAddress, AnymailRecipientsRefused
from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.utils import timezone
from urllib3.exceptions import MaxRetryError, NewConnectionError

from newsletter import digests, planning, throttle
from newsletter.delivery_states import Outcome
from newsletter.models import DigestDelivery, Subscriber

log = logging.getLogger(__name__)
Status = DigestDelivery.Status
TRANSIENT = "transient"
# After the first answer, wait this long for more before committing: one transaction records
# several outcomes (the commit per answer cost a third of the rate at 1,000 messages/s).
COLLECT_SECONDS = 0.02


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
    lease, attempts = DigestDelivery.objects.claim(delivery_ids, now)
    if not attempts:
        return Counter()
    mine = DigestDelivery.objects.leased(lease)
    try:
        chunk = digests.load_chunk(list(attempts), now)
        counts = settle_unsendable(chunk, mine, now)
        if chunk.outgoing:
            counts += Sender(lease, attempts, chunk.renderer, now).run(chunk.outgoing)
    except BaseException:
        # Whatever stopped us (a bug, the soft time limit), rows not started never reached the
        # ESP: back to the queue at once rather than after the claim timeout.
        with transaction.atomic():
            planning.schedule(mine.release(timezone.now()))
        raise
    return counts


def settle_unsendable(chunk: digests.Chunk, mine, now: datetime) -> Counter:
    """Nothing matched, or the reader may no longer be mailed: 'skipped', with the reason."""
    reasons = {**dict.fromkeys(chunk.empty, "Nothing new matched this reader."), **chunk.blocked}
    skipped = mine.skip(reasons, now) if reasons else 0
    return Counter({Status.SKIPPED: skipped} if skipped else {})


class InlineExecutor:
    """One message at a time in the calling thread (DIGEST_SEND_THREADS = 1)."""

    def submit(self, fn, *args) -> Future:
        future: Future = Future()
        future.set_result(fn(*args))
        return future

    def shutdown(self, wait: bool = True) -> None:
        pass


class Sender:
    """Keeps up to DIGEST_SEND_THREADS sends in flight; all database writes stay in this thread."""

    def __init__(self, lease: uuid.UUID, attempts: dict[int, int], renderer, now: datetime):
        self.lease, self.attempts, self.renderer, self.now = lease, attempts, renderer, now
        self.mine = DigestDelivery.objects.leased(lease)
        self.threads = max(1, settings.DIGEST_SEND_THREADS)
        self.local = threading.local()
        self.connections: list = []
        self.counts: Counter = Counter()
        self.retry: list[int] = []

    def run(self, outgoing: Sequence[digests.Outgoing]) -> Counter:
        todo, inflight, finished = deque(outgoing), {}, []
        pool = ThreadPoolExecutor(self.threads, "digest-esp") if self.threads > 1 else InlineExecutor()
        try:
            while todo or inflight or finished:
                ready, failed = self.build(todo, self.threads - len(inflight))
                started = self.step(finished + failed, ready)
                for (out, message), moment in zip(started, throttle.slots(len(started)), strict=True):
                    inflight[pool.submit(self.send, out, message, moment)] = out
                finished = self.collect(inflight) if inflight else []
        finally:
            pool.shutdown(wait=True)
            for esp in self.connections:
                esp.close()
        if self.retry:
            self.schedule_retries()
        return self.counts

    def collect(self, inflight: dict) -> list[Result]:
        done, _ = wait(inflight, return_when=FIRST_COMPLETED)
        if len(done) < len(inflight):
            done, _ = wait(inflight, timeout=COLLECT_SECONDS, return_when=ALL_COMPLETED)
        for future in done:
            del inflight[future]
        return [future.result() for future in done]

    def build(self, todo: deque, room: int) -> tuple[list, list[Result]]:
        """The next messages to start, built here (CPU work, no gain from threads); those that
        cannot be built fail at once."""
        ready, failed = [], []
        while todo and len(ready) < room:
            out = todo.popleft()
            try:
                message = self.renderer.message(out, delivery_id=out.delivery_id)
            # A digest that cannot be built was surely not sent: 'failed', with the reason.
            except Exception as exc:  # noqa: BLE001
                log.exception("digest %s: could not build the email", out.delivery_id)
                failed.append(result_for(out, Status.FAILED, f"Could not build the email: {exc}"[:1000]))
                continue
            ready.append((out, message))
        return ready, failed

    def step(self, finished: list[Result], ready: list) -> list:
        """One commit: the outcomes the ESP just gave, and the write-ahead marks of the next
        messages. Returns the (outgoing, message) pairs that may now be sent."""
        with transaction.atomic():
            self.record(finished)
            ids = [out.delivery_id for out, _ in ready]
            started = self.mine.start(ids, Subscriber.Status.ACTIVE, self.now)
            gone = set(ids) - started
            if gone:
                # Still claimed by us but the reader left meanwhile; rows we lost stay as they are.
                self.mine.skip(dict.fromkeys(gone, "Not sent: the reader is no longer active."), self.now)
        return [(out, message) for out, message in ready if out.delivery_id in started]

    def record(self, results: Sequence[Result]) -> None:
        if not results:
            return
        now = timezone.now()
        outcomes = [self.outcome(r, now) for r in results]
        DigestDelivery.objects.record(self.lease, outcomes, now)
        reached = [r.subscriber_id for r, o in zip(results, outcomes, strict=True) if o.sent_at]
        if reached:
            Subscriber.objects.filter(id__in=reached).update(last_digest_at=self.now)
        unknown = [o.id for o in outcomes if o.status == Status.UNKNOWN]
        if unknown:
            DigestDelivery.objects.filter(pk__in=unknown).confirm_reported()
        self.counts.update(o.status for o in outcomes)

    def outcome(self, r: Result, now: datetime) -> Outcome:
        status, error = r.status, r.error
        if status == TRANSIENT:
            tries = self.attempts[r.delivery_id]
            if tries < settings.DIGEST_MAX_ATTEMPTS:
                status, error = Status.QUEUED, f"Attempt {tries} failed, will retry: {error}"
                self.retry.append(r.delivery_id)
            else:
                status, error = Status.FAILED, f"Gave up after {tries} attempts: {error}"
        sent_at = now if status in (Status.SENT, Status.UNKNOWN) else None
        return Outcome(r.delivery_id, status, error, r.message_id, sent_at, r.paper_ids, r.reasons)

    def schedule_retries(self) -> None:
        delay = retry_delay(max(self.attempts[pk] for pk in self.retry))
        log.info("digest: %d deliveries will be retried in %.0fs", len(self.retry), delay)
        with transaction.atomic():
            planning.schedule(self.retry, countdown=delay)

    def connection(self):
        """This thread's own ESP connection (an HTTP session, an SMTP connection)."""
        esp = getattr(self.local, "esp", None)
        if esp is None:
            esp = self.local.esp = get_connection()
            esp.open()
            self.connections.append(esp)
        return esp

    def send(self, out: digests.Outgoing, message, moment: float) -> Result:
        """In a pool thread: the ESP call at its slot, retried here while the ESP says 429."""
        for tries in range(settings.DIGEST_RATE_LIMITED_TRIES):
            throttle.wait_until(moment if not tries else throttle.slots(1)[0])
            result = send_one(out, message, self.connection())
            if result.status != TRANSIENT or not result.error.startswith(RATE_LIMITED):
                return result
            throttle.slow_down(settings.DIGEST_RATE_LIMITED_PAUSE)
            log.info("digest %s: the ESP asked us to slow down", out.delivery_id)
        return result


RATE_LIMITED = "Rate limited: "


def result_for(out: digests.Outgoing, status: str, error: str = "") -> Result:
    return Result(
        out.delivery_id,
        out.subscriber_id,
        status,
        error,
        paper_ids=[p.paper_id for p in out.picks],
        reasons=[p.reasons[0] if p.reasons else "" for p in out.picks],
    )


def send_one(out: digests.Outgoing, message, esp) -> Result:
    result = result_for(out, Status.SENT)
    try:
        accepted = esp.send_messages([message])
    # Every failure must land in a state: anything we cannot place is 'unknown', not lost.
    except Exception as exc:  # noqa: BLE001
        result.status, result.error = classify(exc), f"{type(exc).__name__}: {exc}"[:1000]
        if getattr(exc, "status_code", None) == 429:
            result.error = RATE_LIMITED + result.error
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
    """Exponential backoff with jitter, capped well below how long the broker lets a worker hold
    a waiting task (Redis's visibility timeout would hand it to a second worker; RabbitMQ closes
    the channel of a consumer that holds one past its consumer timeout)."""
    cap = min(settings.DIGEST_RETRY_MAX_SECONDS, settings.CELERY_BROKER_HOLD_SECONDS / 2)
    delay = min(cap, settings.DIGEST_RETRY_BASE_SECONDS * 2 ** (attempt - 1))
    return delay * (0.5 + 0.5 * (random.random() if rand is None else rand))  # noqa: S311
