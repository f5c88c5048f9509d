"""Readers, their consent, the digests sent to them, and what ESPs told us about those sends."""

import hashlib
import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from newsletter.delivery_states import DeliveryQuerySet, DeliveryStatus


def normalize_email(email: str) -> str:
    """One spelling per mailbox for uniqueness and suppression: trimmed, lower-cased."""
    return email.strip().lower()


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

    # Signed links carry this random key, never the sequential primary key.
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
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

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "delivery_hour"])]

    def __str__(self) -> str:
        return f"Subscriber {self.pk}"

    def set_status(self, status: str) -> None:
        self.status = status
        self.status_changed_at = timezone.now()


class ConsentRecord(models.Model):
    """What a reader agreed to, when and from where: one row per consent-relevant action."""

    class Action(models.TextChoices):
        SIGNUP = "signup", "Signed up"
        CONFIRM = "confirm", "Confirmed"
        CHANGE = "change", "Changed preferences"
        PAUSE = "pause", "Paused"
        RESUME = "resume", "Resumed"
        UNSUBSCRIBE = "unsubscribe", "Unsubscribed"

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
