"""Rows whose worker was killed: claimed rows come back within 15 minutes of the next ticks,
'sending' ones become 'unknown', and a re-run of send_digests --date finishes the job."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from newsletter import planning
from newsletter.models import DigestDelivery
from tests.factories import make_due_reader, make_new_paper, unlearning_topic

pytestmark = pytest.mark.django_db
KILLED_AT = datetime(2026, 11, 25, 8, 3, tzinfo=UTC)
Status = DigestDelivery.Status


def killed_run(*statuses: str) -> list[DigestDelivery]:
    """Rows of readers with papers to get, as a worker killed at KILLED_AT left them."""
    topic = unlearning_topic()
    make_new_paper(topic, seen=KILLED_AT - timedelta(hours=2))
    return [
        DigestDelivery.objects.create(
            subscriber=make_due_reader(topic, delivery_hour=8),
            issue_date=KILLED_AT.date(),
            status=status,
            claimed_at=KILLED_AT if status != Status.QUEUED else None,
            attempts=1 if status != Status.QUEUED else 0,
        )
        for status in statuses
    ]


def test_claims_a_killed_worker_never_started_are_sent_again_within_fifteen_minutes(
    settings, django_capture_on_commit_callbacks
):
    [row] = killed_run(Status.CLAIMED)
    ticks = [KILLED_AT + timedelta(minutes=m) for m in (4, 14)]  # every 10 minutes (SCHEDULE_DIGEST_TICK)
    with time_machine.travel(ticks[0]), django_capture_on_commit_callbacks(execute=True) as first:
        planning.tick()
    row.refresh_from_db()
    assert row.status == Status.CLAIMED  # only 4 minutes: its worker may still be alive
    assert first == []
    with time_machine.travel(ticks[1]), django_capture_on_commit_callbacks() as second:
        planning.tick()
    row.refresh_from_db()
    assert ticks[1] - KILLED_AT <= timedelta(minutes=15)
    assert (row.status, row.lease) == (Status.QUEUED, None)
    assert len(second) == 1  # its send task is enqueued


def test_a_row_killed_mid_send_becomes_unknown_and_is_never_resent(settings):
    [row] = killed_run(Status.SENDING)
    with time_machine.travel(KILLED_AT + timedelta(seconds=settings.DIGEST_SENDING_TIMEOUT + 1)):
        assert planning.recover(KILLED_AT + timedelta(seconds=settings.DIGEST_SENDING_TIMEOUT + 1)) == (0, 1)
    row.refresh_from_db()
    assert row.status == Status.UNKNOWN


def test_send_digests_for_a_date_again_after_a_kill_sends_what_never_went_out(settings):
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    queued, claimed, sending = killed_run(Status.QUEUED, Status.CLAIMED, Status.SENDING)
    out = StringIO()
    with time_machine.travel(KILLED_AT + timedelta(minutes=2)):
        call_command("send_digests", "--date", KILLED_AT.date().isoformat(), stdout=out)
    assert "2 digests planned: 2 sent." in out.getvalue()
    assert sorted(m.to[0] for m in mail.outbox) == sorted([queued.subscriber.email, claimed.subscriber.email])
    sending.refresh_from_db()
    assert sending.status == Status.SENDING  # only the ESP knows: never resent automatically
