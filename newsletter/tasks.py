"""Celery tasks: thin adapters that take ids and call module functions."""

from celery import shared_task
from django.utils import timezone

from newsletter import planning, sending, tracking
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
def send_subscription_email(subscriber_id: int, kind: str) -> None:
    """Confirmation / "already subscribed" email; skipped if the reader's state moved on."""
    from newsletter import subscriptions

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
