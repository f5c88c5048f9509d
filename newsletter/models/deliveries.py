"""The digests sent to readers, and what ESPs told us about those sends."""

from django.db import models
from django.utils import timezone

from newsletter.delivery_states import DeliveryQuerySet, DeliveryStatus
from newsletter.models.readers import Subscriber


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
