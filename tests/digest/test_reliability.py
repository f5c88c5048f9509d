"""Exactly-once digests with real Celery workers on the configured broker and database: racing
planners, workers stopped or killed mid-run, flaky and refusing ESPs, late unsubscribes."""

import email
import signal
from collections import Counter
from datetime import timedelta
from pathlib import Path

import psutil
import pytest
from django.utils import timezone

from newsletter import digests, sending
from newsletter.models import DigestDelivery, Subscriber
from newsletter.tasks import digest_tick
from tests.digest.builders import make_paper, make_reader, make_topic
from tests.helpers import wait_until

pytestmark = pytest.mark.celery
Status = DigestDelivery.Status


@pytest.fixture
def readers(transactional_db):
    topic = make_topic()
    for _ in range(3):
        make_paper(topic)
    return [make_reader(topic) for _ in range(16)]


@pytest.fixture
def worker_env(tmp_path, settings) -> dict[str, str]:
    settings.DIGEST_CHUNK_SIZE = 4  # tasks enqueued from this process: the same chunks
    return {
        "DJANGO_EMAIL_BACKEND": "tests.backends.SlowOutboxBackend",
        "OUTBOX_DIR": str(tmp_path / "outbox"),
        "FLAKY_STATE_DIR": str(tmp_path / "state"),
        "DIGEST_CHUNK_SIZE": "4",
        "DIGEST_CLAIM_BATCH": "2",
        "DIGEST_RETRY_BASE_SECONDS": "0.2",
        "DIGEST_RETRY_MAX_SECONDS": "1",
    }


def messages_per_reader(env: dict[str, str]) -> Counter:
    return Counter(
        email.message_from_bytes(path.read_bytes())["To"]
        for path in sorted(Path(env["OUTBOX_DIR"]).glob("*.eml"))
    )


def settled(expected_rows: int) -> bool:
    pending = DigestDelivery.objects.filter(status__in=[Status.QUEUED, Status.SENDING]).exists()
    return DigestDelivery.objects.count() == expected_rows and not pending


def wait_settled(expected_rows: int, timeout: float = 60) -> None:
    try:
        wait_until(lambda: settled(expected_rows), timeout=timeout)
    except AssertionError as exc:
        raise AssertionError(f"deliveries did not settle: {dict(statuses())}") from exc


def wait_idle(seconds: float = 2.0) -> None:
    """Until no delivery row has changed for a while (the worker has nothing left in flight)."""

    def quiet():
        last = DigestDelivery.objects.order_by("-updated_at").values_list("updated_at", flat=True).first()
        return last is not None and timezone.now() - last > timedelta(seconds=seconds)

    wait_until(quiet, timeout=60)


def statuses() -> Counter:
    return Counter(DigestDelivery.objects.values_list("status", flat=True))


def test_racing_planners_and_a_rerun_give_each_reader_one_row_and_one_message(
    readers, start_worker, worker_env
):
    start_worker(concurrency=2, **worker_env)
    digest_tick.delay()
    digest_tick.delay()
    sending.tick()
    wait_settled(len(readers))

    sending.tick()
    digest_tick.delay()
    wait_until(lambda: digests.due_readers(timezone.now()) == [], timeout=10)

    assert DigestDelivery.objects.count() == len(readers)
    assert statuses() == {Status.SENT: len(readers)}
    assert messages_per_reader(worker_env) == {r.email: 1 for r in readers}


def test_a_worker_stopped_with_sigterm_mid_run_loses_and_repeats_nothing(readers, start_worker, worker_env):
    worker = start_worker(FLAKY_DELAY="0.15", **worker_env)
    sending.tick()
    wait_until(lambda: len(messages_per_reader(worker_env)) >= 3, timeout=30)
    worker.signal(signal.SIGTERM)
    worker.process.wait(30)
    assert len(messages_per_reader(worker_env)) < len(readers), "the run ended before the signal"

    start_worker(**worker_env)
    wait_settled(len(readers))
    assert statuses() == {Status.SENT: len(readers)}
    assert messages_per_reader(worker_env) == {r.email: 1 for r in readers}


def test_a_worker_killed_mid_send_leaves_unknown_rows_and_no_other_duplicates(
    readers, start_worker, worker_env, settings
):
    worker = start_worker(FLAKY_DELAY="0.15", **worker_env)
    sending.tick()
    # The fifth message is the first of the second chunk: the process is inside a claimed batch.
    wait_until(lambda: len(messages_per_reader(worker_env)) >= 5, timeout=30, interval=0.02)
    for child in psutil.Process(worker.process.pid).children():
        child.send_signal(signal.SIGKILL)
    # Restart the worker: its lost task comes back (acks late; Redis requeues it at once, the
    # filesystem transport when the worker shuts down), and only the rows the killed process
    # held mid-send stay 'sending'.
    worker.stop(timeout=60)
    start_worker(**worker_env)
    wait_until(lambda: not DigestDelivery.objects.filter(status=Status.QUEUED).exists(), timeout=60)
    wait_idle()
    assert statuses()[Status.SENT] + statuses()[Status.SENDING] == len(readers)
    later = timezone.now() + timedelta(seconds=settings.DIGEST_SENDING_TIMEOUT + 1)
    digests.mark_abandoned(later)
    unknown = DigestDelivery.objects.filter(status=Status.UNKNOWN)
    unknown_readers = {d.subscriber.email for d in unknown}
    assert 1 <= len(unknown_readers) <= 2  # at most one claim batch was in flight

    # An operator who checked the ESP re-sends them: now nobody is missing, and only those
    # rows' readers can have a second copy.
    sending.requeue([d.pk for d in unknown], [Status.UNKNOWN])
    wait_settled(len(readers))
    received = messages_per_reader(worker_env)
    assert set(received) == {r.email for r in readers}
    assert {address for address, n in received.items() if n > 1} <= unknown_readers


def test_transient_esp_errors_are_retried_until_each_reader_has_exactly_one_message(
    readers, start_worker, worker_env
):
    flaky = [r.email for r in readers[:3]]
    backend = "tests.backends.TransientFailureBackend"
    start_worker(
        **{**worker_env, "DJANGO_EMAIL_BACKEND": backend, "FLAKY_RECIPIENTS": ",".join(flaky)},
        FLAKY_FAILURES="2",
    )
    sending.tick()
    wait_settled(len(readers))

    assert statuses() == {Status.SENT: len(readers)}
    assert messages_per_reader(worker_env) == {r.email: 1 for r in readers}
    attempts = DigestDelivery.objects.filter(subscriber__email__in=flaky).values_list("attempts", flat=True)
    assert sorted(attempts) == [3, 3, 3]


def test_permanent_esp_errors_fail_the_row_after_one_attempt_with_the_reason(
    readers, start_worker, worker_env
):
    refused = [r.email for r in readers[:2]]
    backend = "tests.backends.PermanentFailureBackend"
    start_worker(**{**worker_env, "DJANGO_EMAIL_BACKEND": backend, "FLAKY_RECIPIENTS": ",".join(refused)})
    sending.tick()
    wait_settled(len(readers))

    failed = DigestDelivery.objects.filter(status=Status.FAILED)
    assert {d.subscriber.email for d in failed} == set(refused)
    assert all(d.attempts == 1 and "rejected the recipient" in d.error for d in failed)
    log = (Path(worker_env["FLAKY_STATE_DIR"]) / "attempts.log").read_text().split()
    assert Counter(log)[refused[0]] == 1
    assert set(messages_per_reader(worker_env)) == {r.email for r in readers[2:]}


def test_a_reader_who_unsubscribes_between_planning_and_sending_gets_no_message(
    readers, start_worker, worker_env
):
    planned = digests.plan_due(timezone.now())
    leaver = readers[0]
    Subscriber.objects.filter(pk=leaver.pk).update(status=Subscriber.Status.UNSUBSCRIBED)
    start_worker(**worker_env)
    sending.schedule(planned)
    wait_settled(len(readers))

    assert leaver.email not in messages_per_reader(worker_env)
    assert DigestDelivery.objects.get(subscriber=leaver).status == Status.SKIPPED
    assert statuses()[Status.SENT] == len(readers) - 1
