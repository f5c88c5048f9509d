"""Tiny builders for every test: topics, papers, readers, digests, ESP events and form data, each
with only the fields that matter and defaults a test can override."""

import datetime as dt
import itertools
import time

from anymail.signals import AnymailTrackingEvent, tracking
from anymail.webhooks.postmark import PostmarkTrackingWebhookView
from django.utils import timezone
from django.utils.text import slugify

from newsletter.forms import new_started
from newsletter.models import DigestDelivery, Subscriber
from papers.models import Organization, Paper, PaperTopic, Topic

_numbers = itertools.count(1)
NOON = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)


def make_topic(name: str = "", keywords=(), **fields) -> Topic:
    """The topic called `name` (made once, the same one after that), or a new one when unnamed."""
    name = name or f"Topic {next(_numbers)}"
    defaults = {"name": name, "keywords": list(keywords), **fields}
    topic, _ = Topic.objects.get_or_create(slug=defaults.pop("slug", slugify(name)), defaults=defaults)
    return topic


def unlearning_topic() -> Topic:
    """The digest tests' topic: its papers are about machine unlearning (see make_new_paper)."""
    return make_topic("Machine unlearning", ["unlearning"])


def make_paper(title: str = "", topics=(), **fields) -> Paper:
    """A catalogue entry with only the fields the test names."""
    n = next(_numbers)
    fields.setdefault("listed_on", dt.date(2026, 11, 24))
    fields.setdefault("source", Paper.Source.HF)
    paper = Paper.objects.create(
        paper_id=fields.pop("paper_id", f"2611.{n:05d}"), title=title or f"Paper {n}", **fields
    )
    PaperTopic.objects.bulk_create([PaperTopic(paper=paper, topic=topic) for topic in topics])
    return paper


def make_new_paper(topic: Topic | None = None, seen: dt.datetime | None = None, **fields) -> Paper:
    """A paper as an import brings it: about machine unlearning, four authors, a code link, seen
    two hours ago (so in the next digest), tagged with `topic`."""
    n = next(_numbers)
    seen = seen or timezone.now() - dt.timedelta(hours=2)
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


def make_robot_paper() -> Paper:
    """A paper that matches nobody who follows machine unlearning."""
    return make_new_paper(
        make_topic("Robotics", ("robot",)),
        title="Legged locomotion on rough terrain",
        abstract="A quadruped robot learns to walk over rocks and stairs from proprioception alone.",
    )


def make_reader(email: str = "", status: str = Subscriber.Status.ACTIVE, topics=(), **fields) -> Subscriber:
    email = email or f"reader{next(_numbers)}@example.com"
    if status == Subscriber.Status.ACTIVE:
        fields.setdefault("confirmed_at", timezone.now())
    reader = Subscriber.objects.create(email=email, status=status, **fields)
    reader.topics.set(topics)
    return reader


def make_due_reader(topic: Topic | None = None, **fields) -> Subscriber:
    """An active reader whose delivery hour is now (UTC): the next tick plans their digest."""
    fields = {
        "delivery_hour": timezone.now().hour,
        "time_zone": "UTC",
        "confirmed_at": timezone.now(),
        **fields,
    }
    return make_reader(topics=[topic] if topic else (), **fields)


def make_delivery(reader: Subscriber, status: str = DigestDelivery.Status.SENT, esp_message_id="", **kw):
    return DigestDelivery.objects.create(
        subscriber=reader,
        issue_date=kw.pop("issue_date", dt.date(2026, 11, 24)),
        status=status,
        esp_message_id=esp_message_id,
        **kw,
    )


def fire(event_type: str, recipient: str, esp_name: str = "Postmark", **kw) -> None:
    """Send Anymail's tracking signal the way its webhook views do."""
    kw.setdefault("timestamp", NOON)
    kw.setdefault("message_id", f"msg-{next(_numbers)}")
    event = AnymailTrackingEvent(event_type=event_type, recipient=recipient, **kw)
    tracking.send(sender=PostmarkTrackingWebhookView, event=event, esp_name=esp_name)


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
