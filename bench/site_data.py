"""A month of catalogue for bench/site_load.py: real titles, abstracts and arXiv ids from the
matching data set (synthetic ones when it is absent), listed on weekdays, with the spread of
upvotes, organizations, code links and topics a Hugging Face month has."""

import gzip
import json
import random
from datetime import date, timedelta
from pathlib import Path

from django.utils import timezone

from papers import tagging
from papers.models import Organization, Paper, PaperTopic, Topic

ORGS = [
    ("facebook", "AI at Meta"),
    ("google", "Google"),
    ("Qwen", "Qwen"),
    ("nvidia", "NVIDIA"),
    ("huggingface", "Hugging Face"),
    ("allenai", "Ai2"),
    ("microsoft", "Microsoft"),
    ("deepseek-ai", "DeepSeek"),
]
GIVEN = ["Wei", "Anna", "Rahul", "Sofia", "Jun", "Lukas", "Mei", "Omar", "Elena", "Kenji", "Maria", "Tom"]
FAMILY = ["Zhang", "Müller", "Gupta", "Rossi", "Kim", "Novak", "Chen", "Haddad", "Ivanova", "Sato"]


def weekdays_before(last: date, count: int) -> list[date]:
    days, day = [], last
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day -= timedelta(days=1)
    return days


def synthetic_papers(count: int, rng: random.Random) -> list[dict]:
    """Papers of random words, for a machine without the DEV data."""
    words = [
        "model",
        "learning",
        "language",
        "vision",
        "agent",
        "reasoning",
        "diffusion",
        "robot",
        "graph",
        "data",
    ]
    return [
        {
            "id": f"2611.{i:05d}",
            "title": " ".join(rng.choices(words, k=8)).capitalize(),
            "abstract": " ".join(rng.choices(words, k=150)),
            "categories": [rng.choice(["cs.CL", "cs.LG", "cs.CV", "cs.RO"])],
            "topics": [],
        }
        for i in range(count)
    ]


def read_records(path: Path, count: int, rng: random.Random) -> list[dict]:
    if path.exists():
        with gzip.open(path, "rt") as lines:
            records = [json.loads(line) for line in lines]
        return rng.sample(records, min(count, len(records)))
    return synthetic_papers(count, rng)


def make_paper(record: dict, day: date, orgs: list[Organization], rng: random.Random) -> Paper:
    authors = [f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}" for _ in range(rng.randint(2, 14))]
    has_code = rng.random() < 0.4
    return Paper(
        paper_id=record["id"],
        title=record["title"],
        abstract=record["abstract"],
        authors=authors,
        author_count=len(authors),
        categories=record["categories"],
        primary_category=record["categories"][0] if record["categories"] else "",
        listed_on=day,
        upvotes=int(rng.lognormvariate(2.0, 1.3)),
        comment_count=rng.randint(0, 6),
        source=Paper.Source.HF,
        code_url=f"https://github.com/example/{record['id'].replace('/', '-')}" if has_code else "",
        code_stars=rng.randint(1, 5000) if has_code else None,
        organization=rng.choice(orgs) if rng.random() < 0.35 else None,
        featured=rng.random() < 0.01,
    )


def load(path: Path, count: int, days: int, rng: random.Random) -> date:
    """Loads `count` papers over the last `days` weekdays; returns the newest day."""
    newest = weekdays_before(timezone.localdate(), 1)[0]
    listing_days = weekdays_before(newest, days)
    orgs = Organization.objects.bulk_create(
        [Organization(name=name, display_name=display) for name, display in ORGS]
    )
    records = read_records(path, count, rng)
    papers = Paper.objects.bulk_create(
        [make_paper(r, listing_days[i % len(listing_days)], orgs, rng) for i, r in enumerate(records)],
        batch_size=1000,
    )
    rules = [tagging.compile_topic(t.pk, t.keywords, t.categories) for t in Topic.objects.filter(active=True)]
    links = [
        PaperTopic(paper=paper, topic_id=topic_id, score=score)
        for paper in papers
        for topic_id, score in tagging.tag_paper(paper.title, paper.abstract, paper.categories, rules).items()
    ]
    PaperTopic.objects.bulk_create(links, batch_size=5000)
    return newest
