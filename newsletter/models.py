"""Readers, their consent, the digests sent to them, and what ESPs told us about those sends."""

import hashlib
import secrets
import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.utils import timezone

from newsletter.addresses import normalize_email
from newsletter.delivery_states import DeliveryQuerySet, DeliveryStatus


def email_hash(email: str) -> str:
    """The only form in which an erased or suppressed address is kept."""
    return hashlib.sha256(normalize_email(email).encode()).hexdigest()


class Subscriber(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for confirmation"
        ACTIVE = "active", "Subscribed"
        PAUSED = "paused", "Paused"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
        SUPPRESSED = "suppressed", "Suppressed (bounced or complained)"

    class Frequency(models.TextChoices):
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly"

    class Trending(models.TextChoices):
        MATCHES = "matches", "Only what matches me"
        BALANCED = "balanced", "Balanced"
        TOP = "top", "Also the day's top papers"

    # Signed links carry this random key, never the sequential primary key.
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Also in every link (newsletter/tokens.py): changing it signs out all links sent so far.
    link_key = models.CharField(max_length=16, blank=True, default="", editable=False)
    email = models.EmailField(max_length=254, unique=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True)

    topics = models.ManyToManyField("papers.Topic", related_name="subscribers", blank=True)
    interests = models.TextField(max_length=500, blank=True, help_text="Free-text interests.")
    frequency = models.CharField(max_length=10, choices=Frequency.choices, default=Frequency.DAILY)
    digest_size = models.PositiveSmallIntegerField(
        default=10, validators=[MinValueValidator(5), MaxValueValidator(20)], help_text="Papers per email."
    )
    delivery_hour = models.PositiveSmallIntegerField(
        default=8, validators=[MaxValueValidator(23)], help_text="Local hour, 0-23."
    )
    time_zone = models.CharField(max_length=64, default="UTC")
    # Weekly readers get their digest on this local weekday (0 = Monday).
    delivery_weekday = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(6)])

    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(default=timezone.now)
    last_digest_at = models.DateTimeField(null=True, blank=True)
    # Choices from a sign-up for an address we already know: applied only when the link mailed
    # to that address confirms them, so a stranger cannot change a reader's preferences.
    pending_choices = models.JSONField(null=True, blank=True, editable=False)

    # What the reader taught the digest beyond topics; ratings, seeds and follows have their own
    # tables (newsletter/signal_models.py).
    muted = models.TextField(
        max_length=1000,
        blank=True,
        help_text="Words or phrases, one per line: matching papers are never sent.",
    )
    trending = models.CharField(max_length=10, choices=Trending.choices, default=Trending.BALANCED)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "delivery_hour"])]

    def __str__(self) -> str:
        return f"Subscriber {self.pk}"

    def sign_out_links(self) -> None:
        """Void every manage, confirm and "view in browser" link sent so far (not unsubscribe)."""
        self.link_key = secrets.token_urlsafe(9)
        Subscriber.objects.filter(pk=self.pk).update(link_key=self.link_key)

    def transition(self, event: str, consent: Mapping[str, Any] | None = None) -> bool:
        """Apply `event` (a key of TRANSITIONS) if the reader's status allows it, writing its
        ConsentRecord (`consent`: that record's fields). A conditional update, so of racing
        requests exactly one changes the status; False, and nothing written, for the others."""
        allowed, status, action = TRANSITIONS[event]
        now = timezone.now()
        fields = {"status": status, "status_changed_at": now}
        if event == "confirm":
            fields |= {"confirmed_at": now, "unsubscribed_at": None}
        elif status == self.Status.UNSUBSCRIBED:
            fields["unsubscribed_at"] = now
        with transaction.atomic():
            changed = Subscriber.objects.filter(pk=self.pk, status__in=allowed).update(**fields) == 1
            if changed:
                ConsentRecord.objects.create(subscriber_id=self.pk, action=action, **(consent or {}))
        self.refresh_from_db(fields=list(fields))
        return changed


class ConsentRecord(models.Model):
    """What a reader agreed to, when and from where: one row per consent-relevant action."""

    class Action(models.TextChoices):
        SIGNUP = "signup", "Signed up"
        CONFIRM = "confirm", "Confirmed"
        CHANGE = "change", "Changed preferences"
        PAUSE = "pause", "Paused"
        RESUME = "resume", "Resumed"
        UNSUBSCRIBE = "unsubscribe", "Unsubscribed"
        SUPPRESS = "suppress", "Suppressed (bounce or complaint)"

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="consents")
    action = models.CharField(max_length=20, choices=Action.choices)
    created_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    consent_version = models.CharField(max_length=40, blank=True)
    choices = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} at {self.created_at:%Y-%m-%d %H:%M}"


_S, _A = Subscriber.Status, ConsentRecord.Action
# The one place a reader's status changes: event -> (statuses it applies to, new status, the
# consent record written). Subscriber.transition applies it; tests/web/test_transitions.py walks it.
TRANSITIONS: dict[str, tuple[frozenset[str], str, str]] = {
    "sign_up": (frozenset({_S.PENDING, _S.UNSUBSCRIBED, _S.SUPPRESSED}), _S.PENDING, _A.SIGNUP),
    "confirm": (frozenset({_S.PENDING}), _S.ACTIVE, _A.CONFIRM),
    "pause": (frozenset({_S.ACTIVE}), _S.PAUSED, _A.PAUSE),
    "resume": (frozenset({_S.PAUSED}), _S.ACTIVE, _A.RESUME),
    "unsubscribe": (frozenset({_S.PENDING, _S.ACTIVE, _S.PAUSED}), _S.UNSUBSCRIBED, _A.UNSUBSCRIBE),
    # Bounces and complaints (ESP webhooks, staff): the address stops getting mail.
    "suppress": (frozenset({_S.PENDING, _S.ACTIVE, _S.PAUSED, _S.UNSUBSCRIBED}), _S.SUPPRESSED, _A.SUPPRESS),
    "pause_bouncing": (frozenset({_S.ACTIVE}), _S.PAUSED, _A.PAUSE),
    # Staff changed the address: it gets nothing until its owner confirms.
    "change_address": (frozenset({_S.PENDING, _S.ACTIVE, _S.PAUSED}), _S.PENDING, _A.CHANGE),
}


class Suppression(models.Model):
    """An address we must not mail without fresh double opt-in. Stored only as a hash."""

    class Reason(models.TextChoices):
        HARD_BOUNCE = "hard_bounce", "Hard bounce"
        COMPLAINT = "complaint", "Spam complaint"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed at the ESP"
        REJECTED = "rejected", "Rejected by the ESP"
        ERASED = "erased", "Reader asked to be deleted"
        SOFT_BOUNCES = "soft_bounces", "Repeated soft bounces"
        MANUAL = "manual", "Added by staff"

    email_hash = models.CharField(max_length=64, unique=True)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    source = models.CharField(max_length=60, blank=True, help_text="e.g. 'postmark webhook', 'reader'.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email_hash[:12]}… ({self.reason})"

    @classmethod
    def is_suppressed(cls, email: str) -> bool:
        return cls.objects.filter(email_hash=email_hash(email)).exists()


class DigestDelivery(models.Model):
    """One planned digest for one reader and one issue date: the unit of exactly-once sending."""

    Status = DeliveryStatus

    subscriber = models.ForeignKey(
        Subscriber, null=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    issue_date = models.DateField(help_text="The reader's local date this digest is for.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    # Which worker's claim holds the row: only that worker may start sending it.
    lease = models.UUIDField(null=True, blank=True, db_index=True, editable=False)
    paper_ids = models.JSONField(default=list, blank=True)  # Paper primary keys, in email order
    # Why each paper was chosen, parallel to paper_ids, so "view in browser" shows the same email.
    reasons = models.JSONField(default=list, blank=True)
    planned_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    esp_message_id = models.CharField(max_length=200, blank=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-issue_date", "-id"]
        verbose_name_plural = "digest deliveries"
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "issue_date"], name="one_digest_per_reader_per_day")
        ]
        indexes = [models.Index(fields=["issue_date", "status"])]

    def __str__(self) -> str:
        return f"Digest {self.pk} for {self.issue_date} ({self.status})"


class DeliveryEvent(models.Model):
    """An ESP tracking event (normalised by Anymail), kept small, applied once."""

    class Kind(models.TextChoices):
        """What the event means for the reader; decides the policy (newsletter/tracking.py)."""

        HARD_BOUNCE = "hard_bounce", "Hard bounce"
        COMPLAINT = "complaint", "Spam complaint"
        UNSUBSCRIBE = "unsubscribe", "Unsubscribed"
        INVALID = "invalid", "Invalid address"
        SOFT_BOUNCE = "soft_bounce", "Soft bounce"
        DELIVERED = "delivered", "Delivered"
        ENGAGEMENT = "engagement", "Opened or clicked"
        OTHER = "other", "Other"

    event_type = models.CharField(max_length=20, db_index=True)  # Anymail's event_type
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.OTHER, db_index=True)
    esp = models.CharField(max_length=30)
    message_id = models.CharField(max_length=200, blank=True, db_index=True)
    event_id = models.CharField(max_length=200, blank=True)
    # Identifies the event across replays, even when the ESP sends no event id.
    fingerprint = models.CharField(max_length=64, unique=True)
    delivery = models.ForeignKey(
        DigestDelivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    subscriber = models.ForeignKey(
        Subscriber, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    received_at = models.DateTimeField(default=timezone.now)
    reject_reason = models.CharField(max_length=30, blank=True)
    description = models.CharField(max_length=500, blank=True)
    raw = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return f"{self.esp} {self.event_type} {self.message_id}"


class EngagementCount(models.Model):
    """Opens and clicks per day, in aggregate only: no per-reader tracking unless enabled."""

    day = models.DateField()
    event_type = models.CharField(max_length=20)  # "opened" or "clicked"
    count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day", "event_type"]
        constraints = [
            models.UniqueConstraint(fields=["day", "event_type"], name="one_count_per_day_and_type")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.event_type}: {self.count}"


class Heartbeat(models.Model):
    """Last time a periodic task ran, so operators can see that worker and beat are alive."""

    name = models.CharField(max_length=50, unique=True)
    last_seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.last_seen_at:%Y-%m-%d %H:%M:%S}"


class PaperEmbedding(models.Model):
    """A paper's vector under the semantic model, computed once per paper text (see
    newsletter.semantic). `text_hash` tells when the title or abstract changed since."""

    paper = models.OneToOneField("papers.Paper", on_delete=models.CASCADE, related_name="embedding")
    model = models.CharField(max_length=200)
    text_hash = models.CharField(max_length=32)
    vector = models.BinaryField()  # float32, little-endian, L2-normalised
    computed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.paper_id} ({self.model})"


class PhraseEmbedding(models.Model):
    """A reader's interest phrase under the semantic model: one row per distinct phrase."""

    model = models.CharField(max_length=200)
    phrase = models.CharField(max_length=500)
    vector = models.BinaryField()  # float32, little-endian, L2-normalised

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["model", "phrase"], name="one_embedding_per_model_and_phrase")
        ]

    def __str__(self) -> str:
        return f"{self.phrase} ({self.model})"


class SubscriptionEmailQuerySet(models.QuerySet):
    def due(self, now):
        return self.filter(status=SubscriptionEmail.Status.QUEUED, next_attempt_at__lte=now)

    def claim(self, pk: int, now, early=timedelta(0)) -> "SubscriptionEmail | None":
        """Queued and due (up to `early` ahead of now) -> sending, in one UPDATE: a duplicated
        task finds nothing to claim."""
        won = (
            self.due(now + early)
            .filter(pk=pk)
            .update(
                status=SubscriptionEmail.Status.SENDING, claimed_at=now, attempts=models.F("attempts") + 1
            )
        )
        return self.get(pk=pk) if won else None

    def mark_abandoned(self, claimed_before) -> int:
        """Rows still 'sending' long after their claim lost their worker: the ESP may have the
        message, so they become 'unknown' rather than being sent a second time."""
        return self.filter(status=SubscriptionEmail.Status.SENDING, claimed_at__lt=claimed_before).update(
            status=SubscriptionEmail.Status.UNKNOWN,
            error="The worker was lost while sending; the ESP may have accepted the email.",
        )


class SubscriptionEmail(models.Model):
    """A confirmation or "already subscribed" email: written in the transaction that asks for it
    and sent by a worker, so a refused connection or a lost task delays it, never loses it."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        UNKNOWN = "unknown", "Unknown (the ESP may have accepted it)"
        SKIPPED = "skipped", "Skipped (no longer applies)"

    # The only moves a row makes (claim() does queued -> sending); finish() enforces the rest.
    TRANSITIONS = {
        Status.QUEUED: {Status.SENDING},
        Status.SENDING: {Status.SENT, Status.FAILED, Status.UNKNOWN, Status.SKIPPED, Status.QUEUED},
    }

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="subscription_emails")
    kind = models.CharField(max_length=30)  # the email template, e.g. "confirm"
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)

    objects = SubscriptionEmailQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.kind} email {self.pk} ({self.status})"

    def finish(self, status: str, now, error: str = "", retry_at=None) -> None:
        """Record the outcome of a claimed attempt (or put it back in the queue until retry_at)."""
        if status not in self.TRANSITIONS.get(self.status, ()):
            raise ValueError(f"a {self.status} subscription email cannot become {status}")
        fields = {"status": status, "error": error[:1000]}
        if status == self.Status.SENT:
            fields["sent_at"] = now
        if retry_at is not None:
            fields["next_attempt_at"] = retry_at
        SubscriptionEmail.objects.filter(pk=self.pk, status=self.status).update(**fields)
        for name, value in fields.items():
            setattr(self, name, value)


# Registered with this app from their own module.
from newsletter.signal_models import Follow, Rating, SeedPaper  # noqa: E402, F401
