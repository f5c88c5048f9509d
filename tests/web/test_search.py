"""Search: full-text on PostgreSQL (stemmed words, phrases, exclusions), substring on SQLite."""

from datetime import date

import pytest
from django.db import connection
from django.urls import reverse

from papers.models import Paper
from papers.search import matching, substring
from tests.factories import make_paper

pytestmark = pytest.mark.django_db
DAY = date(2026, 11, 24)
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL full-text search")


def found(client, query: str) -> list[str]:
    response = client.get(reverse("home"), {"q": query})
    assert response.status_code == 200
    return sorted(paper.title for paper in response.context["page"])


@postgres_only
def test_search_finds_other_forms_of_the_words_typed(client):
    make_paper("Diffusion models for video", listed_on=DAY)
    make_paper("Faster inference", abstract="We train a diffusion model once.", listed_on=DAY)
    make_paper("Models of rain", listed_on=DAY)
    assert found(client, "diffusion model") == ["Diffusion models for video", "Faster inference"]


@postgres_only
def test_search_understands_phrases_and_excluded_words(client):
    make_paper("Speculative decoding at scale", listed_on=DAY)
    make_paper("Decoding speculative bets", listed_on=DAY)
    make_paper("Speculative decoding for video", listed_on=DAY)
    assert found(client, '"speculative decoding" -video') == ["Speculative decoding at scale"]


@pytest.mark.parametrize("query", ['"unbalanced', "a & b | !c", "foo:*", "(((", "-", "'; drop table"])
def test_search_syntax_of_any_kind_gets_a_page_never_an_error(client, query):
    make_paper("Speculative decoding at scale", listed_on=DAY)
    response = client.get(reverse("home"), {"q": query})
    assert response.status_code == 200


def test_a_paper_id_finds_that_paper(client):
    make_paper("Speculative decoding at scale", paper_id="2611.01234", listed_on=DAY)
    make_paper("Other", listed_on=DAY)
    assert found(client, "2611.01234") == ["Speculative decoding at scale"]


def test_the_substring_fallback_needs_every_word_in_title_or_abstract():
    make_paper("Speculative decoding at scale", listed_on=DAY)
    make_paper("Faster inference", abstract="We revisit speculative decoding.", listed_on=DAY)
    make_paper("Speculative execution", listed_on=DAY)
    titles = sorted(p.title for p in substring(Paper.objects.all(), "speculative DECODING"))
    assert titles == ["Faster inference", "Speculative decoding at scale"]


@postgres_only
def test_the_full_text_query_reads_the_stored_document_through_its_index():
    matches = matching(Paper.objects.all(), "robot").order_by()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = matches.explain()
    assert "on paper_search_document" in plan
    # Matching never parses a title or abstract again: the stored column holds them parsed.
    assert "to_tsvector" not in plan


@postgres_only
def test_an_edited_abstract_is_found_by_its_new_words_only():
    paper = make_paper("Faster inference", abstract="We revisit speculative decoding.", listed_on=DAY)
    Paper.objects.filter(pk=paper.pk).update(abstract="We revisit quantization.")
    assert [p.title for p in matching(Paper.objects.all(), "quantization")] == ["Faster inference"]
    assert not matching(Paper.objects.all(), "speculative").exists()
