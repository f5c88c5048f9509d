import random
from datetime import timedelta

import pytest

from newsletter import matching
from newsletter.matching import build_index, interest_phrases, popularity_boost, rank
from tests.matching.helpers import NOW, paper, reader, topic

WORDS = [
    "speculative",
    "decoding",
    "machine",
    "unlearning",
    "video",
    "diffusion",
    "gui",
    "agents",
    "jailbreak",
    "hallucination",
    "reasoning",
]


def unit_key_loop(row, boost):
    """(r - 1) / n for the r-th relevant paper by relevance x boost, n the relevance summed."""
    relevant = [col for col in range(len(row)) if row[col] > matching.MIN_RELEVANCE]
    ordered = sorted(relevant, key=lambda col: (-(row[col] * boost[col]), col))
    mass = max(sum(float(row[col]) for col in relevant), 1e-6)
    return {col: r / mass for r, col in enumerate(ordered)}


def reference(readers, index, now):
    """The obvious loop over reader x unit x paper, one phrase at a time."""
    boost = popularity_boost(index, now)
    out = {}
    for r in readers:
        rows = [index.topic_relevance[index.topic_row[t]] for t in r.topic_ids if t in index.topic_row]
        rows += [index.text.relevance([p], feedback=True)[0] for p in interest_phrases(r.interests)]
        keys = [unit_key_loop(row, boost) for row in rows]
        scored = []
        for col, p in enumerate(index.papers):
            options = [
                (k[col], -(row[col] * boost[col])) for k, row in zip(keys, rows, strict=True) if col in k
            ]
            if options and p.first_seen_at > r.since and p.id not in r.exclude:
                key = min(o[0] for o in options)
                tie = next(o[1] for o in options if o[0] == key)  # the first unit with that key
                scored.append((key, tie, col, p.id))
        out[r.id] = [paper_id for *_, paper_id in sorted(scored)[: r.size]]
    return out


@pytest.fixture
def population():
    rng = random.Random(5)
    papers = [
        paper(
            i,
            " ".join(rng.sample(WORDS, 3)),
            " ".join(rng.choices(WORDS, k=12)),
            hours_ago=rng.uniform(1, 60),
            upvotes=rng.choice([0, 3, 40, 200]),
            featured=rng.random() < 0.1,
            topic_ids=frozenset(rng.sample([1, 2, 3], rng.randint(0, 1))),
            categories=(rng.choice(["cs.CL", "cs.CV"]),),
        )
        for i in range(1, 41)
    ]
    topics = {
        1: topic(1, "Unlearning", ["machine unlearning"]),
        2: topic(2, "Vision", [], ["cs.CV"]),
        3: topic(3, "GUI agents"),
    }
    readers = [
        reader(
            i,
            topic_ids=rng.sample([1, 2, 3, 4], rng.randint(0, 2)),
            interests=", ".join(" ".join(rng.sample(WORDS, 2)) for _ in range(rng.randint(0, 3))),
            size=rng.choice([0, 1, 5, 10]),
            since=NOW - timedelta(hours=rng.choice([24, 48, 72])),
            exclude=frozenset(rng.sample(range(1, 41), rng.randint(0, 5))),
        )
        for i in range(1, 61)
    ]
    return readers, build_index(papers, topics)


def test_the_vectorised_ranking_equals_the_simple_loop_across_blocks(population, monkeypatch):
    readers, index = population
    monkeypatch.setattr(matching, "BLOCK_READERS", 7)

    result = rank(readers, index, NOW)

    assert {rid: [p.paper_id for p in picks] for rid, picks in result.items()} == reference(
        readers, index, NOW
    )
    assert sum(len(p) for p in result.values()) > 60


def test_every_pick_says_why_and_scores_fall_down_the_list(population):
    readers, index = population

    result = rank(readers, index, NOW)

    for picks in result.values():
        assert all(p.reasons and p.relevance > matching.MIN_RELEVANCE for p in picks)
        assert [p.score for p in picks] == sorted((p.score for p in picks), reverse=True)
