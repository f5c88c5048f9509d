"""Quality floors on a sample of real arXiv days (bench/matching_sample.py: 10 days drawn with
seed 0), scored against human labels by the bench's own protocols. Each floor holds with a
margin on the samples of seeds 0-5, so it describes samples of this size rather than this one."""

from pathlib import Path

import pytest

from bench.matching_quality import load_papers, load_readers, run
from newsletter.textmodel import default_background

SAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "matching"
KINDS = {"fine_phrase", "category_phrase", "category_topic", "multi_interest", "category_seeds"}
KINDS |= {"category_feedback"}


@pytest.fixture(scope="module")
def figures():
    rows = load_papers(SAMPLE / "sample.jsonl.gz")
    return run(rows, load_readers(SAMPLE / "topics.json"), KINDS, 1, {"background": default_background()})


def p10(figures, kind, system="ours"):
    return figures[kind][system]["p_at_10"]


def test_phrase_readers_get_their_papers_about_as_well_as_bm25_or_better(figures):
    assert figures["fine_phrase"]["reader_days"] >= 10
    assert p10(figures, "fine_phrase") >= 0.7
    assert p10(figures, "category_phrase") >= 0.33
    assert p10(figures, "category_phrase") >= p10(figures, "category_phrase", "bm25") - 0.02


def test_a_category_topic_reader_gets_papers_of_the_category(figures):
    assert p10(figures, "category_topic") >= 0.8


def test_a_reader_with_three_interests_gets_papers_for_most_of_them(figures):
    multi = figures["multi_interest"]
    assert multi["ours"]["label_coverage_at_10"] >= 0.45
    assert multi["ours"]["p_at_10"] >= multi["baseline"]["p_at_10"] + 0.05


def test_seed_papers_alone_find_the_readers_field(figures):
    assert p10(figures, "category_seeds") >= 0.3
    assert p10(figures, "category_seeds") >= p10(figures, "category_seeds", "baseline") + 0.05


def test_ratings_teach_a_category_reader_more_than_the_keyword_baseline_knows(figures):
    assert p10(figures, "category_feedback") >= 0.33
    assert p10(figures, "category_feedback") >= p10(figures, "category_feedback", "baseline") + 0.05
