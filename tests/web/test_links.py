"""Links that are not forever: a rotatable link key per reader, fresh emailed links for export and
erasure, no live manage link in the web view of a digest, and no caching of reader pages."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from newsletter import links, privacy, subscriptions
from newsletter.models import DigestDelivery, Subscriber
from newsletter.tokens import make_token
from tests.factories import make_paper, make_reader, make_topic, signup_data
from tests.helpers import queued_emails

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
BAD_LINK = "This link doesn’t work"


@pytest.fixture
def reader():
    return make_reader("reader@example.org", topics=[make_topic()])


def digest_for(reader) -> DigestDelivery:
    paper = make_paper("Forgetting on demand")
    return DigestDelivery.objects.create(
        subscriber=reader, issue_date=date(2026, 11, 24), paper_ids=[paper.pk], status="sent"
    )


def sign_out(client, reader) -> None:
    response = client.post(links.path_for(reader, "manage"), {"action": "sign_out"})
    assert response.status_code == 200
    assert "All your links are signed out" in response.content.decode()
    reader.refresh_from_db()


def test_signing_out_voids_every_link_sent_so_far_except_unsubscribe(client, reader):
    digest = digest_for(reader)
    manage = links.path_for(reader, "manage")
    confirm = links.path_for(reader, "confirm")
    web = reverse("digest-web", args=[links.token_for(reader, "digest", digest.pk)])
    unsubscribe = links.path_for(reader, "unsubscribe")
    assert client.get(web).status_code == 200

    sign_out(client, reader)

    assert BAD_LINK in client.get(manage).content.decode()
    assert client.get(manage).status_code == client.post(confirm).status_code == 400
    assert client.get(web).status_code == 404
    assert client.get(links.path_for(reader, "manage")).status_code == 200  # new links work
    # RFC 8058 one-click from an old digest still unsubscribes, but leads nowhere else.
    response = Client(enforce_csrf_checks=True).post(unsubscribe)
    assert response.status_code == 200
    assert "/manage/" not in response.content.decode()
    reader.refresh_from_db()
    assert reader.status == Subscriber.Status.UNSUBSCRIBED


def test_links_from_before_link_keys_work_until_the_first_sign_out(client, reader):
    digest = digest_for(reader)
    manage = reverse("manage", args=[make_token(reader.key, "manage")])
    web = reverse("digest-web", args=[make_token(digest.pk, "digest")])
    assert client.get(manage).status_code == client.get(web).status_code == 200
    sign_out(client, reader)
    assert client.get(manage).status_code == 400
    assert client.get(web).status_code == 404


def test_a_view_in_browser_link_opens_only_its_own_readers_digest(client, reader):
    other = make_reader()
    digest = digest_for(other)
    forged_pairing = reverse("digest-web", args=[links.token_for(reader, "digest", digest.pk)])
    assert client.get(forged_pairing).status_code == 404


def test_asking_to_come_back_signs_out_old_links_and_the_confirmation_brings_new_ones(client, mailoutbox):
    reader = make_reader("back@example.org", status=Subscriber.Status.UNSUBSCRIBED, topics=[make_topic()])
    old_manage = links.path_for(reader, "manage")
    assert client.post(old_manage, {"action": "resubscribe"}).status_code == 200
    assert client.get(old_manage).status_code == 400
    reader.refresh_from_db()
    subscriptions.send_subscription_email(reader.pk, "confirm")
    confirm = next(w for w in mailoutbox[0].body.split() if "/confirm/" in w)
    assert client.post(confirm.removeprefix("https://papers.example.org")).status_code == 200
    reader.refresh_from_db()
    assert reader.status == Subscriber.Status.ACTIVE


def test_a_link_to_an_erased_reader_never_opens_the_new_reader_at_that_address(client, reader):
    old_manage = links.path_for(reader, "manage")
    privacy.erase(reader)
    client.post(reverse("subscribe"), signup_data("reader@example.org", interests="robots"))
    assert Subscriber.objects.filter(email="reader@example.org").exists()
    assert BAD_LINK in client.get(old_manage).content.decode()


def test_the_web_view_of_a_digest_has_no_live_manage_link(client, reader):
    digest = digest_for(reader)
    page = client.get(reverse("digest-web", args=[links.token_for(reader, "digest", digest.pk)]))
    html = page.content.decode()
    assert "Forgetting on demand" in html
    assert "/manage/" not in html
    assert "https://papers.example.org/subscribe/resend/" in html  # ask for a link by email instead
    assert "/unsubscribe/" in html


def test_the_preferences_page_offers_emailed_links_for_export_and_erasure_not_direct_ones(client, reader):
    page = client.get(links.path_for(reader, "manage")).content.decode()
    assert "/export/" not in page
    assert "/delete/" not in page
    assert "Email me a link to download my data" in page


@time_machine.travel(NOW, tick=False)
def test_download_my_data_goes_through_a_link_mailed_to_the_reader_that_works_for_an_hour(
    client, reader, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        page = client.post(links.path_for(reader, "manage"), {"action": "export"})
    assert "We’ve emailed a link to download your data" in page.content.decode()
    assert queued_emails(callbacks) == [(reader.pk, "export")]
    assert subscriptions.send_subscription_email(reader.pk, "export")
    [message] = mailoutbox
    assert message.to == ["reader@example.org"]
    url = next(w for w in message.body.split() if "/export/" in w).removeprefix("https://papers.example.org")
    assert url in message.alternatives[0][0]
    response = client.get(url)
    assert response.status_code == 200
    assert json.loads(response.content)["email"] == "reader@example.org"
    with time_machine.travel(NOW + timedelta(minutes=61), tick=False):
        assert client.get(url).status_code == 400


@time_machine.travel(NOW, tick=False)
def test_delete_me_goes_through_a_link_mailed_to_the_reader(client, reader, mailoutbox):
    client.post(links.path_for(reader, "manage"), {"action": "erase"})
    subscriptions.send_subscription_email(reader.pk, "erase")
    url = next(w for w in mailoutbox[0].body.split() if "/delete/" in w).removeprefix(
        "https://papers.example.org"
    )
    assert "Delete everything" in client.get(url).content.decode()
    client.post(url)
    assert not Subscriber.objects.exists()


def test_a_manage_link_cannot_download_or_erase(client, reader):
    token = links.token_for(reader, "manage")
    assert client.get(reverse("export", args=[token])).status_code == 400
    assert client.post(reverse("erase", args=[token])).status_code == 400
    assert Subscriber.objects.exists()


@pytest.mark.parametrize(
    ("purpose", "method"),
    [
        ("manage", "get"),
        ("confirm", "get"),
        ("unsubscribe", "get"),
        ("unsubscribe", "post"),
        ("export", "get"),
        ("erase", "get"),
        ("digest", "get"),
        ("bad", "get"),
    ],
)
def test_every_page_reached_by_a_reader_link_forbids_caching(client, reader, purpose, method):
    if purpose == "digest":
        url = reverse("digest-web", args=[links.token_for(reader, "digest", digest_for(reader).pk)])
    elif purpose == "bad":
        url = reverse("manage", args=["forged"])
    else:
        url = links.path_for(reader, purpose)
    response = getattr(client, method)(url)
    assert response.status_code in (200, 400)
    assert "no-store" in response["Cache-Control"]
