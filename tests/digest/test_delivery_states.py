"""Every DigestDelivery state change goes through one QuerySet; each action moves rows only out
of the states its row of the transition table names."""

import uuid
from datetime import UTC, datetime

import pytest

from newsletter.delivery_states import TRANSITIONS, DeliveryStatus, Outcome
from newsletter.models import DigestDelivery, Subscriber
from tests.factories import make_due_reader

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
LEASE = uuid.UUID(int=1)


def row_in(status: str) -> DigestDelivery:
    return DigestDelivery.objects.create(
        subscriber=make_due_reader(), issue_date=NOW.date(), status=status, lease=LEASE, claimed_at=NOW
    )


def target_of(action: str) -> str:
    return next(iter(TRANSITIONS[action][1])) if action != "record" else DeliveryStatus.SENT


ACTIONS = {
    "claim": lambda rows, pk: rows.claim([pk], NOW),
    "skip": lambda rows, pk: rows.skip({pk: "nothing matched"}, NOW),
    "start": lambda rows, pk: rows.leased(LEASE).start([pk], Subscriber.Status.ACTIVE, NOW),
    "release": lambda rows, pk: rows.filter(pk=pk).release(NOW),
    "record": lambda rows, pk: rows.record(LEASE, [Outcome(pk, DeliveryStatus.SENT, sent_at=NOW)], NOW),
    "mark_unknown": lambda rows, pk: rows.filter(pk=pk).mark_unknown("worker lost", NOW),
    "confirm_delivered": lambda rows, pk: rows.filter(pk=pk).confirm_delivered("esp-1", NOW),
    "requeue": lambda rows, pk: rows.filter(pk=pk).requeue(DeliveryStatus.values, NOW),
}


def test_the_table_names_every_action_of_the_api_and_only_real_states():
    assert set(ACTIONS) == set(TRANSITIONS)
    for sources, targets in TRANSITIONS.values():
        assert sources | targets <= set(DeliveryStatus.values)


@pytest.mark.parametrize("action", sorted(TRANSITIONS))
@pytest.mark.parametrize("status", DeliveryStatus.values)
def test_each_action_moves_a_row_only_out_of_the_states_the_table_allows(action, status):
    row = row_in(status)
    ACTIONS[action](DigestDelivery.objects.all(), row.pk)
    row.refresh_from_db()
    if status in TRANSITIONS[action][0]:
        assert row.status == target_of(action)
    else:
        assert row.status == status


def test_sent_and_skipped_rows_are_final():
    assert all(
        DeliveryStatus.SENT not in sources and DeliveryStatus.SKIPPED not in sources
        for sources, _ in TRANSITIONS.values()
    )


def test_a_claim_gives_each_row_to_one_caller_with_its_attempt_number():
    row = row_in(DeliveryStatus.QUEUED)
    lease, won = DigestDelivery.objects.claim([row.pk], NOW)
    assert won == {row.pk: 1}
    assert DigestDelivery.objects.claim([row.pk], NOW)[1] == {}
    row.refresh_from_db()
    assert (row.status, row.lease, row.attempts) == (DeliveryStatus.CLAIMED, lease, 1)


def test_only_the_lease_holder_can_start_sending_a_claimed_row():
    row = row_in(DeliveryStatus.CLAIMED)
    assert (
        DigestDelivery.objects.leased(uuid.UUID(int=2)).start([row.pk], Subscriber.Status.ACTIVE, NOW)
        == set()
    )
    assert DigestDelivery.objects.leased(LEASE).start([row.pk], Subscriber.Status.ACTIVE, NOW) == {row.pk}


def test_a_reader_who_left_after_the_claim_is_never_started():
    row = row_in(DeliveryStatus.CLAIMED)
    Subscriber.objects.filter(pk=row.subscriber_id).update(status=Subscriber.Status.UNSUBSCRIBED)
    assert DigestDelivery.objects.leased(LEASE).start([row.pk], Subscriber.Status.ACTIVE, NOW) == set()
    row.refresh_from_db()
    assert row.status == DeliveryStatus.CLAIMED
