"""Exactly-once digests with real Celery workers on the configured broker and database: racing
planners, workers stopped or killed mid-run, flaky and refusing ESPs, late unsubscribes."""

import email
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import kombu
import psutil
import pytest
from django.utils import timezone

from newsletter import planning
from newsletter.models import DigestDelivery, Subscriber
from newsletter.tasks import digest_tick
from tests.conftest import ROOT, TEST_QUEUE, subprocess_env
from tests.factories import make_due_reader, make_new_paper, unlearning_topic
from tests.helpers import wait_until

pytestmark = pytest.mark.celery
Status = DigestDelivery.Status


@pytest.fixture
def readers(transactional_db):
    topic = unlearning_topic()
    for _ in range(3):
        make_new_paper(topic)
    return [make_due_reader(topic) for _ in range(16)]


@pytest.fixture
def worker_env(tmp_path, settings) -> dict[str, str]:
    settings.DIGEST_CHUNK_SIZE = 4  # tasks enqueued from this process: the same chunks
    return {
        "DJANGO_EMAIL_BACKEND": "tests.backends.SlowOutboxBackend",
        "OUTBOX_DIR": str(tmp_path / "outbox"),
        "FLAKY_STATE_DIR": str(tmp_path / "state"),
        "DIGEST_CHUNK_SIZE": "4",
        "DIGEST_SEND_THREADS": "4",
        "DIGEST_RETRY_BASE_SECONDS": "0.2",
        "DIGEST_RETRY_MAX_SECONDS": "1",
    }


def messages_per_reader(env: dict[str, str]) -> Counter:
    return Counter(
        email.message_from_bytes(path.read_bytes())["To"]
        for path in sorted(Path(env["OUTBOX_DIR"]).glob("*.eml"))
    )


def settled(expected_rows: int) -> bool:
    pending = DigestDelivery.objects.filter(
        status__in=[Status.QUEUED, Status.CLAIMED, Status.SENDING]
    ).exists()
    return DigestDelivery.objects.count() == expected_rows and not pending


def wait_settled(expected_rows: int, timeout: float = 60) -> None:
    try:
        wait_until(lambda: settled(expected_rows), timeout=timeout)
    except AssertionError as exc:
        raise AssertionError(f"deliveries did not settle: {dict(statuses())}") from exc


def statuses() -> Counter:
    return Counter(DigestDelivery.objects.values_list("status", flat=True))


def test_racing_planners_and_a_rerun_give_each_reader_one_row_and_one_message(
    readers, start_worker, worker_env
):
    start_worker(concurrency=2, **worker_env)
    digest_tick.delay()
    digest_tick.delay()
    planning.tick()
    wait_settled(len(readers))

    planning.tick()
    digest_tick.delay()
    wait_until(lambda: planning.due_readers(timezone.now()) == [], timeout=10)

    assert DigestDelivery.objects.count() == len(readers)
    assert statuses() == {Status.SENT: len(readers)}
    assert messages_per_reader(worker_env) == {r.email: 1 for r in readers}


def test_a_worker_stopped_with_sigterm_mid_run_loses_and_repeats_nothing(readers, start_worker, worker_env):
    worker = start_worker(FLAKY_DELAY="0.15", **worker_env)
    planning.tick()
    wait_until(lambda: len(messages_per_reader(worker_env)) >= 3, timeout=30)
    worker.signal(signal.SIGTERM)
    worker.process.wait(30)
    assert len(messages_per_reader(worker_env)) < len(readers), "the run ended before the signal"

    start_worker(**worker_env)
    wait_settled(len(readers))
    assert statuses() == {Status.SENT: len(readers)}
    assert messages_per_reader(worker_env) == {r.email: 1 for r in readers}


@pytest.fixture(params=["redis", "rabbitmq"])
def broker_url(request, settings) -> Iterator[str]:
    """Each broker an operator can choose; RabbitMQ hands a dead worker's tasks back at once."""
    if request.param == "redis":
        if not settings.REDIS_URL:
            pytest.skip("Redis is not configured (REDIS_URL)")
        yield settings.REDIS_URL
        return
    url = os.environ.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")
    try:
        with kombu.Connection(url, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1)
    except OSError as exc:
        pytest.skip(f"RabbitMQ is not reachable at {url.split('@')[-1]} ({exc}); set RABBITMQ_URL")
    yield url
    with kombu.Connection(url) as conn:
        conn.default_channel.queue_delete(TEST_QUEUE)


def call_task(name: str, env: dict[str, str]) -> None:
    """Enqueue through the worker's own broker, the way an operator would."""
    cmd = [sys.executable, "-m", "celery", "-A", "config", "call", name]
    subprocess.run(cmd, cwd=ROOT, env=subprocess_env(**env), check=True, capture_output=True, timeout=60)


def kill_whole_worker(worker) -> None:
    """SIGKILL the main process and its pool at once: nothing gets to clean up or acknowledge."""
    main = psutil.Process(worker.process.pid)
    for process in [main, *main.children()]:
        process.send_signal(signal.SIGKILL)
    worker.process.wait(30)


@pytest.mark.parametrize("threads", [1, 4])
def test_a_worker_killed_mid_send_leaves_one_unknown_per_thread_and_sends_everyone_else_exactly_once(
    readers, start_worker, worker_env, broker_url, threads
):
    env = {
        **worker_env,
        "CELERY_BROKER_URL": broker_url,
        "DIGEST_CHUNK_SIZE": "16",
        "DIGEST_SEND_THREADS": str(threads),
        "DIGEST_CLAIM_TIMEOUT": "2",  # the defaults resume within 15 minutes: see test_planning
        "DIGEST_SENDING_TIMEOUT": "4",
    }
    worker = start_worker(FLAKY_DELAY="0.15", **env)
    call_task("newsletter.tasks.digest_tick", env)
    # Inside the one chunk: the process holds claimed and sending rows.
    wait_until(lambda: len(messages_per_reader(worker_env)) >= threads + 1, timeout=30, interval=0.02)
    kill_whole_worker(worker)
    assert statuses()[Status.CLAIMED] > 0, "the run ended before the kill"

    start_worker(**env)

    def resumed():
        call_task("newsletter.tasks.digest_tick", env)  # the scheduled tick recovers lost rows
        unfinished = [Status.QUEUED, Status.CLAIMED, Status.SENDING]
        return not DigestDelivery.objects.filter(status__in=unfinished).exists()

    wait_until(resumed, timeout=90, interval=1)
    unknown = [d.subscriber.email for d in DigestDelivery.objects.filter(status=Status.UNKNOWN)]
    assert len(unknown) <= threads
    assert statuses()[Status.SENT] == len(readers) - len(unknown)
    received = messages_per_reader(worker_env)
    assert {address: n for address, n in received.items() if address not in unknown} == {
        r.email: 1 for r in readers if r.email not in unknown
    }
    assert all(received[address] <= 1 for address in unknown)


def test_transient_esp_errors_are_retried_until_each_reader_has_exactly_one_message(
    readers, start_worker, worker_env
):
    flaky = [r.email for r in readers[:3]]
    backend = "tests.backends.TransientFailureBackend"
    start_worker(
        **{**worker_env, "DJANGO_EMAIL_BACKEND": backend, "FLAKY_RECIPIENTS": ",".join(flaky)},
        FLAKY_FAILURES="2",
    )
    planning.tick()
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
    planning.tick()
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
    planned = planning.plan_due(timezone.now())
    leaver = readers[0]
    Subscriber.objects.filter(pk=leaver.pk).update(status=Subscriber.Status.UNSUBSCRIBED)
    start_worker(**worker_env)
    planning.schedule(planned)
    wait_settled(len(readers))

    assert leaver.email not in messages_per_reader(worker_env)
    assert DigestDelivery.objects.get(subscriber=leaver).status == Status.SKIPPED
    assert statuses()[Status.SENT] == len(readers) - 1
