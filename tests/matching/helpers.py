"""Tiny builders for matching tests: plain data, no database."""

from datetime import UTC, datetime, timedelta

from newsletter.matching import PaperDoc, ReaderDoc, TopicDoc

NOW = datetime(2026, 6, 1, 7, tzinfo=UTC)
YESTERDAY = NOW - timedelta(days=1)

FILLER = [
    ("Scaling laws for image classification", "We study how accuracy grows with data and compute."),
    ("A benchmark for table question answering", "We release a dataset of tables and questions."),
    ("Protein structure prediction with transformers", "We predict folds from amino-acid sequences."),
    ("Robust optimisation for power grids", "We schedule generators under demand uncertainty."),
    ("Point cloud registration in the wild", "We align lidar scans with learned descriptors."),
    ("Neural radiance fields for city scenes", "We render large outdoor scenes from photographs."),
]


def paper(id, title="", abstract="", hours_ago=2.0, **kwargs) -> PaperDoc:
    return PaperDoc(id, title, abstract, NOW - timedelta(hours=hours_ago), **kwargs)


def fillers(start=100) -> list[PaperDoc]:
    return [paper(start + i, t, a) for i, (t, a) in enumerate(FILLER)]


def reader(id=1, topic_ids=(), interests="", size=10, since=YESTERDAY, **kwargs) -> ReaderDoc:
    return ReaderDoc(id, tuple(topic_ids), interests, size, since, **kwargs)


def topic(id, name, keywords=(), categories=()) -> TopicDoc:
    return TopicDoc(id, name, tuple(keywords), tuple(categories))
