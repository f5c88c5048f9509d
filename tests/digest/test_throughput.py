"""Sending at the ESP's speed: overlapping sends, the site-wide rate and what a 429 does."""

import pytest
import redis
from django.conf import settings as django_settings
from django.utils import timezone

from newsletter import planning, sending, throttle
from newsletter.models import DigestDelivery
from tests import backends
from tests.factories import make_due_reader, make_new_paper, unlearning_topic

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _probe_state(settings, tmp_path, monkeypatch):
    monkeypatch.setenv("FLAKY_STATE_DIR", str(tmp_path / "state"))
    settings.OUTBOX_DIR = tmp_path / "outbox"
    backends.ConcurrencyProbeBackend.peak = 0
    if django_settings.REDIS_URL:
        redis.Redis.from_url(django_settings.REDIS_URL).delete(throttle.SLOT_KEY, throttle.PAUSE_KEY)


def plan_readers(count: int) -> list[int]:
    topic = unlearning_topic()
    make_new_paper(topic)
    readers = [make_due_reader(topic) for _ in range(count)]
    now = timezone.now()
    return planning.create_deliveries([(r.pk, r.email, now.date()) for r in readers], now)


def test_a_worker_keeps_as_many_sends_in_flight_as_it_has_threads(settings, monkeypatch):
    settings.EMAIL_BACKEND = "tests.backends.ConcurrencyProbeBackend"
    settings.DIGEST_SEND_THREADS = 4
    monkeypatch.setenv("FLAKY_DELAY", "0.2")
    counts = sending.send_chunk(plan_readers(12))
    assert counts == {"sent": 12}
    assert backends.ConcurrencyProbeBackend.peak == 4
    assert len(list(settings.OUTBOX_DIR.glob("*.eml"))) == 12


def test_one_thread_sends_one_message_at_a_time(settings, monkeypatch):
    settings.EMAIL_BACKEND = "tests.backends.ConcurrencyProbeBackend"
    settings.DIGEST_SEND_THREADS = 1
    monkeypatch.setenv("FLAKY_DELAY", "0.05")
    assert sending.send_chunk(plan_readers(3)) == {"sent": 3}
    assert backends.ConcurrencyProbeBackend.peak == 1


def test_an_esp_429_slows_the_site_down_and_the_message_still_goes_out_once(settings, monkeypatch):
    settings.EMAIL_BACKEND = "tests.backends.RateLimitedBackend"
    settings.DIGEST_RATE_LIMITED_PAUSE = 0.05
    ids = plan_readers(2)
    limited = DigestDelivery.objects.get(pk=ids[0]).subscriber.email
    monkeypatch.setenv("FLAKY_RECIPIENTS", limited)
    monkeypatch.setenv("FLAKY_FAILURES", "2")
    paused = []
    monkeypatch.setattr(throttle, "slow_down", lambda seconds: paused.append(seconds))

    assert sending.send_chunk(ids) == {"sent": 2}
    assert backends.attempts(limited) == [limited] * 3
    assert paused == [0.05, 0.05]
    row = DigestDelivery.objects.get(pk=ids[0])
    assert (row.status, row.attempts) == ("sent", 1)


def test_a_429_that_outlasts_the_tries_waits_for_a_normal_retry_instead_of_failing(
    settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.backends.RateLimitedBackend"
    settings.DIGEST_RATE_LIMITED_TRIES = 2
    settings.DIGEST_RATE_LIMITED_PAUSE = 0.01
    [pk] = plan_readers(1)
    monkeypatch.setenv("FLAKY_RECIPIENTS", DigestDelivery.objects.get(pk=pk).subscriber.email)
    monkeypatch.setenv("FLAKY_FAILURES", "5")
    with django_capture_on_commit_callbacks() as callbacks:
        assert sending.send_chunk([pk]) == {"queued": 1}
    row = DigestDelivery.objects.get(pk=pk)
    assert row.status == "queued"
    assert "429" in row.error
    assert len(callbacks) == 1


@pytest.mark.skipif(not django_settings.REDIS_URL, reason="the site-wide pace lives in Redis (REDIS_URL)")
def test_the_site_wide_rate_hands_out_evenly_spaced_slots_shared_through_redis(settings):
    settings.DIGEST_MAX_SEND_RATE = 50
    first = throttle.slots(5)
    second = throttle.pace_for(settings.REDIS_URL).reserve(0)  # another worker, asking after
    assert [round(b - a, 6) for a, b in zip(first, first[1:], strict=False)] == [0.02] * 4
    # The other worker's first free moment is after all five of ours: 5 x 20 ms from our first.
    assert 0.08 < second < 0.11


@pytest.mark.skipif(not django_settings.REDIS_URL, reason="the site-wide pace lives in Redis (REDIS_URL)")
def test_a_pause_asked_for_by_one_worker_delays_every_workers_next_slot(settings):
    settings.DIGEST_MAX_SEND_RATE = None
    throttle.pace_for(settings.REDIS_URL).pause(0.5)
    assert 0.4 < throttle.pace_for(settings.REDIS_URL).reserve(0) <= 0.5
