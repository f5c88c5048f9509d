"""Tiny builders for the website tests: topics, papers and readers with sensible defaults."""

import itertools
import time
from datetime import date

from django.utils import timezone

from newsletter.forms import new_started
from newsletter.models import Subscriber
from papers.models import Paper, PaperTopic, Topic

_ids = itertools.count(1)


def make_topic(name: str = "", **fields) -> Topic:
    n = next(_ids)
    name = name or f"Topic {n}"
    return Topic.objects.create(name=name, slug=fields.pop("slug", f"topic-{n}"), **fields)


def make_paper(title: str = "", topics=(), **fields) -> Paper:
    n = next(_ids)
    fields.setdefault("listed_on", date(2026, 11, 24))
    fields.setdefault("source", Paper.Source.HF)
    paper = Paper.objects.create(
        paper_id=fields.pop("paper_id", f"2611.{n:05d}"), title=title or f"Paper {n}", **fields
    )
    for topic in topics:
        PaperTopic.objects.create(paper=paper, topic=topic)
    return paper


def make_subscriber(
    email: str = "", status: str = Subscriber.Status.ACTIVE, topics=(), **fields
) -> Subscriber:
    email = email or f"reader{next(_ids)}@example.org"
    if status == Subscriber.Status.ACTIVE:
        fields.setdefault("confirmed_at", timezone.now())
    subscriber = Subscriber.objects.create(email=email, status=status, **fields)
    subscriber.topics.set(topics)
    return subscriber


def started(seconds_ago: float = 30) -> str:
    """The signed "form shown at" value a browser would send back."""
    return new_started(time.time() - seconds_ago)


def signup_data(email: str = "new@example.org", topics=(), **overrides) -> dict:
    data = {
        "email": email,
        "topics": [topic.pk for topic in topics],
        "interests": "",
        "frequency": "daily",
        "digest_size": "10",
        "delivery_hour": "8",
        "time_zone": "Europe/Berlin",
        "delivery_weekday": "0",
        "website": "",
        "started": started(),
    }
    data.update(overrides)
    return data


def manage_data(topics=(), **overrides) -> dict:
    """A complete "save" of the preferences page (a reader link's manage form)."""
    data = {
        "topics": [topic.pk for topic in topics],
        "interests": "",
        "frequency": "daily",
        "digest_size": "10",
        "delivery_hour": "8",
        "time_zone": "UTC",
        "delivery_weekday": "0",
        "action": "save",
    }
    data.update(overrides)
    return data


def queued_emails(callbacks) -> list[tuple]:
    """(subscriber id, kind) of every lifecycle email written to the outbox in the captured
    transactions, which must each hand their row to the broker once they commit."""
    from newsletter.models import SubscriptionEmail

    rows = list(SubscriptionEmail.objects.order_by("id").values_list("subscriber_id", "kind"))
    assert len(callbacks) >= len(rows), "an outbox row is never handed to a worker"
    return rows
