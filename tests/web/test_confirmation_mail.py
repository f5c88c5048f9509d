"""Confirmation mail goes through a durable outbox: written with the sign-up, sent by a worker,
retried with backoff when the ESP fails transiently, re-queued by the sweep when its task is lost."""

from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from config.celery_app import app as celery_app
from newsletter import subscription_mail, subscriptions
from newsletter.models import Subscriber, SubscriptionEmail
from tests.factories import make_reader, signup_data
from tests.helpers import wait_until

Status = SubscriptionEmail.Status
SUBSCRIBE = reverse("subscribe")


def deliver(email: SubscriptionEmail) -> str | None:
    return subscription_mail.deliver(email.pk, subscriptions.send_subscription_email)


def a_day_later():
    return time_machine.travel(timezone.now() + timedelta(days=1), tick=False)


def delivered_to(outbox: Path) -> list[str]:
    return [
        line
        for path in sorted(outbox.glob("*.eml"))
        for line in path.read_text().splitlines()
        if line.startswith("To: ")
    ]


@pytest.fixture
def esp(settings, monkeypatch, tmp_path):
    """Use one of tests/backends.py's misbehaving ESPs for new@example.org."""
    monkeypatch.setenv("FLAKY_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("FLAKY_RECIPIENTS", "new@example.org")
    settings.OUTBOX_DIR = tmp_path / "outbox"

    def use(backend: str, failures: int = 1) -> Path:
        settings.EMAIL_BACKEND = f"tests.backends.{backend}"
        monkeypatch.setenv("FLAKY_FAILURES", str(failures))
        return settings.OUTBOX_DIR

    return use


@pytest.fixture
def broker_down():
    """Point the Celery app at a port nothing listens on (a real refused connection) and back."""
    real = celery_app.conf.broker_url
    celery_app.conf.broker_url = "redis://127.0.0.1:18499/0"
    reset_broker_pools()
    yield
    celery_app.conf.broker_url = real
    reset_broker_pools()


def reset_broker_pools() -> None:
    # Celery keeps its connection and producer pools for the life of the process.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def pending_reader() -> Subscriber:
    return make_reader("new@example.org", status=Subscriber.Status.PENDING)


@pytest.mark.django_db
def test_signing_up_writes_the_confirmation_to_the_outbox_before_anything_is_queued(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(SUBSCRIBE, signup_data(interests="speculative decoding"))
    assert response.status_code == 200
    email = SubscriptionEmail.objects.get()
    assert (email.subscriber.email, email.kind, email.status) == ("new@example.org", "confirm", Status.QUEUED)
    assert len(callbacks) == 1  # the broker only ever hears of committed rows


@pytest.mark.django_db
def test_a_transient_esp_failure_is_retried_with_backoff_until_it_is_sent(esp, settings):
    settings.SUBSCRIPTION_MAIL_RETRY_BASE_SECONDS = 60
    outbox = esp("TransientFailureBackend", failures=2)
    email = subscription_mail.queue(pending_reader().pk, "confirm")
    start = timezone.now()

    def attempt_at(seconds: int) -> str | None:
        with time_machine.travel(start + timedelta(seconds=seconds), tick=False):
            return deliver(email)

    assert attempt_at(0) == Status.QUEUED
    email.refresh_from_db()
    assert "Attempt 1 failed, will retry: AnymailAPIError" in email.error
    assert timedelta(seconds=30) <= email.next_attempt_at - start <= timedelta(seconds=60)
    assert attempt_at(5) is None  # not due yet: nothing happens
    assert attempt_at(60) == Status.QUEUED
    email.refresh_from_db()
    assert (
        timedelta(seconds=60)
        <= email.next_attempt_at - (start + timedelta(seconds=60))
        <= timedelta(seconds=120)
    )
    assert attempt_at(180) == Status.SENT
    email.refresh_from_db()
    assert (email.attempts, email.sent_at) == (3, start + timedelta(seconds=180))
    assert delivered_to(outbox) == ["To: new@example.org"]
    assert attempt_at(3600) is None  # a duplicated task sends nothing


@pytest.mark.django_db
def test_a_refused_recipient_is_recorded_as_failed_and_never_retried(esp):
    outbox = esp("PermanentFailureBackend")
    email = subscription_mail.queue(pending_reader().pk, "confirm")
    assert deliver(email) == Status.FAILED
    email.refresh_from_db()
    assert "rejected the recipient" in email.error
    with a_day_later():
        assert deliver(email) is None
        assert subscription_mail.sweep() == 0
    assert delivered_to(outbox) == []


@pytest.mark.django_db
def test_it_gives_up_after_the_last_attempt(esp, settings):
    settings.SUBSCRIPTION_MAIL_MAX_ATTEMPTS = 2
    esp("TransientFailureBackend", failures=10)
    email = subscription_mail.queue(pending_reader().pk, "confirm")
    assert deliver(email) == Status.QUEUED
    with a_day_later():
        assert deliver(email) == Status.FAILED
    email.refresh_from_db()
    assert email.error.startswith("Gave up after 2 attempts: AnymailAPIError")


@pytest.mark.django_db
def test_an_email_that_no_longer_applies_is_skipped(esp):
    outbox = esp("SlowOutboxBackend")
    reader = pending_reader()
    email = subscription_mail.queue(reader.pk, "confirm")
    subscriptions.confirm(reader)
    assert deliver(email) == Status.SKIPPED
    assert delivered_to(outbox) == []


def test_backoff_doubles_per_attempt_up_to_the_cap(settings):
    settings.SUBSCRIPTION_MAIL_RETRY_BASE_SECONDS = 30
    settings.SUBSCRIPTION_MAIL_RETRY_MAX_SECONDS = 1800
    assert [subscription_mail.retry_delay(n, rand=1.0) for n in (1, 2, 3, 7, 8)] == [30, 60, 120, 1800, 1800]
    assert subscription_mail.retry_delay(1, rand=0.0) == 15


@pytest.mark.django_db
def test_the_outbox_row_moves_only_along_its_transitions():
    reader = pending_reader()
    for target in Status:
        email = subscription_mail.queue(reader.pk, "confirm")
        now = timezone.now()
        for source in (Status.QUEUED, Status.SENDING, Status.SENT):
            email.status = source
            allowed = target in SubscriptionEmail.TRANSITIONS.get(source, ())
            if allowed:
                SubscriptionEmail.objects.filter(pk=email.pk).update(status=source)
                email.finish(target, now)
                assert SubscriptionEmail.objects.get(pk=email.pk).status == target
            else:
                with pytest.raises(ValueError, match=f"cannot become {target}"):
                    email.finish(target, now)


@pytest.mark.django_db
def test_a_row_abandoned_mid_send_becomes_unknown_and_is_not_sent_again(settings):
    email = subscription_mail.queue(pending_reader().pk, "confirm")
    claimed_at = timezone.now()
    assert SubscriptionEmail.objects.claim(email.pk, claimed_at)
    later = claimed_at + timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 61)
    assert subscription_mail.sweep(later) == 0
    email.refresh_from_db()
    assert email.status == Status.UNKNOWN
    assert "may have accepted" in email.error


@pytest.mark.celery
def test_a_sign_up_while_the_broker_is_down_answers_normally_and_the_sweep_sends_it_later(
    client, start_worker, broker_down, tmp_path, settings
):
    response = client.post(SUBSCRIBE, signup_data(interests="speculative decoding"))
    assert response.status_code == 200
    assert "Check your inbox" in response.content.decode()
    email = SubscriptionEmail.objects.get()
    assert email.status == Status.QUEUED
    # Back up. A fresh row may still have its task on the way; only long-waiting ones are re-queued.
    celery_app.conf.broker_url = settings.CELERY_BROKER_URL
    reset_broker_pools()
    assert subscription_mail.sweep() == 0
    outbox = tmp_path / "outbox"
    start_worker(DJANGO_EMAIL_BACKEND="newsletter.backends.OutboxBackend", OUTBOX_DIR=str(outbox))
    assert (
        subscription_mail.sweep(
            timezone.now() + timedelta(seconds=settings.SUBSCRIPTION_MAIL_SWEEP_AFTER + 1)
        )
        == 1
    )
    # The worker records the outcome just after the ESP (the outbox) took the message.
    wait_until(lambda: SubscriptionEmail.objects.filter(pk=email.pk, status=Status.SENT).exists())
    assert delivered_to(outbox) == ["To: new@example.org"]


def test_the_sweep_is_one_of_the_default_schedules(settings):
    sweep = settings.PAPERBOY_SCHEDULES["subscription-mail-sweep"]
    assert sweep["task"] == "newsletter.tasks.sweep_subscription_emails"
    assert sweep["crontab"] == "*/5 * * * *"


@pytest.mark.django_db
def test_a_worker_whose_clock_is_a_little_behind_sends_a_fresh_email_at_once(esp):
    outbox = esp("SlowOutboxBackend")
    email = subscription_mail.queue(pending_reader().pk, "confirm")
    with time_machine.travel(email.next_attempt_at - timedelta(seconds=5), tick=False):
        assert deliver(email) == Status.SENT
    assert delivered_to(outbox) == ["To: new@example.org"]


@pytest.mark.django_db
def test_staff_see_which_confirmation_emails_failed_and_why(admin_client, esp):
    esp("PermanentFailureBackend")
    email = subscription_mail.queue(pending_reader().pk, "confirm")
    deliver(email)
    response = admin_client.get("/admin/newsletter/subscriptionemail/?status__exact=failed")
    assert response.status_code == 200
    assert "rejected the recipient" in response.text
    assert admin_client.get(f"/admin/newsletter/subscriptionemail/{email.pk}/change/").status_code == 200
