"""Rich paper cards: what the source gives, math as MathML, BibTeX, similar papers."""

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
import time_machine
from django.urls import reverse

from papers import cards, mathtext
from papers.models import Organization
from tests.factories import make_paper, make_topic

DAY = date(2026, 11, 24)
db = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel("2026-11-25 12:00Z", tick=False):
        yield


# --- Pure helpers ------------------------------------------------------------------------------


def test_math_becomes_mathml_and_tex_escapes_become_characters():
    html = mathtext.to_html(r"Sorting in $\mathcal{O}(n)$ at +18.6\% <b>faster</b>")
    assert html.startswith('Sorting in <math xmlns="http://www.w3.org/1998/Math/MathML"')
    assert "<mi>𝒪</mi>" in html
    assert html.endswith("</math> at +18.6% &lt;b&gt;faster&lt;/b&gt;")


def test_math_reads_as_plain_text_in_email():
    assert mathtext.to_text(r"Sorting in $\mathcal{O}(n)$ at +18.6\%") == "Sorting in 𝒪(n) at +18.6%"
    assert mathtext.to_text(r"$\alpha$-$\beta$ mixing") == "α-β mixing"


@pytest.mark.parametrize(
    "text",
    [r"$\text{<script>alert(1)</script>}$", r"$\text{<img src=x onerror=alert(1)>}$", r"$\frac{a}{$"],
)
def test_math_that_does_not_convert_to_clean_mathml_is_shown_as_escaped_text(text):
    html = mathtext.to_html(text)
    assert "<script" not in html
    assert "<img" not in html
    assert "<math" not in html or "</math>" in html


def test_dollar_amounts_are_not_math():
    assert mathtext.to_html("costs $5 and $10 a month") == "costs $5 and $10 a month"


def test_the_author_line_shows_the_first_three_names_and_how_many_more():
    assert cards.author_summary(["A", "B", "C", "D", "E"], 14) == (["A", "B", "C"], 11)
    assert cards.author_summary(["A", "B"], 2) == (["A", "B"], 0)
    assert cards.author_summary([], 7) == ([], 7)


def paper(**fields):
    values = {
        "paper_id": "2611.01234",
        "id_kind": "arxiv",
        "title": r"Fast & {Robust} Sorting in $\mathcal{O}(n)$: 50% less",
        "authors": ["Ada Lovelace", "Alan Turing"],
        "published_at": datetime(2026, 11, 20, tzinfo=UTC),
        "listed_on": DAY,
        "primary_category": "cs.DS",
        "source": "hf",
    }
    return SimpleNamespace(**{**values, **fields})


def test_bibtex_has_the_arxiv_fields_and_escapes_what_bibtex_would_misread():
    entry = cards.bibtex(paper())
    assert entry.startswith("@misc{lovelace2026fast,\n")
    assert r"title = {{Fast \& {Robust} Sorting in $\mathcal{O}(n)$: 50\% less}}" in entry
    assert "author = {Ada Lovelace and Alan Turing}" in entry
    assert "eprint = {2611.01234}" in entry
    assert "archivePrefix = {arXiv}" in entry
    assert "primaryClass = {cs.DS}" in entry
    assert entry.endswith("url = {https://arxiv.org/abs/2611.01234}\n}")


def test_bibtex_drops_unbalanced_braces_and_leaves_out_arxiv_fields_without_an_arxiv_id():
    entry = cards.bibtex(paper(title="A {broken title", id_kind="derived", authors=[], published_at=None))
    assert "title = {{A broken title}}" in entry
    assert "eprint" not in entry
    assert "year = {2026}" in entry


def test_source_links_exist_only_where_the_source_has_the_paper():
    assert cards.hf_url(paper()) == "https://huggingface.co/papers/2611.01234"
    assert cards.pdf_url(paper()) == "https://arxiv.org/pdf/2611.01234"
    assert cards.hf_url(paper(source="arxiv")) == ""
    assert cards.pdf_url(paper(id_kind="derived")) == ""


# --- Pages -------------------------------------------------------------------------------------


@db
def test_a_card_shows_everything_the_source_gives(client):
    org = Organization.objects.create(
        name="facebook", display_name="AI at Meta", avatar_url="https://cdn.example.org/meta.png"
    )
    make_paper(
        r"Sorting in $\mathcal{O}(n)$",
        paper_id="2611.01234",
        organization=org,
        authors=["Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra"],
        author_count=14,
        comment_count=3,
        code_url="https://github.com/lab/sort",
        code_stars=1234,
        project_url="https://lab.example.org/sort",
        thumbnail_url="https://cdn.example.org/thumb.png",
        listed_on=DAY,
    )
    page = client.get(reverse("home"), {"date": "2026-11-24"}).content.decode()
    assert '<img class="avatar" src="https://cdn.example.org/meta.png" alt=""' in page
    assert "AI at Meta" in page
    assert "Ada Lovelace, Alan Turing, Grace Hopper +11 more" in page
    hf = "https://huggingface.co/papers/2611.01234"
    assert f'<a href="{hf}#community" rel="noopener">3 comments</a>' in page
    assert "★ 1,234" in page
    assert 'href="https://lab.example.org/sort"' in page
    assert 'href="https://arxiv.org/pdf/2611.01234"' in page
    assert '<img class="paper-thumb" src="https://cdn.example.org/thumb.png" alt=""' in page
    assert "<mi>𝒪</mi>" in page


@db
def test_the_paper_page_shows_the_editor_s_note_every_author_a_citation_and_math(client):
    item = make_paper(
        r"Sorting in $\mathcal{O}(n)$",
        abstract=r"We gain +18.6\% with $x^2$.",
        authors=["Ada Lovelace", "Alan Turing"],
        editor_note="Read section 3 <first>.",
        listed_on=DAY,
    )
    page = client.get(item.get_absolute_url()).content.decode()
    assert "<title>Sorting in 𝒪(n) · " in page
    assert "Editor’s note" in page
    assert "Read section 3 &lt;first&gt;." in page
    assert "Ada Lovelace, Alan Turing" in page
    assert "Cite (BibTeX)" in page
    assert "@misc{lovelace2026sorting," in page
    assert "We gain +18.6% with <math" in page


@db
def test_the_paper_page_lists_the_five_nearest_papers_by_text_never_hidden_ones(client):
    robots = make_topic("Robots")
    item = make_paper("Robot grasping with tactile sensors", abstract="Tactile grasping for robot hands.")
    near = [
        make_paper(f"Tactile robot grasping {n}", abstract="Robot hands grasp with tactile sensing.")
        for n in range(6)
    ]
    make_paper("Hidden tactile robot grasping", abstract="Tactile grasping robot hands.", hidden=True)
    make_paper("Protein folding", abstract="Proteins fold.", topics=[robots])
    response = client.get(item.get_absolute_url())
    shown = [p.title for p in response.context["similar"]]
    assert len(shown) == 5
    assert set(shown) <= {p.title for p in near}
    assert "Similar papers" in response.content.decode()
