"""Webhooks with good credentials and odd contents, stale signatures, and other ESPs' URLs."""

import importlib
import json

import pytest
import time_machine
from django.apps import apps
from django.contrib.auth.models import User
from django.db import DataError, connection
from django.test import Client, override_settings

from newsletter import privacy
from newsletter.models import DeliveryEvent, Subscriber, Suppression
from newsletter.payloads import delivery_id_from, event_time, shrink, storable
from tests.factories import NOON, make_delivery, make_reader
from tests.tracking.webhooks import (
    WEBHOOK_SECRET,
    basic_auth,
    payload,
    post_mailgun,
    post_postmark,
    post_sendgrid,
    sendgrid_headers,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailNotSupportedWarning"),
]
Status = Subscriber.Status
SIGNED = str(int(NOON.timestamp()))  # 2026-11-24 12:00 UTC


def bounce(reader: Subscriber, **changes) -> str:
    """Postmark's hard bounce about `reader`, with fields replaced as JSON values."""
    data = json.loads(payload("postmark_hard_bounce", reader.email, "esp-1"))
    return json.dumps({**data, **changes})


# --- Pure helpers ------------------------------------------------------------------------------


def test_only_text_the_database_can_store_is_kept():
    assert storable("fine", 2) == "fi"
    assert [storable(v, 10) for v in [None, 42, ["a"], "a\x00b", "lone \ud800"]] == [""] * 5


def test_only_plausible_event_times_are_kept():
    assert event_time(NOON, NOON) == NOON
    far = [NOON.replace(year=9999), NOON.replace(year=1), NOON.replace(year=2027), "2026-11-24"]
    assert [event_time(v, NOON) for v in far] == [None] * 4
    assert event_time(NOON.replace(tzinfo=None), NOON) is None


@pytest.mark.parametrize(
    ("value", "expected"), [("12", 12), (12, 12), ("²", None), ("١٢", None), (True, None)]
)
def test_a_delivery_id_is_ascii_digits_only(value, expected):
    assert delivery_id_from({"delivery_id": value}) == expected


def test_raw_payloads_lose_what_the_database_cannot_store():
    raw = shrink({"a\x00": 1, "b": "x\x00", "c": ["\udfff", 1.5], "d": float("nan"), "e": float("inf")})
    assert raw == {"b": None, "c": [None, 1.5], "d": None, "e": None}


# --- Odd values with good credentials: the rest of the event still applies ----------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"Email": 12345},
        {"Email": ["a@example.com"]},
        {"Metadata": {"delivery_id": "²"}},
        {"Metadata": {"delivery_id": 10**30}},
        {"Description": "nul \x00 here", "Details": "lone \ud800", "Tag": "\x00"},
        {"MessageID": "esp-\x00"},
        {"BouncedAt": "9999-12-31T23:59:59-14:00"},
        {"BouncedAt": "0001-01-01T00:00:00+14:00"},
        {"Content": {"deep": {"deeper": {"deepest": "\x00"}}}, "Subject": "\ud800"},
    ],
)
def test_odd_values_are_dropped_and_a_real_bounce_still_applies(changes):
    reader = make_reader()
    delivery = make_delivery(reader, esp_message_id="esp-1")
    body = bounce(reader, **{"Metadata": {"delivery_id": str(delivery.pk)}, **changes})
    assert post_postmark(Client(), body).status_code == 200
    reader.refresh_from_db()
    assert reader.status == Status.SUPPRESSED
    event = DeliveryEvent.objects.get()
    assert event.kind == DeliveryEvent.Kind.HARD_BOUNCE
    assert 2000 <= event.occurred_at.year <= 2026


def test_an_event_from_year_9999_is_stored_at_its_arrival_and_every_page_about_it_works(client):
    staff = User.objects.create_user("editor", password="pw", is_staff=True, is_superuser=True)
    reader = make_reader()
    with time_machine.travel(NOON, tick=False):
        assert (
            post_postmark(Client(), bounce(reader, BouncedAt="9999-12-31T23:59:59-14:00")).status_code == 200
        )
    assert DeliveryEvent.objects.get().occurred_at == NOON
    client.force_login(staff)
    assert client.get("/staff/sending/").status_code == 200
    assert client.get(f"/staff/sending/readers/{reader.pk}/").status_code == 200
    assert client.get("/admin/newsletter/deliveryevent/").status_code == 200
    assert privacy.export_data(reader)["email"] == reader.email


@pytest.mark.parametrize(
    "body",
    ["not json", "[1, 2]", '"just a string"', '{"RecordType": "Bounce", "BouncedAt": 12}'],
)
def test_a_malformed_postmark_body_gets_400_and_writes_nothing(body):
    assert post_postmark(Client(), body).status_code == 400
    assert not DeliveryEvent.objects.exists()


@pytest.mark.parametrize("body", ['[{"event": "bounce", "timestamp": "soon"}]', '{"not": "a list"}', "[1]"])
def test_a_malformed_sendgrid_body_gets_400_and_writes_nothing(body):
    assert post_sendgrid(Client(), body).status_code == 400
    assert not DeliveryEvent.objects.exists()


def test_a_malformed_mailgun_body_gets_400_and_writes_nothing():
    body = json.dumps({"signature": {"timestamp": "1", "token": "t", "signature": "s"}, "event-data": 7})
    assert post_mailgun(Client(), body).status_code == 400
    assert not DeliveryEvent.objects.exists()


def post_sns(body: str, secret: str = WEBHOOK_SECRET):
    """A raw SNS post whose headers agree with each other, whatever the body."""
    with override_settings(ANYMAIL_ESP="amazon_ses"):
        return Client().post(
            "/anymail/amazon_ses/tracking/",
            body,
            content_type="text/plain",
            HTTP_X_AMZ_SNS_MESSAGE_ID="m",
            HTTP_X_AMZ_SNS_MESSAGE_TYPE="Notification",
            **basic_auth(secret),
        )


@pytest.mark.parametrize("body", ["not json", '{"Type": "Notification", "MessageId": "m", "Message": "{"}'])
def test_a_malformed_sns_body_with_credentials_gets_400_and_writes_nothing(body):
    assert post_sns(body).status_code == 400
    assert not DeliveryEvent.objects.exists()


@pytest.mark.parametrize("body", ['{"Type": "Nonsense", "MessageId": "m"}', "not json"])
def test_sns_checks_credentials_before_it_reads_the_body(body, caplog):
    assert post_sns(body, secret="esp:wrong").status_code == 400
    assert "Missing or invalid basic auth" in caplog.text
    assert not DeliveryEvent.objects.exists()


# --- Only the configured ESP's webhook exists ---------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/anymail/mailgun/tracking/",
        "/anymail/sparkpost/tracking/",
        "/anymail/brevo/tracking/",
        "/anymail/amazon_ses/tracking/",
        "/anymail/postmark/inbound/",
        "/anymail/mandrill/",
        "/anymail/nonsense/tracking/",
    ],
)
def test_every_other_anymail_url_is_not_found(settings, path):
    settings.ANYMAIL_ESP = "postmark"
    settings.DEBUG = False
    assert Client().post(path, "{}", content_type="application/json").status_code == 404
    assert Client().post(path, "{}", content_type="application/json", **basic_auth()).status_code == 404


def test_without_an_esp_no_webhook_exists(settings):
    settings.ANYMAIL_ESP = ""
    response = Client().post("/anymail/postmark/tracking/", "{}", content_type="application/json")
    assert response.status_code == 404


def test_the_configured_esp_answers(settings):
    settings.ANYMAIL_ESP = "postmark"
    assert post_postmark(Client(), bounce(make_reader())).status_code == 200


# --- Signed timestamps must be fresh ------------------------------------------------------------


@pytest.mark.parametrize(("offset", "status"), [(0, 200), (-899, 200), (899, 200), (-901, 400), (901, 400)])
def test_a_mailgun_signature_is_accepted_within_15_minutes_of_now(offset, status):
    reader = make_reader()
    body = payload("mailgun_failed_permanent", reader.email, "esp-1")
    with time_machine.travel(NOON, tick=False):
        response = post_mailgun(Client(), body, timestamp=str(int(SIGNED) + offset))
    assert response.status_code == status
    assert DeliveryEvent.objects.exists() == (status == 200)


def test_a_mailgun_signature_from_2001_is_refused():
    reader = make_reader()
    body = payload("mailgun_failed_permanent", reader.email, "esp-1")
    with time_machine.travel(NOON, tick=False):
        assert post_mailgun(Client(), body, timestamp="1000000000").status_code == 400
    reader.refresh_from_db()
    assert reader.status == Status.ACTIVE
    assert not Suppression.objects.exists()


@pytest.mark.parametrize(("timestamp", "status"), [(SIGNED, 200), ("1000000000", 400), ("9" * 5000, 400)])
def test_a_sendgrid_signature_must_be_fresh(timestamp, status):
    body = payload("sendgrid_bounce", make_reader().email, "esp-1")
    with time_machine.travel(NOON, tick=False):
        response = post_sendgrid(Client(), body, headers=sendgrid_headers(body, timestamp))
    assert response.status_code == status


def test_the_freshness_window_is_a_setting(settings):
    settings.TRACKING_SIGNATURE_MAX_AGE = 3600
    body = payload("mailgun_failed_permanent", make_reader().email, "esp-1")
    with time_machine.travel(NOON, tick=False):
        assert post_mailgun(Client(), body, timestamp=str(int(SIGNED) - 3000)).status_code == 200


# --- Times stored before webhooks checked them ---------------------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="only PostgreSQL stores year 10000")
@pytest.mark.parametrize("value", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
def test_the_migration_redates_unreadable_event_times_and_the_pages_work_again(client, value):
    reader = make_reader()
    delivery = make_delivery(reader)
    with time_machine.travel(NOON, tick=False):
        post_postmark(Client(), bounce(reader, Metadata={"delivery_id": str(delivery.pk)}))
    with connection.cursor() as cursor:
        cursor.execute("UPDATE newsletter_deliveryevent SET occurred_at = %s::timestamptz", [value])
        cursor.execute("UPDATE newsletter_digestdelivery SET sent_at = %s::timestamptz", [value])
    with pytest.raises(DataError, match="timestamp too (large|small)"):
        privacy.export_data(reader)

    migration = importlib.import_module("newsletter.migrations.0009_clear_out_of_range_event_times")
    with time_machine.travel(NOON, tick=False):
        migration.clear_out_of_range_times(apps, None)

    event = DeliveryEvent.objects.get()
    assert event.occurred_at == event.received_at
    delivery.refresh_from_db()
    assert delivery.sent_at == delivery.updated_at
    client.force_login(User.objects.create_user("editor", password="pw", is_staff=True, is_superuser=True))
    assert client.get("/staff/sending/").status_code == 200
    assert client.get(f"/staff/sending/readers/{reader.pk}/").status_code == 200
    assert privacy.export_data(reader)["email"] == reader.email
