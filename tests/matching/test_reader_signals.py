"""Reading what readers type: seed ids and links, muted phrases. Pure: no database."""

import pytest

from newsletter.matching import PaperDoc
from newsletter.reader_signals import SignalError, parse_seeds, seed_id
from newsletter.sections import is_muted, muted_phrases
from tests.matching.helpers import NOW


@pytest.mark.parametrize(
    ("typed", "arxiv_id"),
    [
        ("2509.25760", "2509.25760"),
        ("2509.25760v3", "2509.25760"),
        ("arXiv:2509.25760", "2509.25760"),
        ("https://arxiv.org/abs/2509.25760v2", "2509.25760"),
        ("https://arxiv.org/pdf/2509.25760v2.pdf", "2509.25760"),
        ("https://huggingface.co/papers/2509.25760", "2509.25760"),
        ("https://arxiv.org/abs/solv-int/9901001", "solv-int/9901001"),
        ("https://example.org/abs/2509.25760", None),
        ("attention is all you need", None),
    ],
)
def test_seed_ids_are_read_from_ids_and_paper_links(typed, arxiv_id):
    assert seed_id(typed) == arxiv_id


def test_seeds_are_one_per_line_or_comma_separated_without_repeats():
    assert parse_seeds("2509.25760, 2510.01001\n\n 2509.25760v2 ") == ["2509.25760", "2510.01001"]


def test_a_bad_seed_names_its_line():
    with pytest.raises(SignalError, match="Line 3: “not a paper”"):
        parse_seeds("2509.25760\n\nnot a paper")


def test_muted_phrases_match_whole_words_in_title_or_abstract():
    paper = PaperDoc(1, "Training agents", "We use crypto\nmarkets as a testbed.", NOW)
    assert is_muted(paper, muted_phrases("Crypto Markets"))
    assert is_muted(paper, muted_phrases("agents"))
    assert not is_muted(paper, muted_phrases("ai, crypt"))  # "training" has "ai" inside, not as a word
    assert not is_muted(paper, ())
