"""Planning: who is due at each tick, once per local date, never for readers we must not mail."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from newsletter import planning
from newsletter.models import DigestDelivery, Subscriber, Suppression, email_hash
from tests.factories import make_due_reader

pytestmark = pytest.mark.django_db


def planned_dates(reader) -> list:
    return list(DigestDelivery.objects.filter(subscriber=reader).values_list("issue_date", flat=True))


def test_local_slots_group_zones_by_local_date_and_hour():
    now = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)
    slots = planning.local_slots(["UTC", "Europe/Paris", "Europe/Berlin", "Not/AZone"], now)
    assert slots == {
        (now.date(), 23, 2): ["UTC"],
        (now.date() + timedelta(days=1), 0, 3): ["Europe/Paris", "Europe/Berlin"],
    }


def test_a_reader_is_planned_once_their_local_hour_has_come():
    reader = make_due_reader(delivery_hour=8, time_zone="Asia/Tokyo")  # UTC+9
    with time_machine.travel(datetime(2026, 11, 24, 22, 50, tzinfo=UTC)):  # 07:50 in Tokyo
        assert planning.tick() == []
    with time_machine.travel(datetime(2026, 11, 24, 23, 0, tzinfo=UTC)):  # 08:00 on the 25th
        assert len(planning.tick()) == 1
    assert planned_dates(reader) == [date(2026, 11, 25)]


def test_a_missed_hour_is_caught_up_later_the_same_local_day(settings):
    settings.DIGEST_CATCH_UP_HOURS = 6
    reader = make_due_reader(delivery_hour=8, time_zone="UTC")
    with time_machine.travel(datetime(2026, 11, 25, 13, 50, tzinfo=UTC)):
        planning.tick()
    assert planned_dates(reader) == [date(2026, 11, 25)]


def test_a_reader_past_the_catch_up_window_waits_for_their_hour_tomorrow(settings):
    settings.DIGEST_CATCH_UP_HOURS = 6
    reader = make_due_reader(delivery_hour=8, time_zone="UTC")
    with time_machine.travel(datetime(2026, 11, 25, 20, 0, tzinfo=UTC)):  # confirmed this evening
        assert planning.tick() == []
    with time_machine.travel(datetime(2026, 11, 26, 8, 0, tzinfo=UTC)):
        planning.tick()
    assert planned_dates(reader) == [date(2026, 11, 26)]


def test_planning_again_the_same_day_creates_nothing(django_capture_on_commit_callbacks):
    make_due_reader()
    with django_capture_on_commit_callbacks(execute=False):
        first, second = planning.tick(), planning.tick()
    assert len(first) == 1
    assert second == []
    assert DigestDelivery.objects.count() == 1


def test_weekly_readers_are_planned_on_their_weekday_only():
    reader = make_due_reader(
        frequency=Subscriber.Frequency.WEEKLY,
        delivery_weekday=2,
        delivery_hour=12,  # Wednesday noon
    )
    with time_machine.travel(datetime(2026, 11, 24, 12, 0, tzinfo=UTC)):  # Tuesday
        planning.tick()
    with time_machine.travel(datetime(2026, 11, 25, 12, 0, tzinfo=UTC)):  # Wednesday
        planning.tick()
    assert planned_dates(reader) == [date(2026, 11, 25)]


@pytest.mark.parametrize(
    "status",
    [
        Subscriber.Status.PENDING,
        Subscriber.Status.PAUSED,
        Subscriber.Status.UNSUBSCRIBED,
        Subscriber.Status.SUPPRESSED,
    ],
)
def test_readers_who_are_not_active_are_never_planned(status):
    make_due_reader(status=status)
    active = make_due_reader()  # due at the same tick: the tick does plan
    assert planned_readers(planning.tick()) == [active.pk]


def test_suppressed_addresses_are_never_planned():
    reader = make_due_reader()
    Suppression.objects.create(
        email_hash=email_hash(reader.email.upper()), reason=Suppression.Reason.COMPLAINT
    )
    active = make_due_reader()
    assert planned_readers(planning.tick()) == [active.pk]


def planned_readers(delivery_ids) -> list[int]:
    return list(DigestDelivery.objects.filter(id__in=delivery_ids).values_list("subscriber_id", flat=True))


@pytest.mark.parametrize(
    ("day", "hours"),
    [
        # Spring forward in New York: 02:00 local never happens on 2026-03-08.
        (datetime(2026, 3, 8, tzinfo=UTC), range(0, 36)),
        # Fall back: 01:00 local happens twice on 2026-11-01.
        (datetime(2026, 11, 1, tzinfo=UTC), range(0, 36)),
    ],
)
def test_dst_days_give_exactly_one_digest_with_ticks_every_ten_minutes(day, hours):
    readers = [make_due_reader(delivery_hour=h, time_zone="America/New_York") for h in (1, 2, 3)]
    for minutes in range(0, 36 * 60, 10):
        with time_machine.travel(day + timedelta(minutes=minutes), tick=False):
            planning.plan_due(timezone.now())
    for reader in readers:
        local_day = day.date()
        assert planned_dates(reader).count(local_day) == 1


@time_machine.travel(datetime(2026, 11, 25, 12, 5, tzinfo=UTC), tick=False)
def test_planning_uses_a_fixed_number_of_queries_however_many_readers(django_assert_num_queries):
    for _ in range(30):
        make_due_reader(time_zone="Europe/Paris", delivery_hour=13)  # 13:05 in Paris
    make_due_reader(time_zone="UTC", delivery_hour=12)
    # zones, one query per local slot (2), suppressions, insert, the new ids
    # (plus the savepoint pair of the planning transaction)
    with django_assert_num_queries(8):
        planned = planning.plan_due(timezone.now())
    assert len(planned) == 31


def test_two_planners_racing_for_the_same_readers_create_one_row_each():
    readers = [make_due_reader() for _ in range(5)]
    now = timezone.now()
    due = planning.due_readers(now)
    # Both planners saw the same due readers; the second insert loses every conflict.
    first = planning.create_deliveries(due, now)
    second = planning.create_deliveries(due, now + timedelta(microseconds=1))
    assert len(first) == 5
    assert second == []
    assert DigestDelivery.objects.filter(subscriber__in=readers).count() == 5


def test_rows_abandoned_mid_send_become_unknown_after_the_task_time_limit(settings):
    reader = make_due_reader()
    claimed = timezone.now() - timedelta(seconds=settings.DIGEST_SENDING_TIMEOUT + 1)
    row = DigestDelivery.objects.create(
        subscriber=reader, issue_date=claimed.date(), status="sending", claimed_at=claimed
    )
    fresh = DigestDelivery.objects.create(
        subscriber=make_due_reader(), issue_date=claimed.date(), status="sending", claimed_at=timezone.now()
    )
    assert planning.recover(timezone.now()) == (0, 1)
    row.refresh_from_db()
    fresh.refresh_from_db()
    assert row.status == "unknown"
    assert "may have accepted" in row.error
    assert fresh.status == "sending"
