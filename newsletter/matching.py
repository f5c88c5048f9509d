"""Which papers each reader gets, and why. Pure functions over plain data: no database here.

digests.py turns rows into these data classes, builds the day's index once, calls rank() for each
chunk of readers, and turns the picks back into deliveries.

A reader's query is a handful of "units": each followed topic, each free-text interest
(comma-separated), each followed author or organization, and the profile learned from the
reader's seed papers and 👍/👎 (newsletter.profiles). Shared units are scored against every paper
once per block of readers (thousands of readers follow the same topic).

Balance: a unit's relevant papers are those above MIN_RELEVANCE; the r-th best of its n
gets the key (r - 1) / n, and a reader's papers go out in order of their best key. So every unit
with a relevant paper gets its best one first, then units take turns in proportion to how many
relevant papers each has that day; equal keys go to the more relevant paper. The unit that gave
a paper its key is the reason shown in the email. Popularity and editor picks reorder a unit's
papers (except for readers who asked for "only what matches me"): they never qualify a paper.

Semantic ranking is optional: build_index(..., semantic=Semantic(papers, encode)) with the day's
paper embeddings (papers x d, float32, L2-normalised, rows in the order of `papers`) and a
callable that embeds texts the same way (newsletter.embeddings.encode). Phrase relevance then
averages BM25 relevance and the phrase's cosine; the profile averages TF-IDF and embedding
cosines (library papers are embedded with `encode(paper_text)` unless `Semantic.library` has
them by paper id). Without it everything is lexical.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from newsletter import profiles, units
from newsletter.textmodel import Background, Mentions, TextIndex
from newsletter.units import MIN_RELEVANCE, interest_phrases, unit_keys  # noqa: F401 (public)

POPULARITY_WEIGHT = 0.25  # up to +25% for a much-upvoted paper
FEATURED_WEIGHT = 0.2  # +20% for an editor's pick
FRESHNESS_WEIGHT = 0.1  # up to +10% for a paper first seen in the last hours
FRESHNESS_HOURS = 48.0
UPVOTES_SCALE = 200  # upvotes at which the popularity boost is full
TRENDING_UPVOTES = 50  # from here on the reason "trending: N upvotes" is shown
BLOCK_READERS = 4096  # readers scored at once: bounds the dense block to ~4096 x papers floats
# Equal keys are ordered by relevance x boost (<= ~2): scaled so it never crosses two distinct
# keys, which differ by at least 1 / papers^2.
TIE_BREAK = 1e-8


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
    semantic: "Semantic | None" = None
    mentions: Mentions | None = None
    by_author: dict[str, list[int]] = field(default_factory=dict)  # casefolded name -> columns
    by_org: dict[str, list[int]] = field(default_factory=dict)
    # Library papers (seeds, 👍, 👎) met so far: paper id -> row of `library_sim` (x papers).
    library_rows: dict[int, int] = field(default_factory=dict)
    library_titles: list[str] = field(default_factory=list)
    library_sim: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))


@dataclass(frozen=True, slots=True)
class Semantic:
    """Optional sentence embeddings: the day's papers (papers x d, float32, L2-normalised, in the
    order of the index's papers) and the function that embeds other texts the same way."""

    papers: np.ndarray
    encode: Callable[[Sequence[str]], np.ndarray]
    library: Mapping[int, np.ndarray] = field(default_factory=dict)  # paper id -> embedding
    paper_text: Callable[[str, str], str] = "{}. {}".format  # (title, abstract) -> embedded text


def build_index(
    papers: Sequence[PaperDoc],
    topics: Mapping[int, TopicDoc],
    background: Background | None = None,
    semantic: Semantic | None = None,
) -> PaperIndex:
    text = TextIndex([(p.title, p.abstract) for p in papers], background)
    index = PaperIndex(papers=papers, topics=topics, text=text, semantic=semantic)
    index.mentions = Mentions([f"{p.title}\n{p.abstract}" for p in papers])
    index.position = {p.id: i for i, p in enumerate(papers)}
    index.paper_ids = np.array([p.id for p in papers], dtype=np.int64)
    index.first_seen = np.array([p.first_seen_at.timestamp() for p in papers], dtype=np.float64)
    index.upvotes = np.array([p.upvotes for p in papers], dtype=np.int64)
    index.featured = np.array([p.featured for p in papers], dtype=bool)
    index.id_set = frozenset(index.position)
    index.paper_reasons = [_paper_reasons(p) for p in papers]
    for col, paper in enumerate(papers):
        for name in paper.authors:
            index.by_author.setdefault(name.casefold(), []).append(col)
        if paper.organization:
            index.by_org.setdefault(paper.organization.casefold(), []).append(col)
    index.topic_row = {topic_id: row for row, topic_id in enumerate(topics)}
    index.topic_reasons = [f"matches your topic {t.name}" for t in topics.values()]
    index.topic_relevance = units.topic_relevance(index, list(topics.values()))
    return index


def _paper_reasons(paper: PaperDoc) -> tuple[str, ...]:
    reasons = ("editor's pick",) if paper.featured else ()
    if paper.upvotes >= TRENDING_UPVOTES:
        reasons += (f"trending: {paper.upvotes} upvotes",)
    return reasons


def match_readers(
    readers: Sequence[ReaderDoc],
    papers: Sequence[PaperDoc],
    topics: Mapping[int, TopicDoc],
    now: datetime,
    library: Mapping[int, PaperDoc] | None = None,
) -> dict[int, list[Pick]]:
    return rank(readers, build_index(papers, topics), now, library)


def rank(
    readers: Sequence[ReaderDoc],
    index: PaperIndex,
    now: datetime,
    library: Mapping[int, PaperDoc] | None = None,
) -> dict[int, list[Pick]]:
    """Reader id -> the reader's picks, best first (an empty list: send nothing). `library` holds
    the PaperDocs of the readers' seed, liked and disliked papers (missing ones are ignored)."""
    results: dict[int, list[Pick]] = {}
    if not len(index.papers):
        return {reader.id: [] for reader in readers}
    boost = popularity_boost(index, now)
    profiles.prepare(index, readers, library or {})
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
    block = units.block_units(readers, index)
    plain = np.array([r.trending == "matches" for r in readers])
    reader_boost = np.where(plain[:, None], 1.0, boost[None, :]).astype(np.float32)
    rel = block.relevance(index)
    mass = block.mass(index, rel)
    keys = np.vstack([unit_keys(rel, boost, mass=mass), unit_keys(rel, np.ones_like(boost), mass=mass)])
    slots = block.slots + np.where(plain, len(rel), 0)[:, None]  # plain readers use unboosted keys
    key, unit = _best_unit(keys, slots)
    unit %= len(rel)
    best = np.take_along_axis(rel, unit, axis=0)
    learned = profiles.block_scores(readers, index)
    if learned is not None:
        prof_key = unit_keys(learned, reader_boost, profiles.PROFILE_MIN)
        from_profile = prof_key < key
        key = np.where(from_profile, prof_key, key)
        best = np.where(from_profile, learned, best)
        unit = np.where(from_profile, -1, unit)
    allowed = _candidates(readers, index) & np.isfinite(key)
    score = np.where(allowed, 1.0 - key.astype(np.float64) + TIE_BREAK * best * reader_boost, -np.inf)
    top, top_score = _top(score, max((r.size for r in readers), default=0))
    results: dict[int, list[Pick]] = {}
    for i, (reader, cols, scores) in enumerate(zip(readers, top.tolist(), top_score.tolist(), strict=True)):
        chosen = [col for col, s in zip(cols[: max(reader.size, 0)], scores, strict=False) if s != -np.inf]
        learned_cols = [col for col in chosen if unit[i, col] < 0]
        liked = dict(zip(learned_cols, profiles.reasons(reader, index, learned_cols), strict=True))
        results[reader.id] = [
            Pick(
                int(index.paper_ids[col]),
                float(score[i, col]),
                (
                    liked[col] if col in liked else block.reason(index, int(unit[i, col]), col),
                    *index.paper_reasons[col],
                ),
                float(best[i, col]),
            )
            for col in chosen
        ]
    return results


def _best_unit(keys: np.ndarray, slots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Readers x papers: the reader's smallest key over their units, and which unit gave it."""
    best = keys[slots[:, 0]]
    unit = np.repeat(slots[:, :1], keys.shape[1], axis=1)
    for k in range(1, slots.shape[1]):
        key = keys[slots[:, k]]
        better = key < best
        best = np.where(better, key, best)
        unit = np.where(better, slots[:, k : k + 1], unit)
    return best, unit


def _candidates(readers: Sequence[ReaderDoc], index: PaperIndex) -> np.ndarray:
    """Readers x papers: first seen after the reader's `since`, never sent to them, and not
    mentioning a word or phrase they muted."""
    since = np.array([r.since.timestamp() for r in readers], dtype=np.float64)
    allowed = index.first_seen[None, :] > since[:, None]
    for i, reader in enumerate(readers):
        if reader.exclude:
            sent = reader.exclude & index.id_set
            if sent:
                allowed[i, [index.position[paper_id] for paper_id in sent]] = False
        for muted in reader.muted:
            if muted.strip():
                allowed[i] &= ~index.mentions.find(muted)
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
