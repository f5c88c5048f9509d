"""Readers, their status and consent, and the addresses we must not mail."""

import hashlib
import secrets
import uuid
from collections.abc import Mapping
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.utils import timezone

from newsletter.addresses import normalize_email


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
    # tables (newsletter/models/teaching.py).
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
