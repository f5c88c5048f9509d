"""Tiny builders for digest tests: topics, papers and readers with just the fields that matter."""

import itertools
from datetime import datetime, timedelta

from django.utils import timezone

from newsletter.models import Subscriber
from papers.models import Organization, Paper, PaperTopic, Topic

_seq = itertools.count(1)


def make_topic(name: str = "Machine unlearning", keywords: tuple[str, ...] = ("unlearning",)) -> Topic:
    slug = name.lower().replace(" ", "-")
    topic, _ = Topic.objects.get_or_create(slug=slug, defaults={"name": name, "keywords": list(keywords)})
    return topic


def make_paper(topic: Topic | None = None, seen: datetime | None = None, **fields) -> Paper:
    n = next(_seq)
    seen = seen or timezone.now() - timedelta(hours=2)
    values = {
        "paper_id": f"2611.{n:05d}",
        "title": f"Paper {n}: forgetting what was learned",
        "abstract": "We study machine unlearning for large language models. " * 4,
        "authors": ["Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra"],
        "author_count": 4,
        "listed_on": seen.date(),
        "first_seen_at": seen,
        "upvotes": 10 + n % 30,  # below the "trending" reason threshold (50)
        "source": Paper.Source.HF,
        "code_url": "https://github.com/example/unlearning",
        "code_stars": 1234,
    }
    values.update(fields)
    if values.pop("org", None):
        org, _ = Organization.objects.get_or_create(name="facebook", display_name="AI at Meta")
        values["organization"] = org
    paper = Paper.objects.create(**values)
    if topic is not None:
        PaperTopic.objects.create(paper=paper, topic=topic, score=1.0)
    return paper


def make_reader(topic: Topic | None = None, **fields) -> Subscriber:
    n = next(_seq)
    values = {
        "email": f"reader{n}@example.com",
        "status": Subscriber.Status.ACTIVE,
        "confirmed_at": timezone.now(),
        "delivery_hour": timezone.now().hour,  # due at the next tick
        "time_zone": "UTC",
    }
    values.update(fields)
    reader = Subscriber.objects.create(**values)
    if topic is not None:
        reader.topics.add(topic)
    return reader


def make_robot_paper() -> Paper:
    """A paper that matches nobody who follows machine unlearning."""
    return make_paper(
        make_topic("Robotics", ("robot",)),
        title="Legged locomotion on rough terrain",
        abstract="A quadruped robot learns to walk over rocks and stairs from proprioception alone.",
    )
