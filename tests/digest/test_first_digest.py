"""Confirming a subscription sends the first digest at once: the best of the last 3 days, as
that (local) day's one digest, through the usual claim-and-send path after commit."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core import mail

from newsletter import day_index, planning, sending
from newsletter.models import DigestDelivery, Subscriber
from newsletter.tokens import make_token
from tests.factories import make_due_reader, make_new_paper, unlearning_topic

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 24, 20, 30, tzinfo=UTC)  # already Nov 25 in Tokyo
TOKYO_DAY = date(2026, 11, 25)


@pytest.fixture(autouse=True)
def _frozen(settings):
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    day_index.forget()
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def pending():
    topic = unlearning_topic()
    return make_due_reader(
        topic, status=Subscriber.Status.PENDING, confirmed_at=None, time_zone="Asia/Tokyo", delivery_hour=8
    )


def confirm(client, reader, callbacks_fixture):
    with callbacks_fixture() as callbacks:
        response = client.post(f"/confirm/{make_token(reader.key, 'confirm')}/")
    return response, callbacks


def test_confirming_sends_the_best_of_the_last_three_days_at_once(
    client, pending, django_capture_on_commit_callbacks
):
    topic = pending.topics.get()
    recent = make_new_paper(topic, seen=NOW - timedelta(days=2))
    make_new_paper(topic, seen=NOW - timedelta(days=4))  # older than three days

    response, callbacks = confirm(client, pending, django_capture_on_commit_callbacks)

    assert response.status_code == 200
    [row] = DigestDelivery.objects.all()
    assert (row.subscriber_id, row.issue_date, row.status) == (pending.pk, TOKYO_DAY, "queued")
    assert len(callbacks) == 1  # the send is enqueued only once the confirmation is committed
    sending.send_chunk([row.pk])  # what the worker runs
    row.refresh_from_db()
    assert row.status == "sent"
    assert row.paper_ids == [recent.pk]
    [message] = mail.outbox
    assert message.to == [pending.email]


def test_the_first_digest_is_that_days_only_digest(client, pending, django_capture_on_commit_callbacks):
    make_new_paper(pending.topics.get(), seen=NOW - timedelta(hours=5))
    confirm(client, pending, django_capture_on_commit_callbacks)
    sending.send_chunk(list(DigestDelivery.objects.values_list("pk", flat=True)))
    with time_machine.travel(datetime(2026, 11, 24, 23, 30, tzinfo=UTC), tick=False):  # 08:30 in Tokyo
        assert planning.tick() == []
    client.post(f"/confirm/{make_token(pending.key, 'confirm')}/")  # confirming twice
    assert DigestDelivery.objects.filter(issue_date=TOKYO_DAY).count() == 1
    assert len(mail.outbox) == 1


def test_the_confirmation_page_says_what_really_happens(client, pending, django_capture_on_commit_callbacks):
    response, _ = confirm(client, pending, django_capture_on_commit_callbacks)
    page = response.content.decode()
    assert "Your first digest is on its way now" in page
    assert "If none of them match yet, there is no email today." in page
    assert "arrives around 08:00 (Asia/Tokyo), starting tomorrow" in page
