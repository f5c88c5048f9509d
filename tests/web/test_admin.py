"""The Subscriber admin: staff only, searchable, consent history read-only, bulk actions."""

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from newsletter import links, preferences, spreadsheets, subscriptions
from newsletter.models import ConsentRecord, Subscriber
from tests.factories import make_reader, make_topic
from tests.helpers import queued_emails

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:newsletter_subscriber_changelist")


@pytest.fixture
def staff_client(client):
    user = get_user_model().objects.create_superuser("editor", "editor@example.org", "pw")
    client.force_login(user)
    return client


def test_readers_are_not_visible_to_anonymous_or_non_staff_users(client):
    make_reader("private@example.org")
    assert client.get(CHANGELIST).status_code == 302
    client.force_login(get_user_model().objects.create_user("reader", password="pw"))
    assert "private@example.org" not in client.get(CHANGELIST).content.decode()


def test_staff_search_by_email_and_filter_by_status_and_topic(staff_client):
    topic = make_topic("Tiny robots", slug="tiny-robots")
    make_reader("alice@example.org", topics=[topic])
    make_reader("bob@example.org", status=Subscriber.Status.PAUSED)
    found = staff_client.get(CHANGELIST, {"q": "alice"}).content.decode()
    assert "alice@example.org" in found
    assert "bob@example.org" not in found
    paused = staff_client.get(CHANGELIST, {"status__exact": "paused"}).content.decode()
    assert "bob@example.org" in paused
    assert "alice@example.org" not in paused
    by_topic = staff_client.get(CHANGELIST, {"topics__id__exact": topic.pk}).content.decode()
    assert "alice@example.org" in by_topic
    assert "bob@example.org" not in by_topic


def test_staff_filter_by_frequency_and_confirmed_date(staff_client):
    now = timezone.now()
    make_reader("weekly@example.org", frequency=Subscriber.Frequency.WEEKLY, confirmed_at=now)
    make_reader("old@example.org", confirmed_at=now - timedelta(days=40))
    weekly = staff_client.get(CHANGELIST, {"frequency__exact": "weekly"}).content.decode()
    assert "weekly@example.org" in weekly
    assert "old@example.org" not in weekly
    since = str(now - timedelta(days=7))  # as the filter's own "Past 7 days" link sends it
    recent = staff_client.get(CHANGELIST, {"confirmed_at__gte": since}).content.decode()
    assert "weekly@example.org" in recent
    assert "old@example.org" not in recent


def test_the_consent_history_is_shown_read_only(staff_client):
    reader = make_reader()
    preferences.record(reader, ConsentRecord.Action.SIGNUP, "192.0.2.8", "Firefox")
    page = staff_client.get(reverse("admin:newsletter_subscriber_change", args=[reader.pk])).content.decode()
    assert "192.0.2.8" in page
    assert 'name="consents-0-ip_address"' not in page


def test_the_unsubscribe_action(staff_client):
    reader = make_reader()
    staff_client.post(CHANGELIST, {"action": "unsubscribe", "_selected_action": [reader.pk]})
    reader.refresh_from_db()
    assert reader.status == Subscriber.Status.UNSUBSCRIBED
    assert reader.consents.get().action == "unsubscribe"


def test_resend_confirmation_only_queues_pending_readers(staff_client, django_capture_on_commit_callbacks):
    pending = make_reader(status=Subscriber.Status.PENDING)
    active = make_reader()
    with django_capture_on_commit_callbacks() as callbacks:
        staff_client.post(
            CHANGELIST,
            {"action": "resend_confirmation", "_selected_action": [pending.pk, active.pk]},
            follow=True,
        )
    assert queued_emails(callbacks) == [(pending.pk, "confirm")]


def test_resend_confirmation_keeps_to_the_daily_email_cap(
    staff_client, settings, django_capture_on_commit_callbacks
):
    settings.SIGNUP_EMAILS_PER_ADDRESS_PER_DAY = 2
    pending = make_reader(status=Subscriber.Status.PENDING)
    with django_capture_on_commit_callbacks() as callbacks:
        for _ in range(3):
            response = staff_client.post(
                CHANGELIST, {"action": "resend_confirmation", "_selected_action": [pending.pk]}, follow=True
            )
    assert queued_emails(callbacks) == [(pending.pk, "confirm")] * 2
    assert "Queued 0 confirmation email(s); skipped 1" in response.content.decode()


def test_export_csv(staff_client):
    reader = make_reader("csv@example.org", topics=[make_topic("Tiny robots", slug="tiny-robots")])
    response = staff_client.post(CHANGELIST, {"action": "export_csv", "_selected_action": [reader.pk]})
    assert response["Content-Type"] == "text/csv"
    lines = response.content.decode().splitlines()
    assert lines[0].startswith("email,status,frequency")
    assert lines[1].startswith("csv@example.org,active,daily")
    assert "tiny-robots" in lines[1]


def test_a_reader_page_links_to_their_sending_history_and_next_digest(staff_client):
    reader = make_reader()
    page = staff_client.get(reverse("admin:newsletter_subscriber_change", args=[reader.pk])).content.decode()
    history, preview = (
        reverse("tracking-reader-history", args=[reader.pk]),
        reverse("digest-preview", args=[reader.pk]),
    )
    assert f'href="{history}"' in page
    assert f'href="{preview}"' in page
    assert staff_client.get(history).status_code == 200
    assert staff_client.get(preview).status_code == 200


def test_exported_csv_cells_never_start_a_spreadsheet_formula(staff_client):
    reader = make_reader("+1@example.org", interests='=HYPERLINK("http://evil.example","click")')
    response = staff_client.post(CHANGELIST, {"action": "export_csv", "_selected_action": [reader.pk]})
    [row] = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert row["email"] == "'+1@example.org"
    assert row["interests"] == '\'=HYPERLINK("http://evil.example","click")'
    assert row["status"] == "active"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd", "'+cmd"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        ("", ""),
        (7, 7),
    ],
)
def test_spreadsheet_cells_are_neutralised_by_their_first_character(value, expected):
    assert spreadsheets.safe_cell(value) == expected


def change_address(staff_client, reader, email):
    url = reverse("admin:newsletter_subscriber_change", args=[reader.pk])
    data = {
        "email": email,
        "topics": [t.pk for t in reader.topics.all()],
        "interests": reader.interests,
        "frequency": reader.frequency,
        "digest_size": reader.digest_size,
        "delivery_hour": reader.delivery_hour,
        "time_zone": reader.time_zone,
        "delivery_weekday": reader.delivery_weekday,
        "muted": reader.muted,
        "trending": reader.trending,
        "consents-TOTAL_FORMS": "0",
        "consents-INITIAL_FORMS": "0",
    }
    return staff_client.post(url, data, follow=True)


def test_staff_changing_an_address_sends_a_confirmation_and_stops_digests_until_confirmed(
    staff_client, django_capture_on_commit_callbacks, mailoutbox
):
    reader = make_reader("old@example.org", topics=[make_topic()])
    old_manage = links.path_for(reader, "manage")
    with django_capture_on_commit_callbacks() as callbacks:
        response = change_address(staff_client, reader, " New@Exämple.org ")
    assert "gets a confirmation email" in response.content.decode()
    reader.refresh_from_db()
    assert reader.email == "new@xn--exmple-cua.org"
    assert reader.status == Subscriber.Status.PENDING
    assert reader.consents.get().action == ConsentRecord.Action.CHANGE
    assert queued_emails(callbacks) == [(reader.pk, "confirm")]
    assert staff_client.get(old_manage).status_code == 400
    subscriptions.send_subscription_email(reader.pk, "confirm")
    assert mailoutbox[0].to == ["new@xn--exmple-cua.org"]


def test_staff_changing_an_unsubscribed_readers_address_sends_nothing(
    staff_client, django_capture_on_commit_callbacks
):
    reader = make_reader("old@example.org", status=Subscriber.Status.UNSUBSCRIBED, topics=[make_topic()])
    with django_capture_on_commit_callbacks() as callbacks:
        response = change_address(staff_client, reader, "new@example.org")
    assert "stays unsubscribed" in response.content.decode()
    reader.refresh_from_db()
    assert (reader.email, reader.status) == ("new@example.org", Subscriber.Status.UNSUBSCRIBED)
    assert queued_emails(callbacks) == []


def test_staff_cannot_give_a_reader_another_readers_address_in_another_spelling(staff_client):
    make_reader("user@xn--exmple-cua.com")
    reader = make_reader("old@example.org", topics=[make_topic()])
    response = change_address(staff_client, reader, "USER@exämple.com")
    assert "already exists" in response.content.decode()
    reader.refresh_from_db()
    assert reader.email == "old@example.org"
