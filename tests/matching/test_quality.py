"""A quality floor on a committed sample of real arXiv days, scored against human labels."""

from pathlib import Path

import pytest

from bench.matching_quality import evaluate, load_papers, load_readers
from newsletter.textmodel import default_background

SAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "matching"


@pytest.fixture(scope="module")
def figures():
    rows = load_papers(SAMPLE / "sample.jsonl.gz")
    return evaluate(rows, load_readers(SAMPLE / "topics.json"), 1, default_background())


@pytest.mark.parametrize("kind", ["fine_phrase", "category_phrase"])
def test_matching_beats_the_keyword_baseline_clearly(figures, kind):
    ours, baseline = figures[kind]["ours"], figures[kind]["baseline"]

    assert ours["p_at_10"] >= baseline["p_at_10"] + 0.05
    assert ours["ndcg_at_10"] >= baseline["ndcg_at_10"] + 0.05


def test_fine_topic_readers_mostly_get_their_papers(figures):
    assert figures["fine_phrase"]["reader_days"] >= 20
    assert figures["fine_phrase"]["ours"]["p_at_10"] >= 0.6


def test_category_readers_get_a_fair_share_of_their_field(figures):
    assert figures["category_phrase"]["reader_days"] >= 100
    assert figures["category_phrase"]["ours"]["p_at_10"] >= 0.25
