"""A reader's status changes in one place: Subscriber.transition, driven by the TRANSITIONS table."""

import pytest

from newsletter.models import TRANSITIONS, Subscriber
from tests.factories import make_reader

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("status", Subscriber.Status.values)
@pytest.mark.parametrize("event", TRANSITIONS)
def test_every_event_changes_exactly_the_statuses_the_table_allows_and_records_it(event, status):
    allowed, new_status, action = TRANSITIONS[event]
    reader = make_reader(status=status)
    changed = reader.transition(event, {"user_agent": "test", "choices": {"source": "test"}})
    assert changed == (status in allowed)
    assert reader.status == (new_status if changed else status)
    reader.refresh_from_db()
    assert reader.status == (new_status if changed else status)
    consents = list(reader.consents.values_list("action", "user_agent"))
    assert consents == ([(action, "test")] if changed else [])


def test_confirming_stamps_the_confirmation_and_unsubscribing_the_unsubscription():
    reader = make_reader(status=Subscriber.Status.PENDING, confirmed_at=None)
    assert reader.transition("confirm")
    assert reader.confirmed_at is not None
    assert reader.unsubscribed_at is None
    assert reader.transition("unsubscribe")
    assert reader.unsubscribed_at is not None
    assert not reader.transition("unsubscribe")  # twice: the second changes and records nothing
    assert reader.consents.count() == 2


def test_a_stale_copy_cannot_apply_an_event_the_stored_status_no_longer_allows():
    reader = make_reader(status=Subscriber.Status.ACTIVE)
    stale = Subscriber.objects.get(pk=reader.pk)
    assert reader.transition("unsubscribe")
    assert not stale.transition("pause")
    assert stale.status == Subscriber.Status.UNSUBSCRIBED
