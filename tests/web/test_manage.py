"""Managing a subscription from the links in emails: preferences, pause, unsubscribe, export, erase."""

import json
from datetime import date

import pytest
from django.test import Client

from newsletter import links, preferences, subscriptions
from newsletter.models import (
    ConsentRecord,
    DeliveryEvent,
    DigestDelivery,
    Subscriber,
    Suppression,
    email_hash,
)
from tests.factories import make_reader, make_topic, manage_data
from tests.helpers import queued_emails

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader():
    return make_reader("reader@example.org", topics=[make_topic("Tiny robots", slug="tiny-robots")])


def manage_url(reader) -> str:
    return links.path_for(reader, "manage")


def test_the_preferences_page_shows_current_choices(client, reader):
    page = client.get(manage_url(reader)).content.decode()
    assert "reader@example.org" in page
    assert "Subscribed" in page
    topic = reader.topics.get()
    assert f'value="{topic.pk}"' in page
    assert "checked" in page.split(f'value="{topic.pk}"')[1].split(">")[0]


def test_saving_preferences_shows_what_changed(client, reader):
    new_topic = make_topic("Sparse models", slug="sparse-models")
    data = manage_data(
        [new_topic], interests="speculative decoding", digest_size="15", time_zone="Asia/Tokyo"
    )
    response = client.post(manage_url(reader), data, REMOTE_ADDR="192.0.2.44")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Topics: Tiny robots → Sparse models" in page
    assert "Papers per email: 10 → 15" in page
    assert "Time zone: UTC → Asia/Tokyo" in page
    reader.refresh_from_db()
    assert (reader.digest_size, reader.time_zone, reader.interests) == (
        15,
        "Asia/Tokyo",
        "speculative decoding",
    )
    consent = reader.consents.get(action=ConsentRecord.Action.CHANGE)
    assert consent.ip_address == "192.0.2.44"
    assert consent.choices["topics"] == ["sparse-models"]


def test_saving_without_changes_says_so_and_records_nothing(client, reader):
    response = client.post(manage_url(reader), manage_data(reader.topics.all()))
    assert "Nothing changed" in response.content.decode()
    assert not reader.consents.exists()


def test_invalid_preferences_get_messages_and_nothing_is_saved(client, reader):
    response = client.post(manage_url(reader), manage_data([], digest_size="99", time_zone="Nowhere/Land"))
    assert response.status_code == 400
    errors = response.context["form"].errors
    # No topic and no interest either: every problem is listed at once.
    assert set(errors) == {"digest_size", "time_zone", "__all__"}
    reader.refresh_from_db()
    assert (reader.digest_size, reader.time_zone, reader.topics.count()) == (10, "UTC", 1)


def test_an_unknown_action_is_refused(client, reader):
    assert client.post(manage_url(reader), {"action": "explode"}).status_code == 400


def test_an_oversized_preferences_form_is_refused_with_a_message_and_nothing_saved(client, reader):
    response = client.post(manage_url(reader), manage_data([], interests="x" * 40_000))
    assert response.status_code == 413
    assert "Nothing was saved" in response.content.decode()
    reader.refresh_from_db()
    assert reader.interests == ""
    assert reader.topics.count() == 1


def test_pause_and_resume(client, reader):
    page = client.post(manage_url(reader), {"action": "pause"}).content.decode()
    assert "Paused: we won’t email you until you resume." in page
    reader.refresh_from_db()
    assert reader.status == Subscriber.Status.PAUSED
    client.post(manage_url(reader), {"action": "pause"})  # twice: harmless
    assert reader.consents.filter(action="pause").count() == 1
    assert "Resumed" in client.post(manage_url(reader), {"action": "resume"}).content.decode()
    reader.refresh_from_db()
    assert reader.status == Subscriber.Status.ACTIVE


def test_an_unsubscribed_reader_must_confirm_again_to_come_back(
    client, reader, django_capture_on_commit_callbacks
):
    subscriptions.change_status(reader, "unsubscribe")
    with django_capture_on_commit_callbacks() as callbacks:
        page = client.post(manage_url(reader), {"action": "resubscribe"}).content.decode()
    assert "we’ve emailed you a link to confirm" in page
    reader.refresh_from_db()
    assert reader.status == Subscriber.Status.PENDING
    assert queued_emails(callbacks) == [(reader.pk, "confirm")]


def test_the_unsubscribe_link_shows_a_button_and_a_get_changes_nothing(client, reader):
    url = links.path_for(reader, "unsubscribe")
    page = client.get(url)
    assert page.status_code == 200
    assert '<form method="post">' in page.content.decode()
    reader.refresh_from_db()
    assert reader.status == Subscriber.Status.ACTIVE


def test_one_click_unsubscribe_works_without_cookies_or_csrf_and_is_idempotent(reader):
    client = Client(enforce_csrf_checks=True)
    url = links.path_for(reader, "unsubscribe")
    for _ in range(2):
        response = client.post(
            url, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code == 200  # no redirect (RFC 8058)
        assert "You’re unsubscribed" in response.content.decode()
    reader.refresh_from_db()
    assert reader.status == Subscriber.Status.UNSUBSCRIBED
    assert reader.unsubscribed_at is not None
    assert reader.consents.filter(action="unsubscribe").count() == 1
    assert not client.cookies


def test_a_pending_reader_can_unsubscribe_too(client):
    reader = make_reader(status=Subscriber.Status.PENDING)
    client.post(links.path_for(reader, "unsubscribe"))
    reader.refresh_from_db()
    assert reader.status == Subscriber.Status.UNSUBSCRIBED


def test_download_my_data_contains_everything_including_consents(client, reader):
    preferences.record(reader, ConsentRecord.Action.CONFIRM, "192.0.2.5", "Firefox")
    DigestDelivery.objects.create(
        subscriber=reader,
        issue_date=date(2026, 11, 24),
        paper_ids=[1, 2],
        reasons=[["matches your topic Tiny robots"], ["editor's pick"]],
        status=DigestDelivery.Status.FAILED,
        error="recipient refused",
    )
    DeliveryEvent.objects.create(
        event_type="bounced",
        esp="postmark",
        message_id="m-1",
        fingerprint="f-export",
        subscriber=reader,
        reject_reason="bounced",
        raw={"Type": "HardBounce", "Email": "reader@example.org"},
    )
    response = client.get(links.path_for(reader, "export"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["email"] == "reader@example.org"
    assert data["preferences"]["topics"] == ["tiny-robots"]
    assert data["consents"][0]["ip_address"] == "192.0.2.5"
    assert data["consents"][0]["action"] == "confirm"
    [delivery] = data["deliveries"]
    assert delivery["paper_ids"] == [1, 2]
    assert delivery["reasons"][0] == ["matches your topic Tiny robots"]
    assert (delivery["status"], delivery["error"]) == ("failed", "recipient refused")
    [event] = data["email_events"]
    assert (event["type"], event["esp"], event["message_id"]) == ("bounced", "postmark", "m-1")
    assert event["reject_reason"] == "bounced"
    assert event["raw"]["Type"] == "HardBounce"


def test_delete_me_asks_first_then_erases_and_keeps_only_a_hash(client, reader):
    preferences.record(reader, ConsentRecord.Action.SIGNUP, "192.0.2.5")
    event = DeliveryEvent.objects.create(
        event_type="opened",
        esp="test",
        fingerprint="f1",
        subscriber=reader,
        raw={"recipient": "reader@example.org"},
    )
    url = links.path_for(reader, "erase")
    assert "Delete everything" in client.get(url).content.decode()
    assert Subscriber.objects.exists()  # the GET changed nothing

    response = client.post(url)
    assert response.status_code == 200
    assert "Your data is deleted" in response.content.decode()
    assert not Subscriber.objects.exists()
    assert not ConsentRecord.objects.exists()
    suppression = Suppression.objects.get()
    assert suppression.email_hash == email_hash("reader@example.org")
    assert suppression.reason == Suppression.Reason.ERASED
    event.refresh_from_db()
    assert (event.subscriber, event.raw) == (None, {})
    assert "reader@example.org" not in json.dumps(list(DeliveryEvent.objects.values()), default=str)


def test_one_click_unsubscribe_still_succeeds_after_the_reader_erased_their_data(client, reader):
    url = links.path_for(reader, "unsubscribe")
    client.post(links.path_for(reader, "erase"))

    response = Client(enforce_csrf_checks=True).post(
        url, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert "was deleted" in response.content.decode()
    assert not Subscriber.objects.exists()
    assert Suppression.objects.count() == 1
    assert client.post(url[:-6] + "xxxxx/").status_code == 400  # a tampered link is still refused
