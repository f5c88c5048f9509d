"""Pure helpers: ids, text, code links and tagging. No database."""

import pytest

from newsletter.textmodel import same_word
from papers.ingestion.records import (
    canonical_id,
    clean_text,
    code_url_in_text,
    derive_id,
    normalise_code_url,
    parse_arxiv_id,
)
from papers.models import Paper
from papers.tagging import compile_topic, tag_paper


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2509.12345", ("2509.12345", None)),
        ("2509.12345v2", ("2509.12345", 2)),
        ("0704.0001", ("0704.0001", None)),
        ("solv-int/9901001v1", ("solv-int/9901001", 1)),
        ("math.AG/0601001", ("math.AG/0601001", None)),
        ("arXiv:2401.00001v3", ("2401.00001", 3)),
        ("http://arxiv.org/abs/2401.00001v3", ("2401.00001", 3)),
        ("oai:arXiv.org:2401.17268v1", ("2401.17268", 1)),
        ("not an id", None),
        ("2509.123", None),
    ],
)
def test_arxiv_ids_lose_their_version_and_keep_it_apart(raw, expected):
    assert parse_arxiv_id(raw) == expected


def test_ids_that_are_not_arxiv_are_kept_as_source_or_derived_ids():
    assert canonical_id("some-hf-id") == ("some-hf-id", Paper.IdKind.SOURCE, None)
    derived = derive_id("A Title:  with  Spacing")
    assert derived == derive_id("a title with spacing")
    assert derived.startswith("derived-")
    assert canonical_id(derived)[1] == Paper.IdKind.DERIVED


def test_hard_line_breaks_collapse_but_paragraphs_stay():
    assert (
        clean_text("  One line\n  broken   here.\n\nSecond\nparagraph. ")
        == "One line broken here.\n\nSecond paragraph."
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("owner/name", "https://github.com/owner/name"),
        ("https://github.com/owner/name.git", "https://github.com/owner/name"),
        ("github.com/owner/name/", "https://github.com/owner/name"),
        ("https://github.com/owner/name/tree/main/src", "https://github.com/owner/name"),
        ("https://gitlab.com/group/project", "https://gitlab.com/group/project"),
        ("https://example.com/owner/name", ""),
        ("nonsense", ""),
    ],
)
def test_code_links_are_normalised(value, expected):
    assert normalise_code_url(value) == expected


def test_code_links_inside_abstracts_are_found():
    assert code_url_in_text("Code: {https://github.com/sinatayebati/vlm-uncertainty}.") == (
        "https://github.com/sinatayebati/vlm-uncertainty"
    )
    assert code_url_in_text("at https://github.com/hlxtsyj/AMFT.") == "https://github.com/hlxtsyj/AMFT"
    assert code_url_in_text("no link here") == ""


def test_word_forms_match_the_same_stem():
    assert same_word("hallucinations", "hallucinated")
    assert same_word("hallucinated", "hallucination")
    assert same_word("splatting", "splat")
    assert same_word("agents", "agent")
    assert same_word("images", "image")


def test_a_derived_word_is_not_the_same_word():
    assert not same_word("truthfulness", "truth")
    assert not same_word("computation", "computer")
    rule = compile_topic(1, ["truthfulness"], [])
    assert tag_paper("Cheaper ground truth", "Ground truth labels for segmentation.", [], [rule]) == {}


def test_a_paper_matches_topics_by_phrase_and_category():
    gui = compile_topic(1, ["GUI agent", "computer use"], [])
    robots = compile_topic(2, ["robot"], ["cs.RO"])
    nothing = compile_topic(3, ["speculative decoding"], ["cs.DB"])
    scores = tag_paper(
        "GUI Agents for Phones",
        "An agent for computer-use tasks.",
        ["cs.CL", "cs.RO"],
        [gui, robots, nothing],
    )
    assert set(scores) == {1, 2}
    assert scores[1] > scores[2]  # a title mention beats a cross-listing
    assert 0 < scores[2] <= 1


def test_a_phrase_matches_only_as_a_whole():
    rule = compile_topic(1, ["machine unlearning"], [])
    assert tag_paper("Machine learning", "We study unlearning in a machine.", [], [rule]) == {}
    assert tag_paper("Machine Unlearning, revisited", "", [], [rule]) == {1: 0.4}
