"""The units of a reader's query, scored against the day's papers: topics, free-text interests,
followed authors and organizations. Pure; newsletter.matching ranks with them."""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from newsletter.matching import PaperIndex, ReaderDoc, TopicDoc

# Relevant to a phrase: sharing any of its terms. A higher floor only ever left slots empty that
# a weaker match would fill (issue figures: 0.844 / 0.428 without the old floor, 0.840 / 0.394 with).
MIN_RELEVANCE = 0.0
TAGGED_MIN = 0.01  # a topic's paper that shares no word with its phrases still counts, last
MAX_INTERESTS = 10  # free-text interests considered per reader

_SPLIT = re.compile(r"[,;\n]+")


@lru_cache(maxsize=100_000)
def interest_phrases(interests: str) -> tuple[str, ...]:
    """ "speculative decoding; RL for reasoning" -> two interests, each matched on its own."""
    phrases = (" ".join(p.split()) for p in _SPLIT.split(interests))
    return tuple(p for p in phrases if p)[:MAX_INTERESTS]


def phrase_relevance(index: "PaperIndex", phrases: Sequence[str]) -> np.ndarray:
    """Phrases x papers in [0, 1]: BM25 with pseudo-relevance feedback, averaged with the
    embedding cosine when semantic."""
    lexical = index.text.relevance(phrases, feedback=True)
    if index.semantic is None:
        return lexical
    cosine = index.semantic.encode(list(phrases)) @ index.semantic.papers.T
    return ((lexical + np.maximum(cosine, 0.0)) / 2).astype(np.float32)


def topic_relevance(index: "PaperIndex", topics: list["TopicDoc"]) -> np.ndarray:
    """Topics x papers. A paper belongs to a topic when the catalog tagged it, it is in one of the
    topic's arXiv categories or it mentions one of its phrases, and an editor did not remove the
    topic from it; how well it matches the phrases grades it."""
    papers = index.papers
    rel = np.zeros((len(topics), len(papers)), dtype=np.float32)
    for row, topic in enumerate(topics):
        phrases = [p for p in [topic.name, *topic.keywords] if p.strip()]
        graded = phrase_relevance(index, phrases).max(axis=0) if phrases else rel[row]
        member = np.logical_or.reduce([index.mentions.find(p) for p in phrases] + [rel[row] > 0])
        cats = set(topic.categories)
        for col, paper in enumerate(papers):
            if topic.id in paper.removed_topic_ids:
                member[col] = False
            elif topic.id in paper.topic_ids or cats.intersection(paper.categories):
                member[col] = True
        rel[row] = np.where(member, np.maximum(graded, TAGGED_MIN), 0.0)
    return rel


def unit_keys(
    rel: np.ndarray, boost: np.ndarray, floor: float = MIN_RELEVANCE, mass: np.ndarray | None = None
) -> np.ndarray:
    """Units x papers: (r - 1) / n for a unit's r-th best relevant paper (relevance above floor,
    ordered by relevance x boost), inf for the others. n is the unit's `mass`, by default its
    relevance summed over its papers, its expected number of relevant papers: a unit with many
    good matches takes turns often, a unit with one good match and many faint ones rarely after
    its first."""
    relevant = rel > floor
    order = np.argsort(-np.where(relevant, rel * boost, -1.0), axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(rel.shape[1])[None, :], axis=1)
    if mass is None:
        mass = np.where(relevant, rel, 0.0).sum(axis=1, dtype=np.float64)
    n = np.maximum(np.asarray(mass, dtype=np.float64)[:, None], 1e-6)
    return np.where(relevant, ranks / n, np.inf).astype(np.float32)


@dataclass(slots=True)
class BlockUnits:
    """A block's distinct units and each reader's rows into [topics, phrases, follows, padding]."""

    n_topics: int
    phrases: list[str]
    follows: list[tuple[str, str]]  # ("author" | "org", the name as the reader follows it)
    slots: np.ndarray  # readers x width, padded with the last row (relevant to nothing)

    def relevance(self, index: "PaperIndex") -> np.ndarray:
        n_papers = len(index.papers)
        follows = np.zeros((len(self.follows), n_papers), dtype=np.float32)
        for row, (kind, name) in enumerate(self.follows):
            by = index.by_author if kind == "author" else index.by_org
            follows[row, by.get(name.casefold(), [])] = 1.0
        phrases = phrase_relevance(index, self.phrases) if self.phrases else follows[:0]
        return np.vstack([index.topic_relevance, phrases, follows, np.zeros((1, n_papers), np.float32)])

    def mass(self, index: "PaperIndex", rel: np.ndarray) -> np.ndarray:
        """Each unit's expected number of relevant papers (see unit_keys). A phrase's is counted
        on its own words: the words RM3 adds reorder its papers but would make every phrase look
        broad (multi-interest readers, odd DEV days: P@10 0.385 counted with them, 0.396 on its own
        words, 0.400 with no RM3 at all)."""
        mass = np.where(rel > MIN_RELEVANCE, rel, 0.0).sum(axis=1, dtype=np.float64)
        if self.phrases and index.semantic is None:
            own = index.text.relevance(self.phrases)
            mass[self.n_topics : self.n_topics + len(self.phrases)] = own.sum(axis=1, dtype=np.float64)
        return mass

    def reason(self, index: "PaperIndex", unit: int, col: int) -> str:
        """What really matched: a topic's phrase, category or tag; the interest's own words (else
        it is only "related"); the followed author or organization."""
        if unit < self.n_topics:
            return index.topic_reasons[unit]
        if unit < self.n_topics + len(self.phrases):
            phrase = self.phrases[unit - self.n_topics]
            said = index.mentions.find(phrase)[col]
            return f"mentions '{phrase}'" if said else f"related to '{phrase}'"
        kind, name = self.follows[unit - self.n_topics - len(self.phrases)]
        return f"by {name}, whom you follow" if kind == "author" else f"from {name}, which you follow"


def block_units(readers: Sequence["ReaderDoc"], index: "PaperIndex") -> BlockUnits:
    n_topics = len(index.topic_reasons)
    phrase_row: dict[str, int] = {}
    follow_row: dict[tuple[str, str], int] = {}
    block = BlockUnits(n_topics, [], [], np.zeros(0))
    rows_per_reader = []
    for reader in readers:
        rows = [index.topic_row[t] for t in reader.topic_ids if t in index.topic_row]
        for phrase in interest_phrases(reader.interests):
            if phrase.lower() not in phrase_row:
                phrase_row[phrase.lower()] = len(block.phrases)
                block.phrases.append(phrase)
            rows.append(n_topics + phrase_row[phrase.lower()])
        follows = [("author", a) for a in reader.followed_authors] + [
            ("org", o) for o in reader.followed_orgs
        ]
        for kind, name in follows:
            key = (kind, name.casefold())
            if key not in follow_row:
                follow_row[key] = len(block.follows)
                block.follows.append((kind, name))
            rows.append(-1 - follow_row[key])  # resolved once the number of phrases is known
        rows_per_reader.append(rows)
    first_follow = n_topics + len(block.phrases)
    pad = first_follow + len(block.follows)
    width = max((len(r) for r in rows_per_reader), default=0)
    block.slots = np.full((len(readers), max(width, 1)), pad, dtype=np.int32)
    for i, rows in enumerate(rows_per_reader):
        block.slots[i, : len(rows)] = [r if r >= 0 else first_follow - 1 - r for r in rows]
    return block
