"""ESPs resend events, send them before we recorded the send, and about mail we never sent."""

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from newsletter import tracking
from newsletter.models import (
    ConsentRecord,
    DeliveryEvent,
    DigestDelivery,
    EngagementCount,
    Subscriber,
    Suppression,
    email_hash,
)
from tests.factories import NOON, fire, make_delivery, make_reader
from tests.tracking.webhooks import payload, post_mailgun, post_postmark, post_sendgrid, post_ses

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailNotSupportedWarning"),
]
Status = Subscriber.Status


@pytest.mark.parametrize(
    ("poster", "fixture"),
    [
        (post_postmark, "postmark_spam_complaint"),
        (post_mailgun, "mailgun_failed_permanent"),
        (post_sendgrid, "sendgrid_spamreport"),
        (post_ses, "ses_complaint"),
    ],
)
def test_the_same_event_50_times_makes_one_transition(poster, fixture):
    reader = make_reader()
    delivery = make_delivery(reader, esp_message_id="esp-1")
    body = payload(fixture, reader.email, "esp-1", delivery.pk)
    client = Client()
    assert poster(client, body).status_code == 200
    reader.refresh_from_db()
    first_change = reader.status_changed_at
    for _ in range(49):
        assert poster(client, body).status_code == 200
    reader.refresh_from_db()
    assert reader.status == Status.SUPPRESSED
    assert reader.status_changed_at == first_change
    assert DeliveryEvent.objects.count() == 1
    assert Suppression.objects.count() == 1


def test_an_unsubscribe_replayed_without_an_event_id_is_recorded_once():
    reader = make_reader()
    body = payload("postmark_subscription_change", reader.email, "esp-1")  # Postmark sends no ID here
    client = Client()
    for _ in range(50):
        assert post_postmark(client, body).status_code == 200
    assert DeliveryEvent.objects.get().event_id == ""
    assert ConsentRecord.objects.filter(subscriber=reader).count() == 1


def test_replayed_opens_are_counted_once():
    reader = make_reader()
    body = payload("postmark_open", reader.email, "esp-1")
    client = Client()
    for _ in range(50):
        post_postmark(client, body)
    assert EngagementCount.objects.get().count == 1


def test_distinct_complaints_about_one_reader_change_them_once():
    reader = make_reader()
    for n in range(3):
        fire("complained", reader.email, message_id=f"esp-{n}")
    assert DeliveryEvent.objects.count() == 3
    reader.refresh_from_db()
    assert reader.status == Status.SUPPRESSED
    assert Suppression.objects.count() == 1


# --- Before the send is recorded ----------------------------------------------------------------


def test_a_bounce_that_beats_the_sender_is_linked_by_our_delivery_id():
    reader = make_reader()
    delivery = make_delivery(reader, status=DigestDelivery.Status.SENDING)  # no ESP message id yet
    response = post_postmark(Client(), payload("postmark_hard_bounce", reader.email, "esp-5", delivery.pk))
    assert response.status_code == 200
    reader.refresh_from_db()
    assert reader.status == Status.SUPPRESSED
    assert DeliveryEvent.objects.get().delivery == delivery


def test_a_bounce_with_no_delivery_row_yet_suppresses_by_address_and_is_linked_later():
    reader = make_reader()
    response = post_sendgrid(Client(), payload("sendgrid_bounce", reader.email, "esp-7"))
    assert response.status_code == 200
    reader.refresh_from_db()
    assert reader.status == Status.SUPPRESSED
    event = DeliveryEvent.objects.get()
    assert (event.subscriber, event.delivery) == (reader, None)

    delivery = make_delivery(reader, status=DigestDelivery.Status.SENT, esp_message_id="esp-7")
    assert tracking.link_events(delivery.pk) == 1
    event.refresh_from_db()
    assert event.delivery == delivery


def test_a_delivery_report_that_beats_the_sender_settles_an_unknown_digest_once_linked():
    reader = make_reader()
    fire("delivered", reader.email, message_id="esp-8")
    delivery = make_delivery(reader, status=DigestDelivery.Status.UNKNOWN, esp_message_id="esp-8")
    tracking.link_events(delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.sent_at) == (DigestDelivery.Status.SENT, NOON)


def test_linking_a_digest_without_an_esp_message_id_attaches_nothing():
    reader = make_reader()
    fire("delivered", reader.email, message_id="")
    delivery = make_delivery(reader, status=DigestDelivery.Status.UNKNOWN)
    assert tracking.link_events(delivery.pk) == 0
    assert tracking.link_events(123456) == 0


# --- Mail we know nothing about ----------------------------------------------------------------


def test_events_for_unknown_messages_and_addresses_are_stored_and_change_nothing_else():
    reader = make_reader()
    delivery = make_delivery(reader, status=DigestDelivery.Status.UNKNOWN, esp_message_id="ours")
    client = Client()
    assert (
        post_postmark(client, payload("postmark_delivery", "stranger@example.net", "theirs")).status_code
        == 200
    )
    assert (
        post_ses(client, payload("ses_delivery", "stranger@example.net", "theirs", 999999)).status_code == 200
    )
    assert DeliveryEvent.objects.filter(delivery=None, subscriber=None).count() == 2
    delivery.refresh_from_db()
    reader.refresh_from_db()
    assert (delivery.status, reader.status) == (DigestDelivery.Status.UNKNOWN, Status.ACTIVE)


def test_a_hard_bounce_of_a_confirmation_to_a_mistyped_address_protects_it():
    make_reader("typo@exmaple.com", status=Status.PENDING)
    response = post_postmark(Client(), payload("postmark_hard_bounce", "typo@exmaple.com", "confirm-1"))
    assert response.status_code == 200
    assert Suppression.is_suppressed("typo@exmaple.com")


@pytest.mark.parametrize(
    "fixture", ["postmark_hard_bounce", "postmark_spam_complaint", "sendgrid_unsubscribe"]
)
def test_an_event_about_a_stranger_and_mail_we_never_sent_suppresses_nobody(fixture):
    poster = post_postmark if fixture.startswith("postmark") else post_sendgrid
    assert poster(Client(), payload(fixture, "stranger@example.net", "not-ours")).status_code == 200
    assert DeliveryEvent.objects.get().subscriber is None
    assert not Suppression.objects.exists()


def test_a_bounce_of_our_digest_suppresses_the_address_it_went_to_even_after_the_reader_moved():
    reader = make_reader("new@example.com")
    delivery = make_delivery(reader, esp_message_id="ours")
    body = payload("postmark_hard_bounce", "old@example.com", "ours", delivery.pk)
    assert post_postmark(Client(), body).status_code == 200
    assert Suppression.is_suppressed("old@example.com")
    assert not Suppression.is_suppressed("new@example.com")


@pytest.mark.parametrize("junk", ["abc", "9" * 40, "-1", "1.5", ""])
def test_junk_metadata_is_ignored_safely(junk):
    reader = make_reader()
    response = post_postmark(Client(), payload("postmark_hard_bounce", reader.email, "esp-1", junk))
    assert response.status_code == 200
    reader.refresh_from_db()
    assert reader.status == Status.SUPPRESSED


def test_an_event_without_recipient_or_timestamp_is_stored():
    fire("bounced", None, message_id=None, timestamp=None, metadata=["not", "a", "dict"])
    event = DeliveryEvent.objects.get()
    assert event.kind == DeliveryEvent.Kind.HARD_BOUNCE
    assert event.occurred_at is not None
    assert not Suppression.objects.exists()


def test_an_event_about_the_readers_digest_without_a_recipient_uses_the_digest():
    reader = make_reader()
    delivery = make_delivery(reader, esp_message_id="esp-3")
    fire("complained", None, message_id="esp-3")
    reader.refresh_from_db()
    assert reader.status == Status.SUPPRESSED
    assert Suppression.objects.filter(email_hash=email_hash(reader.email)).exists()
    assert DeliveryEvent.objects.get().delivery == delivery


def test_a_reader_suppressed_long_ago_is_not_touched_again():
    reader = make_reader(status=Status.SUPPRESSED)
    Subscriber.objects.filter(pk=reader.pk).update(status_changed_at=NOON - dt.timedelta(days=100))
    fire("bounced", reader.email, reject_reason="bounced")
    reader.refresh_from_db()
    assert reader.status_changed_at == NOON - dt.timedelta(days=100)


@pytest.mark.django_db(transaction=True)
def test_concurrent_replays_of_one_unsubscribe_still_make_one_transition(settings):
    settings.ANYMAIL_ESP = "sendgrid"
    reader = make_reader()
    body = payload("sendgrid_unsubscribe", reader.email, "esp-1")

    def post_five_times(_):
        try:
            return [post_sendgrid(Client(), body).status_code for _ in range(5)]
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = [code for codes in pool.map(post_five_times, range(8)) for code in codes]
    assert codes == [200] * 40
    assert DeliveryEvent.objects.count() == 1
    assert ConsentRecord.objects.filter(subscriber=reader).count() == 1


def test_housekeeping_links_events_that_beat_the_sender():
    reader = make_reader()
    fire("delivered", reader.email, message_id="esp-early")
    fire("opened", reader.email, message_id="esp-other")
    delivery = make_delivery(reader, status=DigestDelivery.Status.UNKNOWN, esp_message_id="esp-early")
    assert tracking.link_orphans(timezone.now()) == 1
    delivery.refresh_from_db()
    assert delivery.status == DigestDelivery.Status.SENT
    assert DeliveryEvent.objects.get(delivery=delivery).event_type == "delivered"


def test_housekeeping_drops_old_anonymous_opens_but_keeps_their_counts():
    reader = make_reader()
    fire("opened", reader.email, timestamp=NOON - dt.timedelta(days=40))
    fire("opened", reader.email, timestamp=NOON)
    fire("complained", reader.email, timestamp=NOON - dt.timedelta(days=40))
    assert tracking.prune_engagement(NOON) == 1
    assert DeliveryEvent.objects.count() == 2
    assert sum(EngagementCount.objects.values_list("count", flat=True)) == 2
