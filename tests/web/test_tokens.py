"""Signed links: purpose-specific, tamper-proof, expiring where they should, and rotation-safe."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from newsletter.models import Subscriber
from newsletter.tokens import make_token
from tests.factories import make_reader

pytestmark = pytest.mark.django_db

BAD_LINK_TITLE = "This link doesn’t work"
OLD_KEY, NEW_KEY = "the-old-secret-key-" + "x" * 40, "the-new-secret-key-" + "y" * 40


def assert_bad_link(response) -> None:
    assert response.status_code == 400
    assert BAD_LINK_TITLE in response.content.decode()
    assert 'action="/subscribe/resend/"' in response.content.decode()  # a way to get a new one


@pytest.fixture
def reader():
    return make_reader(status=Subscriber.Status.PENDING)


@pytest.mark.parametrize("url_name", ["confirm", "manage", "unsubscribe", "export", "erase"])
def test_tampered_truncated_and_garbage_tokens_get_the_same_page(client, reader, url_name):
    purpose = {"export": "manage", "erase": "manage"}.get(url_name, url_name)
    good = make_token(reader.key, purpose)
    for token in [
        good[:-1] + ("A" if good[-1] != "A" else "B"),
        good[:20],
        "nonsense",
        good.replace(":", "", 1),
    ]:
        assert_bad_link(client.get(reverse(url_name, args=[token])))


@pytest.mark.parametrize(
    ("purpose", "url_name"),
    [
        ("confirm", "unsubscribe"),
        ("confirm", "manage"),
        ("unsubscribe", "manage"),
        ("manage", "confirm"),
        ("digest", "unsubscribe"),
        ("unsubscribe", "erase"),
        ("confirm", "erase"),
        ("digest", "erase"),
    ],
)
def test_a_token_for_one_purpose_opens_no_other(client, reader, purpose, url_name):
    token = make_token(reader.key, purpose)
    assert_bad_link(client.get(reverse(url_name, args=[token])))
    assert_bad_link(client.post(reverse(url_name, args=[token])))
    reader.refresh_from_db()
    assert reader.status == Subscriber.Status.PENDING


@pytest.mark.parametrize("purpose", ["manage", "unsubscribe", "confirm", "digest", "erase"])
def test_only_an_emailed_export_link_downloads_the_data(client, reader, purpose):
    response = client.get(reverse("export", args=[make_token(reader.key, purpose)]))
    assert_bad_link(response)
    assert reader.email not in response.content.decode()


def test_a_confirmation_link_expires_after_seven_days(client, reader):
    with time_machine.travel(timezone.now() - timedelta(days=7, minutes=1)):
        token = make_token(reader.key, "confirm")
    assert_bad_link(client.post(reverse("confirm", args=[token])))
    reader.refresh_from_db()
    assert reader.status == Subscriber.Status.PENDING


def test_a_six_day_old_confirmation_link_still_works(client, reader):
    with time_machine.travel(timezone.now() - timedelta(days=6)):
        token = make_token(reader.key, "confirm")
    assert client.post(reverse("confirm", args=[token])).status_code == 200
    reader.refresh_from_db()
    assert reader.status == Subscriber.Status.ACTIVE


def test_unsubscribe_and_manage_links_never_expire(client):
    reader = make_reader()
    with time_machine.travel(timezone.now() - timedelta(days=3 * 365)):
        unsubscribe = make_token(reader.key, "unsubscribe")
        manage = make_token(reader.key, "manage")
    assert client.get(reverse("manage", args=[manage])).status_code == 200
    assert client.post(reverse("unsubscribe", args=[unsubscribe])).status_code == 200
    reader.refresh_from_db()
    assert reader.status == Subscriber.Status.UNSUBSCRIBED


def test_old_links_keep_working_after_a_secret_key_rotation(client, settings):
    reader = make_reader()
    settings.SECRET_KEY = OLD_KEY
    token = make_token(reader.key, "unsubscribe")
    settings.SECRET_KEY = NEW_KEY
    settings.SECRET_KEY_FALLBACKS = [OLD_KEY]
    assert client.post(reverse("unsubscribe", args=[token])).status_code == 200
    reader.refresh_from_db()
    assert reader.status == Subscriber.Status.UNSUBSCRIBED


def test_links_signed_with_a_retired_key_stop_working(client, settings):
    reader = make_reader()
    settings.SECRET_KEY = OLD_KEY
    token = make_token(reader.key, "manage")
    settings.SECRET_KEY = NEW_KEY
    settings.SECRET_KEY_FALLBACKS = []
    assert_bad_link(client.get(reverse("manage", args=[token])))


def test_a_link_for_a_deleted_reader_gets_the_same_page(client):
    reader = make_reader()
    token = make_token(reader.key, "manage")
    reader.delete()
    assert_bad_link(client.get(reverse("manage", args=[token])))
