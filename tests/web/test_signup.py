"""The sign-up form: double opt-in, no enumeration, validation and abuse protection."""

import re

import pytest
from django.urls import reverse

from newsletter import links, preferences, privacy, subscriptions
from newsletter.models import ConsentRecord, Subscriber, Suppression, email_hash
from tests.factories import make_reader, make_topic, signup_data
from tests.helpers import queued_emails

pytestmark = pytest.mark.django_db
URL = reverse("subscribe")


def post(client, data, **extra):
    return client.post(URL, data, REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="Firefox/140", **extra)


def test_the_form_shows_active_topics_and_nothing_is_pre_checked(client):
    tiny = make_topic("Tiny robots")
    make_topic("Retired test topic", active=False)
    page = client.get(URL + "?email=me@example.org").content.decode()
    assert "Tiny robots" in page
    assert "Retired test topic" not in page
    assert 'value="me@example.org"' in page
    topic_boxes = re.findall(r'<input[^>]*name="topics"[^>]*>', page)
    assert f'value="{tiny.pk}"' in " ".join(topic_boxes)
    assert not [box for box in topic_boxes if "checked" in box]


def test_signing_up_creates_a_pending_reader_with_a_consent_record_and_queues_confirmation(
    client, django_capture_on_commit_callbacks
):
    tiny = make_topic("Tiny robots", slug="tiny-robots")
    data = signup_data(" New@Example.ORG ", topics=[tiny], interests="speculative decoding", digest_size="15")
    with django_capture_on_commit_callbacks() as callbacks:
        response = post(client, data)
    assert response.status_code == 200
    assert "Check your inbox" in response.content.decode()
    reader = Subscriber.objects.get()
    assert reader.email == "new@example.org"
    assert reader.status == Subscriber.Status.PENDING
    assert (reader.digest_size, reader.time_zone, reader.interests) == (
        15,
        "Europe/Berlin",
        "speculative decoding",
    )
    assert list(reader.topics.all()) == [tiny]
    consent = reader.consents.get()
    assert consent.action == ConsentRecord.Action.SIGNUP
    assert consent.ip_address == "203.0.113.7"
    assert consent.user_agent == "Firefox/140"
    assert consent.consent_version == preferences.CONSENT_VERSION
    assert consent.choices["topics"] == ["tiny-robots"]
    assert queued_emails(callbacks) == [(reader.pk, "confirm")]


def test_the_confirmation_email_has_a_signed_link_that_confirms(client, mailoutbox):
    reader = make_reader("new@example.org", status=Subscriber.Status.PENDING)
    assert subscriptions.send_subscription_email(reader.pk, "confirm")
    message = mailoutbox[0]
    assert message.to == ["new@example.org"]
    assert message.subject == "Confirm your Paperboy subscription"
    html = message.alternatives[0][0]
    link = next(
        word for word in message.body.split() if word.startswith("https://papers.example.org/confirm/")
    )
    assert link in html
    path = link.removeprefix("https://papers.example.org")
    assert "Yes, send me papers" in client.get(path).content.decode()
    reader.refresh_from_db()
    assert reader.status == Subscriber.Status.PENDING  # the GET alone changes nothing
    assert "You’re subscribed" in client.post(path).content.decode()
    reader.refresh_from_db()
    assert reader.status == Subscriber.Status.ACTIVE
    assert reader.confirmed_at is not None
    assert reader.consents.filter(action=ConsentRecord.Action.CONFIRM).count() == 1


def test_the_confirmation_email_links_to_preferences_and_to_cancelling_the_sign_up(client, mailoutbox):
    reader = make_reader("new@example.org", status=Subscriber.Status.PENDING)
    subscriptions.send_subscription_email(reader.pk, "confirm")
    [message] = mailoutbox
    html = message.alternatives[0][0]
    manage, unsubscribe = (
        next(w for w in message.body.split() if w.startswith(f"https://papers.example.org/{kind}/"))
        for kind in ("manage", "unsubscribe")
    )
    assert manage in html
    assert unsubscribe in html
    page = client.get(manage.removeprefix("https://papers.example.org")).content.decode()
    assert "waiting for confirmation" in page
    assert "new@example.org" in page
    client.post(unsubscribe.removeprefix("https://papers.example.org"))
    reader.refresh_from_db()
    assert reader.status == Subscriber.Status.UNSUBSCRIBED


def test_confirming_twice_is_harmless(client):
    reader = make_reader(status=Subscriber.Status.PENDING)
    path = links.path_for(reader, "confirm")
    assert client.post(path).status_code == 200
    confirmed_at = Subscriber.objects.get().confirmed_at
    second = client.post(path)
    assert second.status_code == 200
    assert "You’re subscribed" in second.content.decode()
    assert Subscriber.objects.get().confirmed_at == confirmed_at
    assert ConsentRecord.objects.filter(action="confirm").count() == 1


def test_no_email_is_sent_once_the_reader_is_no_longer_pending(mailoutbox):
    reader = make_reader(status=Subscriber.Status.UNSUBSCRIBED)
    assert not subscriptions.send_subscription_email(reader.pk, "confirm")
    assert not subscriptions.send_subscription_email(reader.pk + 1000, "confirm")
    assert mailoutbox == []


@pytest.mark.parametrize(
    "state", ["new", "pending", "active", "paused", "unsubscribed", "suppressed", "erased"]
)
def test_the_answer_is_the_same_whatever_the_address_state(client, state):
    topic = make_topic()
    email = "known@example.org"
    if state not in ("new", "erased"):
        make_reader(email, status=state, topics=[topic])
    if state in ("suppressed", "erased"):
        Suppression.objects.create(email_hash=email_hash(email), reason=Suppression.Reason.ERASED)
    response = post(client, signup_data(email, topics=[topic]))
    baseline = post(client, signup_data("fresh@example.org", topics=[topic]))
    assert response.status_code == baseline.status_code == 200
    assert response.content.decode().replace(email, "@") == baseline.content.decode().replace(
        "fresh@example.org", "@"
    )
    assert Subscriber.objects.filter(email=email).count() == 1


@pytest.mark.parametrize(
    ("state", "kind"),
    [
        ("active", "already_subscribed"),
        ("paused", "already_subscribed"),
        ("pending", "confirm"),
        ("unsubscribed", "confirm"),
        ("suppressed", "confirm"),
    ],
)
def test_a_known_address_gets_the_email_for_its_state(
    client, django_capture_on_commit_callbacks, state, kind
):
    topic, other = make_topic(), make_topic()
    reader = make_reader("known@example.org", status=state, topics=[topic])
    with django_capture_on_commit_callbacks() as callbacks:
        post(client, signup_data("known@example.org", topics=[other]))
    assert queued_emails(callbacks) == [(reader.pk, kind)]
    reader.refresh_from_db()
    if kind == "already_subscribed":
        assert reader.status == state
        assert list(reader.topics.all()) == [topic]  # a stranger cannot change a confirmed reader
    else:
        assert reader.status == Subscriber.Status.PENDING  # back to double opt-in
        assert list(reader.topics.all()) == [topic]  # the new choices wait for the confirmation
        assert reader.pending_choices["topics"] == [other.slug]


@pytest.mark.parametrize("state", ["pending", "unsubscribed", "suppressed"])
def test_a_stranger_cannot_change_a_known_readers_choices_only_the_confirmation_applies_them(client, state):
    mine, theirs = make_topic(slug="mine"), make_topic(slug="theirs")
    reader = make_reader("known@example.org", status=state, topics=[mine], interests="robots")
    response = post(
        client, signup_data("known@example.org", topics=[theirs], interests="spam", digest_size="20")
    )
    assert response.status_code == 200
    reader.refresh_from_db()
    assert (list(reader.topics.all()), reader.interests, reader.digest_size) == ([mine], "robots", 10)
    assert reader.consents.get(action="signup").choices["interests"] == "spam"  # what was asked, on record
    assert privacy.export_data(reader)["pending_choices"]["interests"] == "spam"
    client.post(links.path_for(reader, "confirm"))
    reader.refresh_from_db()
    assert reader.status == Subscriber.Status.ACTIVE
    assert (list(reader.topics.all()), reader.interests, reader.digest_size) == ([theirs], "spam", 20)
    assert reader.pending_choices is None
    assert reader.consents.get(action="confirm").choices["topics"] == ["theirs"]


def test_seed_papers_and_follows_from_a_strangers_sign_up_also_wait_for_the_confirmation(
    client, django_capture_on_commit_callbacks
):
    reader = make_reader("known@example.org", status=Subscriber.Status.PENDING, topics=[make_topic()])
    data = signup_data("known@example.org", seed_papers="2510.01001", followed_authors="Jane Doe")
    with django_capture_on_commit_callbacks():  # the seed's import task is not run here
        post(client, data)
    assert not reader.seeds.exists()
    assert not reader.follows.exists()
    with django_capture_on_commit_callbacks():
        client.post(links.path_for(reader, "confirm"))
    assert list(reader.seeds.values_list("arxiv_id", flat=True)) == ["2510.01001"]
    assert list(reader.follows.values_list("name", flat=True)) == ["Jane Doe"]


def test_choices_saved_from_the_preferences_page_replace_those_a_sign_up_left_waiting(client):
    mine, theirs = make_topic(slug="mine"), make_topic(slug="theirs")
    reader = make_reader("known@example.org", status=Subscriber.Status.PENDING, topics=[mine])
    post(client, signup_data("known@example.org", topics=[theirs]))
    page = client.get(links.path_for(reader, "manage")).content.decode()
    assert "A sign-up for this address chose other settings" in page
    data = {**signup_data(topics=[mine], interests="robots"), "action": "save"}
    assert client.post(links.path_for(reader, "manage"), data).status_code == 200
    client.post(links.path_for(reader, "confirm"))
    reader.refresh_from_db()
    assert (reader.status, list(reader.topics.all()), reader.interests) == ("active", [mine], "robots")


def test_the_already_subscribed_email_links_to_the_preferences_page(mailoutbox):
    reader = make_reader("known@example.org")
    subscriptions.send_subscription_email(reader.pk, "already_subscribed")
    message = mailoutbox[0]
    assert "already subscribed" in message.subject
    assert "https://papers.example.org/manage/" in message.body
    assert "https://papers.example.org/manage/" in message.alternatives[0][0]


def test_an_erased_address_can_sign_up_again_and_confirming_lifts_its_suppression(client):
    topic = make_topic()
    Suppression.objects.create(email_hash=email_hash("back@example.org"), reason=Suppression.Reason.ERASED)
    post(client, signup_data("back@example.org", topics=[topic]))
    reader = Subscriber.objects.get()
    assert Suppression.is_suppressed("back@example.org")  # not before fresh consent
    client.post(links.path_for(reader, "confirm"))
    assert not Suppression.is_suppressed("back@example.org")


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"email": "not-an-address"}, "email", "valid email"),
        ({"email": "a@example.org\r\nBcc: victim@example.org"}, "email", "without line breaks"),
        ({"email": "x" * 250 + "@example.org"}, "email", "at most 254"),
        ({"topics": ["999999"]}, "topics", "does not exist"),
        ({"topics": ["not-a-number"]}, "topics", ""),
        ({"interests": "a\x00b"}, "interests", "Null characters"),
        ({"interests": "one\ntwo"}, "interests", "line breaks"),
        ({"interests": "x" * 501}, "interests", "at most 500"),
        ({"digest_size": "50"}, "digest_size", "less than or equal to 20"),
        ({"digest_size": "4"}, "digest_size", "greater than or equal to 5"),
        ({"delivery_hour": "24"}, "delivery_hour", "Select a valid choice"),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone", "Select a valid choice"),
        ({"frequency": "hourly"}, "frequency", "Select a valid choice"),
    ],
)
def test_bad_input_gets_a_message_next_to_the_field_and_writes_nothing(client, overrides, field, message):
    data = signup_data(topics=[make_topic()])
    data.update(overrides)
    response = post(client, data)
    assert response.status_code == 400
    form = response.context["form"]
    assert field in form.errors
    assert message in " ".join(form.errors[field])
    assert 'class="field-error"' in response.content.decode()
    assert not Subscriber.objects.exists()
    assert not ConsentRecord.objects.exists()


def test_at_least_one_topic_or_interest_is_needed(client):
    response = post(client, signup_data(topics=[], interests="  "))
    assert response.status_code == 400
    assert (
        "Pick at least one topic, describe an interest or name a paper you like." in response.content.decode()
    )
    assert not Subscriber.objects.exists()


def test_interests_alone_are_enough(client):
    assert post(client, signup_data(interests="diffusion  for video")).status_code == 200
    assert Subscriber.objects.get().interests == "diffusion for video"


def test_an_oversized_body_is_refused_with_413(client):
    response = post(client, signup_data(interests="x" * 40_000))
    assert response.status_code == 413
    assert "Nothing was saved" in response.content.decode()
    assert not Subscriber.objects.exists()


def test_the_form_needs_a_csrf_token(topic_client):
    response = topic_client.post(URL, signup_data(interests="robots"))
    assert response.status_code == 403
    assert not Subscriber.objects.exists()


@pytest.fixture
def topic_client():
    from django.test import Client

    return Client(enforce_csrf_checks=True)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (Subscriber.Status.PENDING, "confirm"),
        (Subscriber.Status.ACTIVE, "already_subscribed"),
        (Subscriber.Status.PAUSED, "already_subscribed"),
        (Subscriber.Status.UNSUBSCRIBED, None),
        (Subscriber.Status.SUPPRESSED, None),
        (None, None),  # never subscribed
    ],
)
def test_asking_for_a_new_link_sends_what_fits_the_state_and_answers_the_same(
    client, django_capture_on_commit_callbacks, status, expected
):
    reader = make_reader("lost@example.org", status=status) if status else None
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(reverse("resend"), {"email": " Lost@Example.org "}, REMOTE_ADDR="203.0.113.8")
    assert response.status_code == 200
    assert "Check your inbox" in response.content.decode()
    assert queued_emails(callbacks) == ([(reader.pk, expected)] if expected else [])
    if reader:
        before = reader.status
        reader.refresh_from_db()
        assert reader.status == before  # asking for a link changes nothing
    else:
        assert not Subscriber.objects.exists()


def test_the_new_link_form_answers_the_same_body_whoever_asks(client):
    make_reader("known@example.org")
    known = client.post(reverse("resend"), {"email": "known@example.org"}, REMOTE_ADDR="203.0.113.9")
    unknown = client.post(reverse("resend"), {"email": "unknown@example.org"}, REMOTE_ADDR="203.0.113.9")
    assert known.content.decode().replace("known@", "X@") == unknown.content.decode().replace(
        "unknown@", "X@"
    )
