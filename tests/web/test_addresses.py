"""One mailbox, one reader: every spelling of an address is stored, limited and matched as one."""

import hashlib
import importlib
import re
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.urls import reverse

from newsletter import subscriptions
from newsletter.addresses import InvalidAddress, canonical_email, normalize_email
from newsletter.models import (
    ConsentRecord,
    DeliveryEvent,
    DigestDelivery,
    Subscriber,
    Suppression,
    email_hash,
)
from tests.factories import fire, make_reader, make_topic, signup_data
from tests.helpers import queued_emails

IDN = "user@xn--exmple-cua.com"


@pytest.mark.parametrize(
    "spelling",
    [
        "user@exämple.com",
        "USER@EXÄMPLE.COM",
        " user@xn--exmple-cua.com ",
        "user@XN--EXMPLE-CUA.COM",
        "ｕｓｅｒ@ｅｘäｍｐｌｅ.ｃｏｍ",  # fullwidth letters
        "user＠exämple.com",  # fullwidth at sign
    ],
)
def test_every_spelling_of_one_mailbox_has_one_canonical_form(spelling):
    assert canonical_email(spelling) == IDN
    assert normalize_email(spelling) == IDN
    assert email_hash(spelling) == email_hash(IDN)


@pytest.mark.parametrize(
    ("address", "named"),
    [
        ("user@exam\u00adple.com", "U+00AD SOFT HYPHEN"),
        ("us\u200ber@example.com", "U+200B ZERO WIDTH SPACE"),
        ("user@ex\u2028ample.com", "U+2028 LINE SEPARATOR"),
        ("user@ex\u2029ample.com", "U+2029 PARAGRAPH SEPARATOR"),
        ("user@exa\u202emple.com", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("us er@example.com", "U+0020 SPACE"),
    ],
)
def test_invisible_and_layout_characters_are_refused_by_name(address, named):
    with pytest.raises(InvalidAddress, match=re.escape(named)):
        canonical_email(address)


def test_matching_reads_an_address_from_outside_the_way_a_mail_server_would():
    assert normalize_email("user@exam\u00adple.com") == "user@example.com"
    assert normalize_email("") == ""
    assert normalize_email("not an address") == "notanaddress"


@pytest.mark.django_db
def test_signing_up_with_two_spellings_of_one_mailbox_makes_one_reader(
    client, django_capture_on_commit_callbacks
):
    topic = make_topic()
    with django_capture_on_commit_callbacks() as callbacks:
        for spelling in [
            "user@exämple.com",
            "USER@xn--exmple-cua.com",
            "ｕｓｅｒ@exämple.com",
            "user@EXÄMPLE.com",
        ]:
            response = client.post(reverse("subscribe"), signup_data(spelling, topics=[topic]))
            assert response.status_code == 200
    reader = Subscriber.objects.get()
    assert reader.email == IDN
    # The per-address daily cap (3 in these tests) holds whichever way the address is spelled.
    assert queued_emails(callbacks) == [(reader.pk, "confirm")] * 3


@pytest.mark.django_db
def test_an_address_with_a_soft_hyphen_gets_a_clear_form_error_and_nothing_is_saved(client):
    response = client.post(reverse("subscribe"), signup_data("user@exam\u00adple.com", topics=[make_topic()]))
    assert response.status_code == 400
    assert "invisible or layout character (U+00AD SOFT HYPHEN)" in response.content.decode()
    assert not Subscriber.objects.exists()


@pytest.mark.django_db
def test_a_hard_bounce_reported_for_the_unicode_spelling_suppresses_the_reader(client):
    reader = make_reader(IDN)
    fire("bounced", "user@exämple.com", reject_reason="bounced", esp_event={"Type": "HardBounce"})
    reader.refresh_from_db()
    assert reader.status == Subscriber.Status.SUPPRESSED
    assert Suppression.is_suppressed("USER@xn--exmple-cua.com")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "stored", ["user@ex\u2028ample.com", "user@exam\u00adple.com", "us\u00ader@example.com"]
)
def test_the_confirmation_task_skips_an_address_stored_before_checks_instead_of_crashing(stored, mailoutbox):
    reader = make_reader(stored, status=Subscriber.Status.PENDING)
    assert subscriptions.send_subscription_email(reader.pk, "confirm") is False
    assert mailoutbox == []


@pytest.mark.django_db
def test_the_data_migration_merges_spellings_of_one_mailbox_keeping_every_record():
    from django.apps import apps

    merge = importlib.import_module("newsletter.migrations.0004_merge_readers_with_one_canonical_address")
    with time_machine.travel(datetime(2026, 11, 1, tzinfo=UTC)):
        old = make_reader("user@exämple.com")
        old.consents.create(action=ConsentRecord.Action.CONFIRM)
        DigestDelivery.objects.create(subscriber=old, issue_date=date(2026, 11, 20))
        DigestDelivery.objects.create(subscriber=old, issue_date=date(2026, 11, 21))
        DeliveryEvent.objects.create(subscriber=old, fingerprint="a", kind="delivered", esp="Postmark")
        legacy_hash = hashlib.sha256(b"user@ex\xc3\xa4mple.com").hexdigest()  # before canonical forms
        Suppression.objects.create(email_hash=legacy_hash, reason="manual")
    with time_machine.travel(datetime(2026, 11, 10, tzinfo=UTC)):
        new = make_reader("user@xn--exmple-cua.com", status=Subscriber.Status.UNSUBSCRIBED)
        new.consents.create(action=ConsentRecord.Action.UNSUBSCRIBE)
        DigestDelivery.objects.create(subscriber=new, issue_date=date(2026, 11, 21))
    other = make_reader("someone@example.org")

    merge.merge_duplicate_readers(apps, None)

    kept = Subscriber.objects.get(email=IDN)
    assert kept.pk == new.pk  # the status its owner chose last
    assert kept.status == Subscriber.Status.UNSUBSCRIBED
    assert set(Subscriber.objects.values_list("pk", flat=True)) == {new.pk, other.pk}
    assert list(kept.consents.values_list("action", flat=True)) == ["confirm", "unsubscribe", "change"]
    assert kept.consents.last().choices["merged_subscribers"] == [old.pk]
    assert sorted(kept.deliveries.values_list("issue_date", flat=True)) == [
        date(2026, 11, 20),
        date(2026, 11, 21),
    ]
    assert DigestDelivery.objects.filter(subscriber=None).count() == 1  # the same day twice: kept, detached
    assert DeliveryEvent.objects.get().subscriber == kept
    assert Suppression.is_suppressed(IDN)
