"""The tracking policy: what each kind of ESP event does to a reader, their address and digest."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from newsletter import planning, tasks, tracking
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

Kind = DeliveryEvent.Kind
Status = Subscriber.Status


# --- Pure helpers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event_type", "reason", "esp", "esp_event", "kind"),
    [
        ("bounced", "bounced", "Postmark", {"Type": "HardBounce"}, Kind.HARD_BOUNCE),
        ("bounced", "bounced", "Postmark", {"Type": "SoftBounce"}, Kind.SOFT_BOUNCE),
        ("bounced", "bounced", "Amazon SES", {"bounce": {"bounceType": "Permanent"}}, Kind.HARD_BOUNCE),
        ("bounced", "bounced", "Amazon SES", {"bounce": {"bounceType": "Transient"}}, Kind.SOFT_BOUNCE),
        ("bounced", None, "SendGrid", {"type": "blocked"}, Kind.SOFT_BOUNCE),
        ("bounced", None, "SendGrid", {"type": "bounce"}, Kind.HARD_BOUNCE),
        ("bounced", "bounced", "Mailgun", "not a dict", Kind.HARD_BOUNCE),
        ("complained", "spam", "Mailgun", {}, Kind.COMPLAINT),
        ("unsubscribed", None, "SendGrid", {}, Kind.UNSUBSCRIBE),
        ("rejected", "bounced", "SendGrid", {}, Kind.HARD_BOUNCE),
        ("rejected", "spam", "Postmark", {}, Kind.COMPLAINT),
        ("rejected", "other", "SendGrid", {"reason": "Spam Reporting Address"}, Kind.COMPLAINT),
        ("rejected", "unsubscribed", "SendGrid", {}, Kind.UNSUBSCRIBE),
        ("rejected", "invalid", "Postmark", {}, Kind.INVALID),
        ("rejected", "blocked", "Amazon SES", {}, Kind.OTHER),
        ("deferred", None, "Mailgun", {}, Kind.SOFT_BOUNCE),
        ("failed", None, "Amazon SES", {}, Kind.SOFT_BOUNCE),
        ("delivered", None, "Postmark", {}, Kind.DELIVERED),
        ("opened", None, "Postmark", {}, Kind.ENGAGEMENT),
        ("clicked", None, "Postmark", {}, Kind.ENGAGEMENT),
        ("queued", None, "SendGrid", {}, Kind.OTHER),
        ("unknown", None, "Postmark", {}, Kind.OTHER),
    ],
)
def test_each_event_is_classified_by_what_the_esp_says(event_type, reason, esp, esp_event, kind):
    assert tracking.classify(event_type, reason, esp, esp_event) == kind


def test_the_fingerprint_is_stable_and_changes_with_every_field():
    args = ["Postmark", "bounced", "m-1", "a@example.com", NOON, "42"]
    assert tracking.fingerprint(*args) == tracking.fingerprint(*args)
    seen = {tracking.fingerprint(*args)}
    others = ["SendGrid", "complained", "m-2", "b@example.com", NOON + dt.timedelta(seconds=1), ""]
    for i, other in enumerate(others):
        changed = list(args)
        changed[i] = other
        seen.add(tracking.fingerprint(*changed))
    assert len(seen) == 7


def test_the_raw_event_is_kept_small_and_without_the_address():
    esp_event = {
        "Email": "Reader@Example.com".lower(),
        "Content": "x" * 10_000,
        "headers": [{"name": f"H{i}", "value": "v"} for i in range(100)],
        "deep": {"a": {"b": {"c": {"d": 1}}}},
    }
    raw = tracking.small_raw(esp_event, "reader@example.com")
    assert raw["Email"] == "<recipient>"
    assert len(raw["Content"]) < 400
    assert len(raw["headers"]) == 5
    assert raw["deep"]["a"]["b"] == "…"
    assert "reader@example.com" not in str(raw)


def test_a_huge_raw_event_keeps_only_its_top_level_fields():
    esp_event = {"event": "bounce", **{f"k{i}": {"nested": "y" * 300} for i in range(30)}}
    assert tracking.small_raw(esp_event, "") == {"event": "bounce"}


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ({"delivery_id": "17"}, 17),
        ({"delivery_id": 17}, 17),
        ({"delivery_id": "abc"}, None),
        ({"delivery_id": "9" * 30}, None),
        ({}, None),
        (["17"], None),
        (None, None),
    ],
)
def test_only_a_plausible_delivery_id_is_used(metadata, expected):
    assert tracking.delivery_id_from(metadata) == expected


# --- Suppression and status changes -------------------------------------------------------------


def suppression_of(email: str) -> Suppression | None:
    return Suppression.objects.filter(email_hash=email_hash(email)).first()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("event_type", "reason", "suppression_reason"),
    [
        ("bounced", "bounced", Suppression.Reason.HARD_BOUNCE),
        ("complained", "spam", Suppression.Reason.COMPLAINT),
        ("rejected", "bounced", Suppression.Reason.HARD_BOUNCE),
        ("rejected", "spam", Suppression.Reason.COMPLAINT),
        ("rejected", "invalid", Suppression.Reason.REJECTED),
    ],
)
def test_hard_bounces_and_complaints_suppress_the_reader_at_once(event_type, reason, suppression_reason):
    reader = make_reader()
    fire(event_type, reader.email, reject_reason=reason)
    reader.refresh_from_db()
    assert reader.status == Status.SUPPRESSED
    suppression = suppression_of(reader.email)
    assert suppression.reason == suppression_reason
    assert suppression.source == "Postmark webhook"
    assert Subscriber.objects.filter(status=Status.ACTIVE).count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(("event_type", "reason"), [("unsubscribed", None), ("rejected", "unsubscribed")])
def test_an_unsubscribe_at_the_esp_unsubscribes_and_needs_fresh_opt_in(event_type, reason):
    reader = make_reader()
    fire(event_type, reader.email, reject_reason=reason)
    reader.refresh_from_db()
    assert reader.status == Status.UNSUBSCRIBED
    assert reader.unsubscribed_at is not None
    assert suppression_of(reader.email).reason == Suppression.Reason.UNSUBSCRIBED
    consent = ConsentRecord.objects.get(subscriber=reader)
    assert consent.action == ConsentRecord.Action.UNSUBSCRIBE
    assert consent.choices["source"] == "Postmark webhook"


@pytest.mark.django_db
def test_an_esp_block_that_is_not_the_readers_fault_changes_nothing():
    reader = make_reader()
    fire("rejected", reader.email, reject_reason="blocked")
    reader.refresh_from_db()
    assert reader.status == Status.ACTIVE
    assert suppression_of(reader.email) is None
    assert DeliveryEvent.objects.get().kind == Kind.OTHER


@pytest.mark.django_db
def test_a_suppressed_reader_stays_suppressed_when_they_also_unsubscribe():
    reader = make_reader()
    fire("complained", reader.email)
    fire("unsubscribed", reader.email)
    reader.refresh_from_db()
    assert reader.status == Status.SUPPRESSED
    assert suppression_of(reader.email).reason == Suppression.Reason.COMPLAINT
    assert list(ConsentRecord.objects.values_list("action", flat=True)) == ["suppress"]  # no unsubscribe


@pytest.mark.django_db
def test_a_reader_who_unsubscribed_and_then_complains_is_suppressed():
    reader = make_reader(status=Status.UNSUBSCRIBED)
    fire("complained", reader.email)
    reader.refresh_from_db()
    assert reader.status == Status.SUPPRESSED


@pytest.mark.django_db
def test_the_address_in_the_event_is_matched_whatever_its_case():
    reader = make_reader("ada@example.com")
    fire("bounced", "  Ada@Example.COM ", reject_reason="bounced")
    reader.refresh_from_db()
    assert reader.status == Status.SUPPRESSED
    assert DeliveryEvent.objects.get().subscriber == reader


@pytest.mark.django_db
def test_a_bounce_for_a_reader_who_changed_address_leaves_the_new_address_alone():
    reader = make_reader("new@example.com")
    delivery = make_delivery(reader, esp_message_id="m-old")
    fire("bounced", "old@example.com", reject_reason="bounced", message_id="m-old")
    reader.refresh_from_db()
    assert reader.status == Status.ACTIVE
    assert suppression_of("old@example.com") is not None
    assert DeliveryEvent.objects.get().delivery == delivery


# --- Soft bounces -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_soft_bounces_pause_the_reader_after_the_configured_number():
    reader = make_reader()
    with time_machine.travel(NOON + dt.timedelta(hours=1), tick=False):
        fire("deferred", reader.email, message_id="d-1")
        fire("failed", reader.email, message_id="d-2")
        reader.refresh_from_db()
        assert reader.status == Status.ACTIVE
        fire("bounced", reader.email, message_id="d-3", esp_event={"Type": "SoftBounce"})
    reader.refresh_from_db()
    assert reader.status == Status.PAUSED
    assert suppression_of(reader.email) is None  # they can resume once their mailbox works


@pytest.mark.django_db
def test_the_soft_bounce_limit_and_window_come_from_settings(settings):
    settings.TRACKING_SOFT_BOUNCE_LIMIT = 2
    settings.TRACKING_SOFT_BOUNCE_WINDOW_DAYS = 7
    reader = make_reader()
    with time_machine.travel(NOON, tick=False):
        fire("deferred", reader.email, message_id="old", timestamp=NOON - dt.timedelta(days=8))
        fire("deferred", reader.email, message_id="new")
        reader.refresh_from_db()
        assert reader.status == Status.ACTIVE  # the first one is outside the window
        fire("deferred", reader.email, message_id="newer")
    reader.refresh_from_db()
    assert reader.status == Status.PAUSED


@pytest.mark.django_db
def test_retries_of_one_message_count_as_one_soft_bounce():
    reader = make_reader()
    with time_machine.travel(NOON + dt.timedelta(hours=1), tick=False):
        for attempt in range(5):
            fire("deferred", reader.email, message_id="d-1", timestamp=NOON + dt.timedelta(minutes=attempt))
    reader.refresh_from_db()
    assert reader.status == Status.ACTIVE
    assert tracking.soft_bounced_messages(reader.pk) == 1


@pytest.mark.django_db
def test_a_deferred_digest_that_was_delivered_later_does_not_count():
    reader = make_reader()
    with time_machine.travel(NOON + dt.timedelta(hours=1), tick=False):
        for n in range(3):
            fire("deferred", reader.email, message_id=f"grey-{n}")
            fire("delivered", reader.email, message_id=f"grey-{n}", timestamp=NOON + dt.timedelta(minutes=5))
    reader.refresh_from_db()
    assert reader.status == Status.ACTIVE


@pytest.mark.django_db
def test_soft_bounces_do_not_pause_a_reader_who_is_not_active():
    reader = make_reader(status=Status.UNSUBSCRIBED)
    with time_machine.travel(NOON, tick=False):
        for n in range(4):
            fire("deferred", reader.email, message_id=f"d-{n}")
    reader.refresh_from_db()
    assert reader.status == Status.UNSUBSCRIBED


# --- Deliveries and engagement ------------------------------------------------------------------


@pytest.mark.django_db
def test_delivered_moves_an_unknown_digest_to_sent():
    reader = make_reader()
    delivery = make_delivery(reader, status=DigestDelivery.Status.UNKNOWN)
    fire("delivered", reader.email, message_id="esp-77", metadata={"delivery_id": str(delivery.pk)})
    delivery.refresh_from_db()
    assert delivery.status == DigestDelivery.Status.SENT
    assert delivery.sent_at == NOON
    assert delivery.esp_message_id == "esp-77"


@pytest.mark.django_db
@pytest.mark.parametrize("status", [DigestDelivery.Status.FAILED, DigestDelivery.Status.SENDING])
def test_delivered_leaves_a_digest_the_sender_still_owns_alone(status):
    reader = make_reader()
    delivery = make_delivery(reader, status=status, esp_message_id="esp-1")
    fire("delivered", reader.email, message_id="esp-1")
    delivery.refresh_from_db()
    assert delivery.status == status
    assert DeliveryEvent.objects.get().delivery == delivery


@pytest.mark.django_db
def test_a_delivered_report_that_came_during_the_send_confirms_the_digest_once_it_is_abandoned(settings):
    reader = make_reader()
    claimed = timezone.now() - dt.timedelta(seconds=settings.DIGEST_SENDING_TIMEOUT + 60)
    delivery = make_delivery(reader, status=DigestDelivery.Status.SENDING, claimed_at=claimed)
    fire("delivered", reader.email, message_id="esp-9", metadata={"delivery_id": str(delivery.pk)})
    delivery.refresh_from_db()
    assert delivery.status == DigestDelivery.Status.SENDING  # the worker may still be on it
    planning.tick()  # the sweep: the worker is gone, so the row would become 'unknown'
    delivery.refresh_from_db()
    assert delivery.status == DigestDelivery.Status.SENT
    assert delivery.esp_message_id == "esp-9"


@pytest.mark.django_db
def test_hourly_housekeeping_confirms_unknown_digests_with_a_delivered_report():
    reader = make_reader()
    delivery = make_delivery(reader, status=DigestDelivery.Status.SENDING)
    other = make_delivery(make_reader(), status=DigestDelivery.Status.UNKNOWN)
    fire("delivered", reader.email, message_id="esp-10", metadata={"delivery_id": str(delivery.pk)})
    DigestDelivery.objects.filter(pk=delivery.pk).update(status=DigestDelivery.Status.UNKNOWN)
    tasks.tracking_housekeeping()
    delivery.refresh_from_db()
    other.refresh_from_db()
    assert delivery.status == DigestDelivery.Status.SENT
    assert other.status == DigestDelivery.Status.UNKNOWN  # no report: stays for an operator


@pytest.mark.django_db
def test_opens_and_clicks_are_only_counted_per_day_by_default():
    reader = make_reader()
    delivery = make_delivery(reader, esp_message_id="esp-1")
    fire("opened", reader.email, message_id="esp-1", timestamp=NOON)
    fire("opened", reader.email, message_id="esp-1", timestamp=NOON + dt.timedelta(minutes=1))
    fire("clicked", reader.email, message_id="esp-1", click_url="https://arxiv.org/abs/1")
    counts = dict(EngagementCount.objects.filter(day=NOON.date()).values_list("event_type", "count"))
    assert counts == {"opened": 2, "clicked": 1}
    events = DeliveryEvent.objects.filter(kind=Kind.ENGAGEMENT)
    assert events.count() == 3
    assert not events.filter(subscriber=reader).exists()
    assert not events.filter(delivery=delivery).exists()
    assert [(e.message_id, e.event_id, e.raw) for e in events] == [("", "", {})] * 3


@pytest.mark.django_db
def test_per_reader_tracking_links_opens_to_the_reader_when_turned_on(settings):
    settings.TRACKING_PER_READER = True
    reader = make_reader()
    delivery = make_delivery(reader, esp_message_id="esp-1")
    fire("opened", reader.email, message_id="esp-1")
    event = DeliveryEvent.objects.get()
    assert (event.subscriber, event.delivery, event.message_id) == (reader, delivery, "esp-1")
    assert EngagementCount.objects.get().count == 1
