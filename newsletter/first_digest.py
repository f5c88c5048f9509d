"""A reader's first digest goes out when they confirm, not at their hour the next day. It is
that day's digest (one delivery per reader and date), planned and sent like any other."""

from datetime import datetime

from django.utils import timezone

from newsletter import planning
from newsletter.models import Subscriber


def plan_first_digest(subscriber: Subscriber, now: datetime | None = None) -> list[int]:
    """Plan today's (local) digest now and send it once the caller's transaction commits.
    Nothing is planned when the reader already has a digest for today."""
    now = now or timezone.now()
    day = planning.local_date(subscriber.time_zone, now)
    ids = planning.create_deliveries([(subscriber.pk, subscriber.email, day)], now)
    planning.schedule(ids)
    return ids
