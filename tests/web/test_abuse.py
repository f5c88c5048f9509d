"""Bots and floods: honeypot, minimum fill time, rate limits, and the daily email cap."""

import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from newsletter.forms import FORM_EXPIRED
from newsletter.models import ConsentRecord, Subscriber
from tests.factories import make_reader, make_topic, signup_data, started
from tests.helpers import queued_emails

pytestmark = pytest.mark.django_db
URL = reverse("subscribe")


def post(client, data, ip="198.51.100.9", **extra):
    return client.post(URL, data, REMOTE_ADDR=ip, **extra)


@pytest.mark.parametrize(
    "overrides",
    [
        lambda: {"website": "http://spam.example"},
        lambda: {"started": started(seconds_ago=1)},  # built when the test runs: the clock matters
        lambda: {"started": "forged-timestamp"},
        lambda: {"started": ""},
    ],
    ids=["honeypot", "too-fast", "forged-timestamp", "no-timestamp"],
)
def test_a_bot_is_answered_as_usual_but_nothing_is_written_or_sent(
    client, django_capture_on_commit_callbacks, overrides
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = post(client, signup_data(topics=[make_topic()], **overrides()))
    assert response.status_code == 200
    assert "Check your inbox" in response.content.decode()
    assert not Subscriber.objects.exists()
    assert not ConsentRecord.objects.exists()
    assert callbacks == []


def test_too_many_sign_ups_from_one_ip_get_429_with_a_human_message(client, settings):
    settings.SIGNUP_LIMIT_PER_IP_PER_HOUR = 3
    topic = make_topic()
    for n in range(3):
        assert post(client, signup_data(f"r{n}@example.org", topics=[topic])).status_code == 200
    response = post(client, signup_data("r4@example.org", topics=[topic]))
    assert response.status_code == 429
    assert "Please wait an hour" in response.content.decode()
    assert not Subscriber.objects.filter(email="r4@example.org").exists()
    # Someone else is not affected.
    assert post(client, signup_data("r5@example.org", topics=[topic]), ip="198.51.100.10").status_code == 200


def test_the_ip_behind_a_trusted_proxy_is_the_forwarded_one(client, settings):
    settings.SIGNUP_LIMIT_PER_IP_PER_HOUR = 1
    settings.TRUSTED_PROXY_COUNT = 1
    topic = make_topic()
    first = post(client, signup_data("a@example.org", topics=[topic]), HTTP_X_FORWARDED_FOR="192.0.2.1")
    other = post(client, signup_data("b@example.org", topics=[topic]), HTTP_X_FORWARDED_FOR="192.0.2.2")
    again = post(client, signup_data("c@example.org", topics=[topic]), HTTP_X_FORWARDED_FOR="192.0.2.1")
    assert (first.status_code, other.status_code, again.status_code) == (200, 200, 429)
    assert Subscriber.objects.get(email="a@example.org").consents.get().ip_address == "192.0.2.1"


def test_too_many_sign_ups_for_one_address_get_429(client, settings):
    settings.SIGNUP_LIMIT_PER_ADDRESS_PER_HOUR = 2
    topic = make_topic()
    for n in range(2):
        ip = f"198.51.100.{n + 20}"
        assert post(client, signup_data("Target@example.org", topics=[topic]), ip=ip).status_code == 200
    response = post(client, signup_data("target@example.org ", topics=[topic]), ip="198.51.100.99")
    assert response.status_code == 429
    assert "Nothing was saved or sent" in response.content.decode()


def test_an_address_gets_at_most_a_few_sign_up_emails_a_day(
    client, settings, django_capture_on_commit_callbacks
):
    settings.SIGNUP_EMAILS_PER_ADDRESS_PER_DAY = 2
    settings.SIGNUP_LIMIT_PER_ADDRESS_PER_HOUR = 10
    reader = make_reader("busy@example.org")
    topic = make_topic()
    with django_capture_on_commit_callbacks() as callbacks:
        for n in range(4):
            response = post(client, signup_data("busy@example.org", topics=[topic]), ip=f"198.51.100.{n}")
            assert response.status_code == 200  # the answer never changes
    assert queued_emails(callbacks) == [(reader.pk, "already_subscribed")] * 2


def test_the_resend_form_is_rate_limited_too(client, settings):
    settings.SIGNUP_LIMIT_PER_IP_PER_HOUR = 1
    assert client.post(reverse("resend"), {"email": "a@example.org"}).status_code == 200
    assert client.post(reverse("resend"), {"email": "b@example.org"}).status_code == 429


@time_machine.travel(datetime(2026, 11, 24, 9, 0, tzinfo=UTC), tick=False)
def test_one_form_value_signs_up_one_address_only(client, django_capture_on_commit_callbacks):
    topic = make_topic()
    value = started()
    with django_capture_on_commit_callbacks() as callbacks:
        for n in range(3):
            response = post(client, signup_data(f"bot{n}@example.org", topics=[topic], started=value))
            assert response.status_code == 200
            assert "Check your inbox" in response.content.decode()
    assert list(Subscriber.objects.values_list("email", flat=True)) == ["bot0@example.org"]
    assert len(queued_emails(callbacks)) == 1


@time_machine.travel(datetime(2026, 11, 24, 9, 0, tzinfo=UTC), tick=False)
def test_a_form_left_open_for_over_an_hour_asks_to_send_it_again_with_a_fresh_value(client):
    topic = make_topic()
    response = post(client, signup_data(topics=[topic], started=started(seconds_ago=3601)))
    assert response.status_code == 400
    assert FORM_EXPIRED in response.content.decode()
    assert not Subscriber.objects.exists()
    fresh = re.search(r'name="started" value="([^"]+)"', response.content.decode())[1]
    with time_machine.travel(datetime(2026, 11, 24, 9, 0, 30, tzinfo=UTC), tick=False):
        assert post(client, signup_data(topics=[topic], started=fresh)).status_code == 200
    assert Subscriber.objects.get().email == "new@example.org"


@time_machine.travel(datetime(2026, 11, 24, 9, 0, tzinfo=UTC), tick=False)
def test_a_form_sent_back_with_a_mistake_can_be_corrected_and_sent_again(client):
    topic = make_topic()
    data = signup_data(topics=[topic], digest_size="99")
    assert post(client, data).status_code == 400
    assert post(client, {**data, "digest_size": "10"}).status_code == 200
    assert Subscriber.objects.count() == 1
