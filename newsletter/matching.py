"""Which papers each reader gets, and why. Pure functions over plain data: no database here.

digests.py turns rows into these data classes, calls match_readers() once for a whole chunk of
readers, and turns the picks back into deliveries.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class PaperDoc:
    id: int
    title: str
    abstract: str
    first_seen_at: datetime
    topic_ids: frozenset[int] = frozenset()  # topics the catalog applied (auto or editor)
    upvotes: int = 0
    featured: bool = False
    categories: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TopicDoc:
    id: int
    name: str
    keywords: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ReaderDoc:
    id: int
    topic_ids: tuple[int, ...]
    interests: str
    size: int
    since: datetime  # only papers first seen after this are candidates
    exclude: frozenset[int] = field(default_factory=frozenset)  # papers already sent to this reader


@dataclass(frozen=True, slots=True)
class Pick:
    paper_id: int
    score: float
    reasons: tuple[str, ...]


@dataclass(slots=True)
class PaperIndex:
    """Everything about the day's papers that ranking needs, built once and reused for every
    chunk of readers (a worker keeps it for the day)."""

    papers: Sequence[PaperDoc]
    topics: Mapping[int, TopicDoc]


def build_index(papers: Sequence[PaperDoc], topics: Mapping[int, TopicDoc]) -> PaperIndex:
    return PaperIndex(papers=papers, topics=topics)


def match_readers(
    readers: Sequence[ReaderDoc],
    papers: Sequence[PaperDoc],
    topics: Mapping[int, TopicDoc],
    now: datetime,
) -> dict[int, list[Pick]]:
    return rank(readers, build_index(papers, topics), now)


def rank(readers: Sequence[ReaderDoc], index: PaperIndex, now: datetime) -> dict[int, list[Pick]]:
    """Reader id -> the reader's picks, best first (an empty list: send nothing)."""
    papers, topics = index.papers, index.topics
    results: dict[int, list[Pick]] = {}
    for reader in readers:
        picks = []
        for paper in papers:
            if paper.first_seen_at <= reader.since or paper.id in reader.exclude:
                continue
            shared = [topics[t] for t in reader.topic_ids if t in paper.topic_ids and t in topics]
            if shared:
                reasons = tuple(f"matches your topic {t.name}" for t in shared)
                picks.append(Pick(paper.id, float(len(shared)) + paper.upvotes / 1000, reasons))
        picks.sort(key=lambda p: -p.score)
        results[reader.id] = picks[: reader.size]
    return results
