"""The staff sending dashboard, a reader's delivery history, and the tracking admin."""

import datetime as dt
import re

import pytest
import time_machine
from django.contrib.auth.models import User

from newsletter.dashboard import Rates, is_alive
from newsletter.models import (
    DeliveryEvent,
    DigestDelivery,
    EngagementCount,
    Heartbeat,
    Subscriber,
    Suppression,
)
from tests.factories import NOON, fire, make_delivery, make_reader

Status = Subscriber.Status
Sent = DigestDelivery.Status
NOW = NOON + dt.timedelta(days=1)  # 2026-11-25 12:00 UTC


# --- Pure helpers -----------------------------------------------------------------------------


def test_rates_warn_only_above_one_complaint_per_thousand():
    assert not Rates(days=7, sent=2000, bounces=0, complaints=2).complaint_warning
    assert Rates(days=7, sent=2000, bounces=0, complaints=3).complaint_warning
    assert Rates(days=7, sent=1000, bounces=5, complaints=2).complaint_percent == pytest.approx(0.2)
    assert Rates(days=7, sent=1000, bounces=5, complaints=2).bounce_percent == pytest.approx(0.5)


def test_complaints_with_nothing_sent_still_warn_and_rates_are_undefined():
    rates = Rates(days=30, sent=0, bounces=1, complaints=1)
    assert rates.complaint_rate is None
    assert rates.bounce_rate is None
    assert rates.complaint_warning
    assert not Rates(days=30, sent=0, bounces=0, complaints=0).complaint_warning


def test_a_heartbeat_older_than_three_minutes_means_not_running():
    assert is_alive(NOW - dt.timedelta(minutes=2), NOW)
    assert not is_alive(NOW - dt.timedelta(minutes=4), NOW)


# --- Pages ------------------------------------------------------------------------------------


def table_rows(page: str) -> list[list[str]]:
    """The text of each table row's cells, as a reader of the page sees them."""
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", page, re.S)
    ]


@pytest.fixture
def staff(client):
    user = User.objects.create_user("editor", password="pw", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/staff/sending/", "/staff/sending/readers/1/"])
def test_the_dashboard_is_for_staff_only(client, url):
    make_reader()
    assert client.get(url)["Location"].startswith("/admin/login/")
    client.force_login(User.objects.create_user("reader", password="pw"))
    assert client.get(url)["Location"].startswith("/admin/login/")


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_the_dashboard_shows_readers_digests_and_rates_with_a_complaint_warning(staff):
    readers = [make_reader(status=status) for status in ["active", "active", "paused", "unsubscribed"]]
    for day, status in [(24, Sent.SENT), (24, Sent.FAILED), (23, Sent.UNKNOWN), (23, Sent.SKIPPED)]:
        DigestDelivery.objects.create(issue_date=dt.date(2026, 11, day), status=status)
    fire("complained", readers[0].email)
    fire("bounced", readers[1].email)
    fire("bounced", readers[2].email, timestamp=NOW - dt.timedelta(days=10))  # in the 30-day window only
    page = staff.get("/staff/sending/").content.decode()
    assert '<td>Subscribed</td><td class="num">0</td>' in page  # both active readers are gone
    assert '<td>Suppressed (bounced or complained)</td><td class="num">3</td>' in page
    rows = table_rows(page)
    # Day, sent, failed, unknown, skipped, pending
    assert ["Tue 2026-11-24", "1", "1", "0", "0", "0"] in rows
    assert ["Mon 2026-11-23", "0", "0", "1", "1", "0"] in rows
    # Window, digests sent ('unknown' counts: the ESP may have it), bounces, rate, complaints, rate
    assert ["Last 7 days", "2", "1", "50.00%", "1", "50.000%"] in rows
    assert ["Last 30 days", "2", "2", "100.00%", "1", "50.000%"] in rows
    assert "above 0.1%" in page  # 1 complaint over 2 digests sent
    assert f"reader {readers[0].pk}" in page


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_no_warning_while_complaints_stay_below_the_limit(staff):
    DigestDelivery.objects.bulk_create(
        DigestDelivery(issue_date=dt.date(2026, 11, 24), status=Sent.SENT) for _ in range(2000)
    )
    fire("complained", make_reader().email)
    page = staff.get("/staff/sending/").content.decode()
    assert "above 0.1%" not in page
    assert "0.050%" in page


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_complaints_older_than_the_window_no_longer_count(staff):
    reader = make_reader()
    fire("complained", reader.email, timestamp=NOW - dt.timedelta(days=40))
    assert "above 0.1%" not in staff.get("/staff/sending/").content.decode()


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_the_dashboard_tells_whether_worker_and_beat_are_alive(staff):
    assert "never run" in staff.get("/staff/sending/").content.decode()
    Heartbeat.objects.create(name="beat", last_seen_at=NOW - dt.timedelta(seconds=50))
    page = staff.get("/staff/sending/").content.decode()
    assert "alive" in page
    assert "NOT RUNNING" not in page
    Heartbeat.objects.filter(name="beat").update(last_seen_at=NOW - dt.timedelta(minutes=10))
    assert "NOT RUNNING" in staff.get("/staff/sending/").content.decode()


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_the_dashboard_shows_opens_and_clicks_in_aggregate(staff):
    EngagementCount.objects.create(day=dt.date(2026, 11, 24), event_type="opened", count=1234)
    EngagementCount.objects.create(day=dt.date(2026, 11, 1), event_type="opened", count=99)
    page = staff.get("/staff/sending/").content.decode()
    assert "Opened (last 7 days): 1,234" in page


@pytest.mark.django_db
def test_the_dashboard_runs_a_fixed_number_of_queries(staff, django_assert_max_num_queries):
    for n in range(30):
        fire("complained", make_reader().email, message_id=f"m{n}")
    with django_assert_max_num_queries(12):
        response = staff.get("/staff/sending/")
    # A cheap error page or a redirect to the login would pass the count too.
    assert response.status_code == 200
    assert "Sending" in response.text


@pytest.mark.django_db
def test_a_readers_history_shows_why_they_were_suppressed(staff):
    reader = make_reader("ada@example.com")
    delivery = make_delivery(reader, esp_message_id="esp-1")
    fire("delivered", "ada@example.com", message_id="esp-1")
    fire("complained", "ada@example.com", message_id="esp-1", description="abuse")
    # An event that reached us before the reader existed under this address still shows via the digest.
    DeliveryEvent.objects.create(event_type="opened", esp="Postmark", message_id="esp-1", fingerprint="x")
    page = staff.get(f"/staff/sending/readers/{reader.pk}/").content.decode()
    assert "Suppressed address: Spam complaint (Postmark webhook)" in page
    assert "abuse" in page
    assert page.count("<td>Postmark</td>") == 3
    assert delivery.issue_date.strftime("%Y-%m-%d") in page


@pytest.mark.django_db
def test_staff_find_a_reader_by_address_or_id(staff):
    reader = make_reader("ada@example.com")
    assert (
        staff.get("/staff/sending/?q=Ada@Example.com")["Location"] == f"/staff/sending/readers/{reader.pk}/"
    )
    assert staff.get(f"/staff/sending/?q={reader.pk}")["Location"] == f"/staff/sending/readers/{reader.pk}/"
    page = staff.get("/staff/sending/?q=nobody@example.com", follow=True).content.decode()
    assert "No reader has that address or id." in page


# --- Admin ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_events_admin_lists_and_filters_events_read_only(staff):
    reader = make_reader()
    fire("complained", reader.email)
    fire("delivered", reader.email)
    page = staff.get("/admin/newsletter/deliveryevent/?kind__exact=complaint").content.decode()
    assert f"/staff/sending/readers/{reader.pk}/" in page
    assert "1 delivery event" in page
    assert staff.get("/admin/newsletter/deliveryevent/add/").status_code == 403


@pytest.mark.django_db
def test_staff_search_the_suppression_list_by_address(staff):
    make_reader("gone@example.com")
    make_reader("other@example.com")
    fire("bounced", "gone@example.com", reject_reason="bounced")
    fire("bounced", "other@example.com", reject_reason="bounced")
    page = staff.get("/admin/newsletter/suppression/?q=Gone@example.com").content.decode()
    assert "1 suppression" in page


@pytest.mark.django_db
def test_staff_suppress_an_address_by_hand_and_the_reader_stops_getting_mail(staff):
    reader = make_reader("ada@example.com")
    response = staff.post(
        "/admin/newsletter/suppression/add/",
        {"email": "ADA@example.com", "reason": "manual", "source": "staff"},
    )
    assert response.status_code == 302
    assert Suppression.is_suppressed("ada@example.com")
    reader.refresh_from_db()
    assert reader.status == Status.SUPPRESSED
    again = staff.post("/admin/newsletter/suppression/add/", {"email": "ada@example.com", "reason": "manual"})
    assert "already suppressed" in again.content.decode()
    assert Suppression.objects.count() == 1
