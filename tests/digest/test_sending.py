"""Sending a chunk in-process: candidates, claims, outcomes, error classes and retry policy."""

from datetime import timedelta

import pytest
import requests
from anymail.exceptions import AnymailAPIError, AnymailInvalidAddress, AnymailRecipientsRefused
from django.core import mail
from django.utils import timezone
from urllib3.exceptions import MaxRetryError, NewConnectionError

from newsletter import day_index, planning, sending
from newsletter.models import DigestDelivery, Subscriber
from tests.factories import make_due_reader, make_new_paper, make_robot_paper, unlearning_topic

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _anymail_test_backend(settings, tmp_path, monkeypatch):
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    monkeypatch.setenv("FLAKY_STATE_DIR", str(tmp_path / "state"))
    settings.OUTBOX_DIR = tmp_path / "outbox"


def plan(*readers) -> list[int]:
    now = timezone.now()
    return planning.create_deliveries([(r.pk, r.email, now.date()) for r in readers], now)


def flaky_reader(settings, monkeypatch, backend: str) -> Subscriber:
    """A reader with a paper to get, whose sends the named test backend (tests/backends.py) fails."""
    settings.EMAIL_BACKEND = f"tests.backends.{backend}"
    topic = unlearning_topic()
    make_new_paper(topic)
    reader = make_due_reader(topic)
    monkeypatch.setenv("FLAKY_RECIPIENTS", reader.email)
    return reader


def test_it_sends_one_digest_with_the_matching_papers_and_records_it():
    topic = unlearning_topic()
    papers = [make_new_paper(topic, upvotes=n) for n in (5, 50, 500)]
    make_robot_paper()
    reader = make_due_reader(topic)
    [delivery_id] = plan(reader)

    assert sending.send_chunk([delivery_id]) == {"sent": 1}

    [message] = mail.outbox
    row = DigestDelivery.objects.get()
    assert message.to == [reader.email]
    assert message.tags == ["digest"]
    assert message.metadata == {"delivery_id": str(delivery_id)}
    assert row.status == "sent"
    assert row.sent_at is not None
    assert row.attempts == 1
    assert row.paper_ids == [p.pk for p in reversed(papers)]
    assert row.reasons[0] == "matches your topic Machine unlearning"
    assert row.esp_message_id == str(message.anymail_status.message_id)
    reader.refresh_from_db()
    assert reader.last_digest_at is not None


def test_nothing_matched_means_skipped_and_no_email():
    make_robot_paper()
    reader = make_due_reader(unlearning_topic())
    sending.send_chunk(plan(reader))
    assert mail.outbox == []
    row = DigestDelivery.objects.get()
    assert row.status == "skipped"
    assert "Nothing new matched" in row.error


def test_old_hidden_withdrawn_and_already_sent_papers_are_not_candidates():
    topic = unlearning_topic()
    reader = make_due_reader(topic, last_digest_at=timezone.now() - timedelta(hours=1))
    fresh = make_new_paper(topic, seen=timezone.now() - timedelta(minutes=30))
    make_new_paper(topic, seen=timezone.now() - timedelta(hours=2))  # before the last digest
    make_new_paper(topic, seen=timezone.now() - timedelta(minutes=30), hidden=True)
    make_new_paper(topic, seen=timezone.now() - timedelta(minutes=30), withdrawn=True)
    sent_before = make_new_paper(topic, seen=timezone.now() - timedelta(minutes=30))
    DigestDelivery.objects.create(
        subscriber=reader,
        issue_date=timezone.now().date() - timedelta(days=1),
        status="sent",
        paper_ids=[sent_before.pk],
    )
    sending.send_chunk(plan(reader))
    assert DigestDelivery.objects.get(issue_date=timezone.now().date()).paper_ids == [fresh.pk]


def test_a_reader_who_unsubscribed_after_planning_gets_nothing():
    topic = unlearning_topic()
    make_new_paper(topic)
    reader, other = make_due_reader(topic), make_due_reader(topic)
    ids = plan(reader, other)
    Subscriber.objects.filter(pk=reader.pk).update(status=Subscriber.Status.UNSUBSCRIBED)

    sending.send_chunk(ids)

    assert [m.to for m in mail.outbox] == [[other.email]]
    row = DigestDelivery.objects.get(subscriber=reader)
    assert row.status == "skipped"
    assert "unsubscribed" in row.error


def test_rows_already_claimed_or_done_are_never_sent_again():
    topic = unlearning_topic()
    make_new_paper(topic)
    ids = plan(make_due_reader(topic), make_due_reader(topic))
    DigestDelivery.objects.filter(pk=ids[0]).update(status="sending")
    sending.send_chunk(ids)
    sending.send_chunk(ids)
    assert len(mail.outbox) == 1
    assert DigestDelivery.objects.claim(ids, timezone.now())[1] == {}


@pytest.mark.parametrize("size", [4, 16])
def test_a_chunk_reads_in_fixed_queries_and_commits_each_outcome_as_it_comes(
    size, settings, django_assert_num_queries
):
    settings.DIGEST_SEND_THREADS = 1
    topic = unlearning_topic()
    make_new_paper(topic)
    ids = plan(*[make_due_reader(topic) for _ in range(size)])
    day_index.day_papers(timezone.now())  # a worker keeps the day's papers between chunks
    # claim (4, with its savepoint pair); rows, readers, suppressions, day signature (3), reader
    # topics, sent papers, ratings, seeds, follows, rated/seeded/pinned papers; then one transaction
    # per message (savepoint pair, the write-ahead mark, the previous message's outcome and its
    # reader's last_digest_at).
    with django_assert_num_queries(4 + 12 + 3 + 5 * (size - 1) + 4):
        sending.send_chunk(ids)
    assert len(mail.outbox) == size


def test_a_transient_error_puts_the_row_back_and_schedules_a_retry(
    settings, monkeypatch, django_capture_on_commit_callbacks
):
    reader = flaky_reader(settings, monkeypatch, "TransientFailureBackend")
    with django_capture_on_commit_callbacks() as callbacks:
        sending.send_chunk(plan(reader))
    row = DigestDelivery.objects.get()
    assert row.status == "queued"
    assert row.attempts == 1
    assert "503" in row.error
    assert len(callbacks) == 1


def test_the_last_transient_error_within_the_budget_fails_the_row(settings, monkeypatch):
    settings.DIGEST_MAX_ATTEMPTS = 1
    reader = flaky_reader(settings, monkeypatch, "TransientFailureBackend")
    sending.send_chunk(plan(reader))
    row = DigestDelivery.objects.get()
    assert row.status == "failed"
    assert row.error.startswith("Gave up after 1 attempts")


def test_a_permanent_error_fails_the_row_with_the_reason_and_no_retry(
    settings, monkeypatch, django_capture_on_commit_callbacks
):
    reader = flaky_reader(settings, monkeypatch, "PermanentFailureBackend")
    with django_capture_on_commit_callbacks() as callbacks:
        sending.send_chunk(plan(reader))
    row = DigestDelivery.objects.get()
    assert row.status == "failed"
    assert "AnymailRecipientsRefused" in row.error
    assert "inactive address" in row.error
    assert callbacks == []


def test_a_timeout_after_the_esp_got_the_message_is_unknown_and_never_resent(settings, monkeypatch):
    reader = flaky_reader(settings, monkeypatch, "TimeoutAfterSendBackend")
    ids = plan(reader)
    sending.send_chunk(ids)
    sending.send_chunk(ids)
    planning.tick()
    row = DigestDelivery.objects.get()
    assert row.status == "unknown"
    assert len(list(settings.OUTBOX_DIR.glob("*.eml"))) == 1


def test_a_timed_out_digest_the_esp_reported_delivered_meanwhile_is_sent_not_unknown(settings, monkeypatch):
    settings.DIGEST_SEND_THREADS = 1  # the webhook arrives in the sending thread's transaction
    reader = flaky_reader(settings, monkeypatch, "DeliveredThenTimeoutBackend")
    sending.send_chunk(plan(reader))
    row = DigestDelivery.objects.get()
    assert row.status == "sent"
    assert row.esp_message_id == "esp-early"
    assert row.events.get().event_type == "delivered"
    assert len(list(settings.OUTBOX_DIR.glob("*.eml"))) == 1


def requests_error(kind, cause=None):
    """An error the way Anymail raises one from requests: a subclass of both."""
    error = type("AnymailRequestsAPIError", (AnymailAPIError, kind), {})("Error posting to the ESP")
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (AnymailAPIError("Service Unavailable", status_code=503), "transient"),
        (AnymailAPIError("Too Many Requests", status_code=429), "transient"),
        (AnymailAPIError("Bad Request", status_code=400), "failed"),
        (AnymailAPIError("Unprocessable", status_code=422), "failed"),
        (AnymailRecipientsRefused(), "failed"),
        (AnymailInvalidAddress("not an address"), "failed"),
        (requests_error(requests.ConnectTimeout), "transient"),
        (
            requests_error(
                requests.ConnectionError,
                requests.ConnectionError(MaxRetryError(None, "/", NewConnectionError(None, "refused"))),
            ),
            "transient",
        ),
        (requests_error(requests.ReadTimeout, requests.ReadTimeout("read timed out")), "unknown"),
        (requests_error(requests.ConnectionError, requests.ConnectionError("Connection aborted")), "unknown"),
        (TimeoutError("timed out"), "unknown"),
        (ConnectionRefusedError(), "transient"),
        (RuntimeError("a bug"), "unknown"),
    ],
)
def test_errors_are_classified_by_whether_the_esp_may_have_the_message(error, expected):
    assert sending.classify(error) == expected


def test_retry_delays_grow_with_jitter_and_stay_below_the_visibility_timeout(settings):
    settings.DIGEST_RETRY_BASE_SECONDS = 60
    settings.DIGEST_RETRY_MAX_SECONDS = 10 * 3600
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 4 * 3600}
    assert sending.retry_delay(1, rand=0) == 30
    assert sending.retry_delay(1, rand=1) == 60
    assert sending.retry_delay(3, rand=1) == 240
    assert sending.retry_delay(30, rand=1) == 2 * 3600


def test_requeue_sends_failed_rows_again_once(django_capture_on_commit_callbacks):
    topic = unlearning_topic()
    make_new_paper(topic)
    ids = plan(make_due_reader(topic), make_due_reader(topic))
    DigestDelivery.objects.filter(pk=ids[0]).update(status="failed", error="Gave up", attempts=6)
    DigestDelivery.objects.filter(pk=ids[1]).update(status="sent")
    with django_capture_on_commit_callbacks(execute=True):
        assert planning.requeue(ids) == 1
    row = DigestDelivery.objects.get(pk=ids[0])
    assert (row.status, row.attempts, row.error) == ("queued", 0, "")


def test_a_digest_that_cannot_be_built_fails_with_the_reason_instead_of_going_unknown(monkeypatch):
    topic = unlearning_topic()
    make_new_paper(topic)
    ids = plan(make_due_reader(topic))

    def broken(self, out, delivery_id=None, to=None):
        raise ValueError("template error")

    monkeypatch.setattr("newsletter.emails.DigestRenderer.message", broken)
    sending.send_chunk(ids)
    row = DigestDelivery.objects.get()
    assert row.status == "failed"
    assert row.error == "Could not build the email: template error"
    assert mail.outbox == []
