"""The outbox of confirmation and "already subscribed" emails (sent by newsletter.subscription_mail)."""

from datetime import timedelta

from django.db import models
from django.utils import timezone

from newsletter.models.readers import Subscriber


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
