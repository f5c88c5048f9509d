"""The suite runs at a seeded, shifted clock, the same in the test process and its workers."""

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from newsletter.models import Heartbeat
from newsletter.tasks import heartbeat
from tests.clock import SEED_VARIABLE, destination
from tests.conftest import CLOCK, ROOT

REAL_NOW = datetime(2026, 12, 1, 17, 5, tzinfo=UTC)  # a Tuesday


def test_a_seed_always_gives_the_same_weekday_and_time_of_day():
    first, again = destination(18, REAL_NOW), destination(18, REAL_NOW + timedelta(days=9, hours=5))
    assert (first.weekday(), first.hour, first.minute) == (again.weekday(), again.hour, again.minute)


def test_seeds_spread_runs_over_every_hour_and_weekday_of_the_past_week():
    moments = [destination(seed, REAL_NOW) for seed in range(500)]
    assert {m.hour for m in moments} == set(range(24))
    assert {m.weekday() for m in moments} == set(range(7))
    assert all(REAL_NOW - timedelta(days=7) < m <= REAL_NOW for m in moments)


def test_the_test_run_is_at_the_seeded_moment_not_the_real_time():
    real_now = time_machine.escape_hatch.datetime.datetime.now(UTC)
    shifted = datetime.now(UTC)
    assert abs((shifted - real_now).total_seconds() - CLOCK.shift_seconds) < 5
    assert CLOCK.start_at <= timezone.now() < CLOCK.start_at + timedelta(hours=2)


def test_the_seed_and_start_are_the_first_line_of_the_output_and_a_seed_repeats_a_run():
    result = run_suite_part_with_seed("18")
    first_line = result.stdout.splitlines()[0]
    expected = destination(18, datetime.now(UTC))
    assert first_line.startswith(f"paperboy clock: {SEED_VARIABLE}=18 -> the run starts at ")
    assert f"{expected:%A} " in first_line
    assert f" {expected:%H:%M} UTC" in first_line
    assert result.returncode == 0, result.stdout[-2000:]


@pytest.mark.celery
def test_a_worker_runs_at_the_same_shifted_clock_as_the_tests(start_worker):
    start_worker()
    heartbeat.delay("clock-check")
    deadline = datetime.now(UTC) + timedelta(seconds=30)
    while not Heartbeat.objects.filter(name="clock-check").exists():
        assert datetime.now(UTC) < deadline, "the worker never ran the heartbeat"
        time.sleep(0.2)
    seen = Heartbeat.objects.get(name="clock-check").last_seen_at
    assert abs((timezone.now() - seen).total_seconds()) < 30


def test_a_seed_that_is_not_a_number_stops_the_run_with_one_line():
    result = run_suite_part_with_seed("tuesday")
    assert result.returncode != 0
    assert f"{SEED_VARIABLE} must be a whole number, not 'tuesday'" in result.stdout + result.stderr


def run_suite_part_with_seed(seed: str) -> subprocess.CompletedProcess:
    """A small part of this suite in a pytest of its own, with the clock seed given."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_clock.py",
            "-k",
            "spread",
        ],
        cwd=ROOT,
        env={**os.environ, SEED_VARIABLE: seed},
        capture_output=True,
        text=True,
        timeout=300,
    )
