"""Celery tasks: thin adapters that take ids and call module functions."""

from celery import shared_task
from django.utils import timezone

from newsletter import planning, semantic, sending, subscription_mail, subscriptions, tracking
from newsletter.models import Heartbeat


@shared_task
def heartbeat(name: str = "beat") -> None:
    """Scheduled every minute; the dashboard shows when it last ran."""
    Heartbeat.objects.update_or_create(name=name, defaults={"last_seen_at": timezone.now()})


@shared_task
def tracking_housekeeping() -> None:
    """Hourly: link early ESP events to their digests, confirm 'unknown' digests the ESP
    delivered, drop old anonymous open/click rows."""
    now = timezone.now()
    tracking.link_orphans(now)
    tracking.confirm_unknown()
    tracking.prune_engagement(now)


@shared_task
def deliver_subscription_email(email_id: int) -> None:
    """Send one outbox row (confirmation / "already subscribed"); skipped if the reader's state
    moved on, retried with backoff on transient ESP errors."""
    subscription_mail.deliver(email_id, subscriptions.send_subscription_email)


@shared_task
def sweep_subscription_emails() -> None:
    """Every few minutes: queue again the outbox rows whose task was lost."""
    subscription_mail.sweep()


@shared_task
def send_subscription_email(subscriber_id: int, kind: str) -> None:
    """Kept so that tasks queued before the outbox existed still run: sends directly."""
    subscriptions.send_subscription_email(subscriber_id, kind)


@shared_task
def digest_tick() -> None:
    """Every few minutes: recover rows of lost workers, plan the readers whose local delivery
    hour has come, fan out."""
    planning.tick()


@shared_task
def send_digest_chunk(delivery_ids: list[int]) -> None:
    """Claim, send and record one chunk of planned digests (rows already claimed are skipped)."""
    sending.send_chunk(delivery_ids)


@shared_task
def embed_papers(paper_pks: list[int]) -> None:
    """Embed imported papers with the semantic model (only those whose text is new to it)."""
    semantic.embed_papers(paper_pks)
