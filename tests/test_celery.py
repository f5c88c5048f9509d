"""A real worker and a real beat process, on the configured broker and the test database."""

import time

import pytest
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from config.schedules import install_schedules
from newsletter.models import Heartbeat
from newsletter.tasks import heartbeat
from tests.helpers import wait_until

pytestmark = pytest.mark.celery


def test_a_real_worker_runs_a_task_that_writes_to_the_database(start_worker):
    start_worker()
    heartbeat.delay("from-test")
    row = wait_until(lambda: Heartbeat.objects.filter(name="from-test").first())
    assert row.last_seen_at is not None


def test_a_real_beat_enqueues_a_scheduled_task_within_its_interval(start_worker, start_beat):
    interval = 3
    every, _ = IntervalSchedule.objects.get_or_create(every=interval, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(
        name="test heartbeat",
        task="newsletter.tasks.heartbeat",
        interval=every,
        kwargs='{"name": "from-beat"}',
    )
    start_worker()
    beat = start_beat()
    # Starting the processes takes a while; the first run then comes at once and the task ran.
    wait_until(lambda: Heartbeat.objects.filter(name="from-beat").exists(), timeout=45)
    first = beat.output().count("Sending due task test heartbeat")
    started = time.monotonic()
    # Then one more run per interval: two more within two intervals (plus beat's 1 s tick and some slack).
    wait_until(lambda: beat.output().count("Sending due task test heartbeat") >= first + 2, timeout=15)
    assert time.monotonic() - started <= 2 * interval + 3


def test_default_schedules_are_installed_once_and_editor_changes_stick(db):
    assert ("heartbeat", "created") in install_schedules()
    PeriodicTask.objects.filter(name="heartbeat").update(enabled=False)

    assert ("heartbeat", "kept") in install_schedules()
    assert PeriodicTask.objects.get(name="heartbeat").enabled is False

    install_schedules(reset=True)
    assert PeriodicTask.objects.get(name="heartbeat").enabled is True
