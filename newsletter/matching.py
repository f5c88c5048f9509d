"""Which papers each reader gets, and why. Pure functions over plain data: no database here.

digests.py turns rows into these data classes, builds the day's index once, calls rank() for each
chunk of readers, and turns the picks back into deliveries.

A reader's query is a handful of "units": each followed topic and each free-text interest
(comma-separated). Every unit is scored against every paper once per block of readers (units are
shared: thousands of readers follow the same topic), a reader's relevance to a paper is its best
unit, and that unit is also the reason shown in the email. Popularity and editor picks only
reorder papers that are already relevant: they never qualify a paper on their own.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

import numpy as np

from newsletter.textmodel import Background, TextIndex

MIN_RELEVANCE = 0.2  # share of the query's IDF mass a paper must cover to be sent at all
TAGGED = 0.8  # relevance of a paper the catalog tagged with the reader's topic
IN_CATEGORY = 0.5  # relevance of a paper in an arXiv category the reader's topic follows
POPULARITY_WEIGHT = 0.25  # up to +25% for a much-upvoted paper
FEATURED_WEIGHT = 0.2  # +20% for an editor's pick
FRESHNESS_WEIGHT = 0.1  # up to +10% for a paper first seen in the last hours
FRESHNESS_HOURS = 48.0
UPVOTES_SCALE = 200  # upvotes at which the popularity boost is full
TRENDING_UPVOTES = 50  # from here on the reason "trending: N upvotes" is shown
BLOCK_READERS = 4096  # readers scored at once: bounds the dense block to ~4096 x papers floats
MAX_INTERESTS = 10  # free-text interests considered per reader

_SPLIT = re.compile(r"[,;\n]+")


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
    authors: tuple[str, ...] = ()
    organization: str = ""  # Organization.name (the source's handle), "" when none
    # Topics an editor removed from this paper: never matched through those topics.
    removed_topic_ids: frozenset[int] = frozenset()


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
    # What the reader taught us (paper primary keys; their PaperDocs come in rank()'s `library`).
    seed_ids: tuple[int, ...] = ()  # "papers like these"
    liked_ids: tuple[int, ...] = ()  # 👍, newest first
    disliked_ids: tuple[int, ...] = ()  # 👎, newest first
    followed_authors: tuple[str, ...] = ()  # author names as written on papers
    followed_orgs: tuple[str, ...] = ()  # Organization.name handles
    muted: tuple[str, ...] = ()  # words or phrases: a paper mentioning one never reaches the reader
    trending: str = "balanced"  # "matches" (only what matches me) | "balanced" | "top"


@dataclass(frozen=True, slots=True)
class Pick:
    paper_id: int
    score: float
    reasons: tuple[str, ...]
    relevance: float = 0.0  # the text/topic relevance before popularity, 0..1


@dataclass(slots=True)
class PaperIndex:
    """Everything about the day's papers that ranking needs, built once and reused for every
    chunk of readers (a worker keeps it for the day)."""

    papers: Sequence[PaperDoc]
    topics: Mapping[int, TopicDoc]
    text: TextIndex | None = None
    position: dict[int, int] = field(default_factory=dict)  # paper id -> column
    paper_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    first_seen: np.ndarray = field(default_factory=lambda: np.zeros(0))  # POSIX seconds
    upvotes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    featured: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    topic_row: dict[int, int] = field(default_factory=dict)  # topic id -> row of topic_relevance
    topic_relevance: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    topic_reasons: list[str] = field(default_factory=list)  # per topic row
    paper_reasons: list[tuple[str, ...]] = field(default_factory=list)  # per paper: pick, trending
    id_set: frozenset[int] = frozenset()


def build_index(
    papers: Sequence[PaperDoc], topics: Mapping[int, TopicDoc], background: Background | None = None
) -> PaperIndex:
    text = TextIndex([(p.title, p.abstract) for p in papers], background)
    index = PaperIndex(
        papers=papers,
        topics=topics,
        text=text,
        position={p.id: i for i, p in enumerate(papers)},
        paper_ids=np.array([p.id for p in papers], dtype=np.int64),
        first_seen=np.array([p.first_seen_at.timestamp() for p in papers], dtype=np.float64),
        upvotes=np.array([p.upvotes for p in papers], dtype=np.int64),
        featured=np.array([p.featured for p in papers], dtype=bool),
    )
    index.id_set = frozenset(index.position)
    index.paper_reasons = [_paper_reasons(p) for p in papers]
    index.topic_row = {topic_id: row for row, topic_id in enumerate(topics)}
    index.topic_reasons = [f"matches your topic {t.name}" for t in topics.values()]
    index.topic_relevance = _topic_relevance(papers, list(topics.values()), text)
    return index


def _paper_reasons(paper: PaperDoc) -> tuple[str, ...]:
    reasons = ("editor's pick",) if paper.featured else ()
    if paper.upvotes >= TRENDING_UPVOTES:
        reasons += (f"trending: {paper.upvotes} upvotes",)
    return reasons


def _topic_relevance(papers: Sequence[PaperDoc], topics: list[TopicDoc], text: TextIndex) -> np.ndarray:
    """Topics x papers: the best of its phrases, the catalog's tag, its arXiv categories."""
    rel = np.zeros((len(topics), len(papers)), dtype=np.float32)
    for row, topic in enumerate(topics):
        phrases = [p for p in [topic.name, *topic.keywords] if p.strip()]
        if phrases and len(papers):
            rel[row] = text.relevance(phrases).max(axis=0)
        cats = set(topic.categories)
        for col, paper in enumerate(papers):
            if topic.id in paper.topic_ids:
                rel[row, col] = max(rel[row, col], TAGGED)
            elif cats and cats.intersection(paper.categories):
                rel[row, col] = max(rel[row, col], IN_CATEGORY)
    return rel


@lru_cache(maxsize=100_000)
def interest_phrases(interests: str) -> tuple[str, ...]:
    """ "speculative decoding; RL for reasoning" -> two interests, each matched on its own."""
    phrases = (" ".join(p.split()) for p in _SPLIT.split(interests))
    return tuple(p for p in phrases if p)[:MAX_INTERESTS]


def match_readers(
    readers: Sequence[ReaderDoc],
    papers: Sequence[PaperDoc],
    topics: Mapping[int, TopicDoc],
    now: datetime,
) -> dict[int, list[Pick]]:
    return rank(readers, build_index(papers, topics), now)


def rank(readers: Sequence[ReaderDoc], index: PaperIndex, now: datetime) -> dict[int, list[Pick]]:
    """Reader id -> the reader's picks, best first (an empty list: send nothing)."""
    results: dict[int, list[Pick]] = {}
    if not len(index.papers):
        return {reader.id: [] for reader in readers}
    boost = popularity_boost(index, now)
    for start in range(0, len(readers), BLOCK_READERS):
        results.update(rank_block(readers[start : start + BLOCK_READERS], index, boost))
    return results


def popularity_boost(index: PaperIndex, now: datetime) -> np.ndarray:
    """Per paper multiplier >= 1 from upvotes, freshness and editor picks."""
    popularity = np.minimum(np.log1p(index.upvotes) / np.log1p(UPVOTES_SCALE), 1.0)
    age_hours = np.maximum(now.timestamp() - index.first_seen, 0.0) / 3600.0
    freshness = np.exp(-age_hours / FRESHNESS_HOURS)
    return (
        1.0 + POPULARITY_WEIGHT * popularity + FRESHNESS_WEIGHT * freshness + FEATURED_WEIGHT * index.featured
    ).astype(np.float32)


def rank_block(readers: Sequence[ReaderDoc], index: PaperIndex, boost: np.ndarray) -> dict[int, list[Pick]]:
    phrases, slots = _block_units(readers, index)
    n_topics = len(index.topic_reasons)
    unit_rel = np.vstack(
        [
            index.topic_relevance,
            index.text.relevance(phrases) if phrases else np.zeros((0, len(index.papers)), np.float32),
            np.zeros((1, len(index.papers)), np.float32),  # the padding unit: relevant to nothing
        ]
    )
    best, unit = _best_unit(unit_rel, slots)
    allowed = _candidates(readers, index) & (best >= MIN_RELEVANCE)
    score = np.where(allowed, best * boost[None, :], -np.inf)
    top, top_score = _top(score, max((r.size for r in readers), default=0))
    unit_reasons = index.topic_reasons + [f"mentions '{p}'" for p in phrases]
    results: dict[int, list[Pick]] = {}
    for i, (reader, cols, scores) in enumerate(zip(readers, top.tolist(), top_score.tolist(), strict=True)):
        picks = []
        for col, s in zip(cols[: max(reader.size, 0)], scores, strict=False):
            if s == -np.inf:
                break
            u = int(unit[i, col])
            reason = (
                unit_reasons[u]
                if u < n_topics or best[i, col] >= 0.75
                else f"related to '{phrases[u - n_topics]}'"
            )
            picks.append(
                Pick(int(index.paper_ids[col]), s, (reason, *index.paper_reasons[col]), float(best[i, col]))
            )
        results[reader.id] = picks
    return results


def _block_units(readers: Sequence[ReaderDoc], index: PaperIndex) -> tuple[list[str], np.ndarray]:
    """The block's distinct interest phrases, and each reader's unit rows (padded) into
    [topics..., phrases..., padding]."""
    n_topics = len(index.topic_reasons)
    phrase_row: dict[str, int] = {}
    phrases: list[str] = []
    rows_per_reader = []
    for reader in readers:
        rows = [index.topic_row[t] for t in reader.topic_ids if t in index.topic_row]
        for phrase in interest_phrases(reader.interests):
            key = phrase.lower()
            if key not in phrase_row:
                phrase_row[key] = len(phrases)
                phrases.append(phrase)
            rows.append(n_topics + phrase_row[key])
        rows_per_reader.append(rows)
    pad = n_topics + len(phrases)
    width = max((len(r) for r in rows_per_reader), default=0)
    slots = np.full((len(readers), max(width, 1)), pad, dtype=np.int32)
    for i, rows in enumerate(rows_per_reader):
        slots[i, : len(rows)] = rows
    return phrases, slots


def _best_unit(unit_rel: np.ndarray, slots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Readers x papers: the relevance of the reader's best unit, and which unit that is."""
    best = unit_rel[slots[:, 0]]
    unit = np.repeat(slots[:, :1], unit_rel.shape[1], axis=1)
    for k in range(1, slots.shape[1]):
        rel = unit_rel[slots[:, k]]
        better = rel > best
        best = np.where(better, rel, best)
        unit = np.where(better, slots[:, k : k + 1], unit)
    return best, unit


def _candidates(readers: Sequence[ReaderDoc], index: PaperIndex) -> np.ndarray:
    """Readers x papers: first seen after the reader's `since`, and never sent to them."""
    since = np.array([r.since.timestamp() for r in readers], dtype=np.float64)
    allowed = index.first_seen[None, :] > since[:, None]
    for i, reader in enumerate(readers):
        if reader.exclude:
            sent = reader.exclude & index.id_set
            if sent:
                allowed[i, [index.position[paper_id] for paper_id in sent]] = False
    return allowed


def _top(score: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's k best columns, best first; ties go to the earlier paper."""
    k = min(k, score.shape[1])
    if k <= 0:
        return np.zeros((score.shape[0], 0), np.int64), np.zeros((score.shape[0], 0))
    top = (
        np.sort(np.argpartition(-score, k - 1, axis=1)[:, :k], axis=1)
        if k < score.shape[1]
        else (np.broadcast_to(np.arange(score.shape[1]), score.shape))
    )
    top_score = np.take_along_axis(score, top, axis=1)
    order = np.argsort(-top_score, axis=1, kind="stable")
    return np.take_along_axis(top, order, axis=1), np.take_along_axis(top_score, order, axis=1)
