"""Real webhook requests, in each ESP's own format, through Anymail's views to our receiver."""

import json

import pytest
from django.db import OperationalError, connection
from django.test import Client

from newsletter.models import DeliveryEvent, DigestDelivery, Subscriber, Suppression, email_hash
from tests.factories import make_delivery, make_reader
from tests.tracking.webhooks import (
    WEBHOOK_SECRET,
    payload,
    post_mailgun,
    post_postmark,
    post_sendgrid,
    post_ses,
    sendgrid_headers,
)

pytestmark = [
    pytest.mark.django_db,
    # Anymail still verifies SendGrid webhooks but warns that SendGrid is no longer supported.
    pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailNotSupportedWarning"),
]
Status = Subscriber.Status
POSTERS = {"postmark": post_postmark, "mailgun": post_mailgun, "sendgrid": post_sendgrid, "ses": post_ses}
HARD_BOUNCE = {
    "postmark": "postmark_hard_bounce",
    "mailgun": "mailgun_failed_permanent",
    "sendgrid": "sendgrid_bounce",
    "ses": "ses_bounce_permanent",
}


def send(fixture: str, reader: Subscriber, delivery: DigestDelivery | None = None, message_id: str = "esp-1"):
    """Post a recorded payload about `reader` (and our `delivery`) with good credentials."""
    esp = fixture.split("_")[0]
    body = payload(fixture, reader.email, message_id, delivery.pk if delivery else "")
    return POSTERS[esp](Client(), body)


def nothing_written() -> bool:
    return not DeliveryEvent.objects.exists() and not Suppression.objects.exists()


@pytest.mark.parametrize(
    ("fixture", "reason"),
    [
        ("postmark_hard_bounce", Suppression.Reason.HARD_BOUNCE),
        ("postmark_spam_complaint", Suppression.Reason.COMPLAINT),
        ("mailgun_failed_permanent", Suppression.Reason.HARD_BOUNCE),
        ("mailgun_complained", Suppression.Reason.COMPLAINT),
        ("sendgrid_bounce", Suppression.Reason.HARD_BOUNCE),
        ("sendgrid_dropped", Suppression.Reason.HARD_BOUNCE),
        ("sendgrid_spamreport", Suppression.Reason.COMPLAINT),
        ("ses_bounce_permanent", Suppression.Reason.HARD_BOUNCE),
        ("ses_complaint", Suppression.Reason.COMPLAINT),
    ],
)
def test_a_bounce_or_complaint_from_any_esp_suppresses_the_reader_in_the_request(fixture, reason):
    reader = make_reader()
    delivery = make_delivery(reader, esp_message_id="esp-1")
    response = send(fixture, reader, delivery)
    assert response.status_code == 200
    reader.refresh_from_db()
    assert reader.status == Status.SUPPRESSED
    assert Suppression.objects.get(email_hash=email_hash(reader.email)).reason == reason
    event = DeliveryEvent.objects.get()
    assert (event.delivery, event.subscriber) == (delivery, reader)
    assert reader.email not in json.dumps(event.raw)


@pytest.mark.parametrize(
    "fixture",
    [
        "postmark_soft_bounce",
        "mailgun_failed_temporary",
        "sendgrid_blocked",
        "sendgrid_deferred",
        "ses_bounce_transient",
    ],
)
def test_a_soft_bounce_from_any_esp_is_counted_but_does_not_suppress(fixture):
    reader = make_reader()
    assert send(fixture, reader, make_delivery(reader, esp_message_id="esp-1")).status_code == 200
    reader.refresh_from_db()
    assert reader.status == Status.ACTIVE
    assert not Suppression.objects.exists()
    assert DeliveryEvent.objects.get().kind == DeliveryEvent.Kind.SOFT_BOUNCE


@pytest.mark.parametrize(
    "fixture", ["postmark_subscription_change", "mailgun_unsubscribed", "sendgrid_unsubscribe"]
)
def test_an_unsubscribe_reported_by_the_esp_unsubscribes_the_reader(fixture):
    reader = make_reader()
    assert send(fixture, reader, make_delivery(reader, esp_message_id="esp-1")).status_code == 200
    reader.refresh_from_db()
    assert reader.status == Status.UNSUBSCRIBED
    assert Suppression.objects.get().reason == Suppression.Reason.UNSUBSCRIBED


@pytest.mark.parametrize(
    "fixture", ["postmark_delivery", "mailgun_delivered", "sendgrid_delivered", "ses_delivery"]
)
def test_a_delivery_report_confirms_a_digest_whose_send_result_was_unknown(fixture):
    reader = make_reader()
    delivery = make_delivery(reader, status=DigestDelivery.Status.UNKNOWN)
    assert send(fixture, reader, delivery, message_id="esp-9").status_code == 200
    delivery.refresh_from_db()
    assert delivery.status == DigestDelivery.Status.SENT
    assert delivery.esp_message_id.strip("<>").startswith("esp-9")


@pytest.mark.parametrize("fixture", ["postmark_open", "mailgun_opened", "ses_open"])
def test_an_open_is_counted_without_a_trace_of_the_reader(fixture):
    reader = make_reader()
    make_delivery(reader, esp_message_id="esp-1")
    assert send(fixture, reader).status_code == 200
    event = DeliveryEvent.objects.get()
    assert (event.subscriber, event.delivery, event.message_id, event.raw) == (None, None, "", {})


def test_a_sendgrid_batch_applies_every_event_in_it():
    reader = make_reader()
    delivery = make_delivery(reader, status=DigestDelivery.Status.UNKNOWN)
    assert send("sendgrid_batch", reader, delivery, message_id="esp-1").status_code == 200
    kinds = sorted(DeliveryEvent.objects.values_list("kind", flat=True))
    assert kinds == ["complaint", "delivered", "engagement", "other"]
    delivery.refresh_from_db()
    reader.refresh_from_db()
    assert (delivery.status, reader.status) == (DigestDelivery.Status.SENT, Status.SUPPRESSED)


# --- Authentication and signatures ------------------------------------------------------------


@pytest.mark.parametrize("esp", ["postmark", "mailgun", "sendgrid", "ses"])
@pytest.mark.parametrize("secret", ["esp:wrong-password", "someone:" + WEBHOOK_SECRET.split(":")[1]])
def test_a_webhook_with_the_wrong_basic_auth_is_refused_and_writes_nothing(client, esp, secret):
    reader = make_reader()
    response = POSTERS[esp](client, payload(HARD_BOUNCE[esp], reader.email, "esp-1"), secret=secret)
    assert response.status_code == 400
    reader.refresh_from_db()
    assert reader.status == Status.ACTIVE
    assert nothing_written()


@pytest.mark.parametrize("esp", ["postmark", "mailgun", "sendgrid"])
def test_a_webhook_without_basic_auth_is_refused_and_writes_nothing(client, esp):
    reader = make_reader()
    fixture = {
        "postmark": "postmark_spam_complaint",
        "mailgun": "mailgun_complained",
        "sendgrid": "sendgrid_spamreport",
    }
    response = POSTERS[esp](client, payload(fixture[esp], reader.email, "esp-1"), secret=None)
    assert response.status_code == 400
    assert nothing_written()


@pytest.mark.parametrize("esp", ["postmark", "mailgun", "sendgrid", "ses"])
def test_in_production_webhooks_are_refused_until_a_secret_is_set(client, settings, esp):
    settings.DEBUG = False
    settings.ANYMAIL = {k: v for k, v in settings.ANYMAIL.items() if k != "WEBHOOK_SECRET"}
    reader = make_reader()
    response = POSTERS[esp](client, payload(HARD_BOUNCE[esp], reader.email, "esp-1"), secret=None)
    assert response.status_code == 503  # the ESP retries until the operator sets the secret
    assert "ANYMAIL_WEBHOOK_SECRET" in response.content.decode()
    reader.refresh_from_db()
    assert reader.status == Status.ACTIVE
    assert nothing_written()


def test_amazon_sns_is_asked_for_basic_auth_before_anything_is_read(client):
    reader = make_reader()
    response = post_ses(client, payload("ses_complaint", reader.email, "esp-1"), secret=None)
    # SNS only sends credentials after a 401 challenge; it retries with them.
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic ")
    assert nothing_written()


def test_an_sns_post_whose_headers_do_not_match_its_body_is_refused(client):
    reader = make_reader()
    response = post_ses(client, payload("ses_complaint", reader.email, "esp-1"), message_id="forged-id")
    assert response.status_code == 400
    assert nothing_written()


def test_a_mailgun_webhook_with_a_bad_signature_is_refused_and_writes_nothing(client):
    reader = make_reader()
    response = post_mailgun(client, payload("mailgun_complained", reader.email, "esp-1"), key="not-the-key")
    assert response.status_code == 400
    reader.refresh_from_db()
    assert reader.status == Status.ACTIVE
    assert nothing_written()


def test_a_sendgrid_webhook_with_a_bad_or_missing_signature_is_refused_and_writes_nothing(client):
    reader = make_reader()
    body = payload("sendgrid_spamreport", reader.email, "esp-1")
    signed_for_other_body = sendgrid_headers(body.replace("spamreport", "delivered"))
    assert post_sendgrid(client, body, headers=signed_for_other_body).status_code == 400
    assert post_sendgrid(client, body, headers={}).status_code == 400
    replayed_with_other_timestamp = {
        **sendgrid_headers(body),
        "HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_TIMESTAMP": "1",
    }
    assert post_sendgrid(client, body, headers=replayed_with_other_timestamp).status_code == 400
    assert nothing_written()


# --- Failing only when we cannot store the event -------------------------------------------------


def test_with_the_database_down_the_webhook_fails_so_the_esp_retries_and_the_retry_lands_once():
    reader = make_reader()
    body = payload("postmark_hard_bounce", reader.email, "esp-1")

    def database_down(execute, sql, params, many, context):
        raise OperationalError("could not connect to server: Connection refused")

    with connection.execute_wrapper(database_down):
        failed = post_postmark(Client(raise_request_exception=False), body)
    assert failed.status_code == 500
    assert nothing_written()

    for _ in range(2):  # the ESP's retries
        assert post_postmark(Client(), body).status_code == 200
    reader.refresh_from_db()
    assert reader.status == Status.SUPPRESSED
    assert DeliveryEvent.objects.count() == 1


def test_an_event_about_a_message_we_never_sent_is_stored_and_answered_200(client):
    body = payload("postmark_hard_bounce", "stranger@example.net", "esp-never-ours")
    assert post_postmark(client, body).status_code == 200
    event = DeliveryEvent.objects.get()
    assert (event.delivery, event.subscriber, event.message_id) == (None, None, "esp-never-ours")
    assert not Subscriber.objects.exists()
