"""`import_papers file` and the demo data: the Hugging Face JSON shape from disk."""

import io
import json
import shutil
import threading
from collections import Counter

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from newsletter.models import Subscriber
from papers.models import Organization, Paper
from tests.papers.server import FIXTURES

pytestmark = pytest.mark.django_db
DEMO = FIXTURES.parent.parent / "demo" / "papers.json"


class TTY(io.StringIO):
    def isatty(self):
        return True


def run(*args, stdout=None) -> str:
    out = stdout or io.StringIO()
    call_command("import_papers", *args, stdout=out)
    return out.getvalue()


def test_the_demo_file_loads_52_papers_with_full_cards_and_real_arxiv_ids_only_where_known():
    assert run("file", str(DEMO)).endswith(": 52 created, 0 updated, 0 skipped\n")
    assert Paper.objects.count() == 52
    kinds = Counter(Paper.objects.values_list("id_kind", flat=True))
    assert kinds == {Paper.IdKind.DERIVED: 42, Paper.IdKind.ARXIV: 10}
    for paper in Paper.objects.all():
        assert len(paper.authors) == paper.author_count > 0
        if paper.id_kind == Paper.IdKind.ARXIV:
            assert paper.thumbnail_url.endswith(f"/papers/{paper.paper_id}.png")
        else:
            assert paper.paper_id.startswith("derived-")
            assert not paper.thumbnail_url
    amft = Paper.objects.get(title__startswith="AMFT:")
    assert amft.code_url == "https://github.com/hlxtsyj/AMFT"
    assert amft.code_stars > 0
    assert amft.author_count == 3
    assert amft.upvotes == 2
    truth = Paper.objects.get(title__startswith="TruthRL")
    assert truth.organization.display_name == "AI at Meta"
    displayed = set(Organization.objects.values_list("display_name", flat=True))
    assert displayed == {"AI at Meta", "Leibnitz Lab", "Tencent", "Tsinghua University"}
    assert Paper.objects.filter(topics__isnull=False).distinct().count() > 40


def test_loading_the_demo_twice_changes_nothing():
    run("file", str(DEMO))
    stamps = list(Paper.objects.values_list("paper_id", "last_imported_at").order_by("paper_id"))
    assert run("file", str(DEMO)).endswith(": 0 created, 0 updated, 52 skipped\n")
    assert list(Paper.objects.values_list("paper_id", "last_imported_at").order_by("paper_id")) == stamps


def test_load_demo_imports_the_papers_before_the_demo_reader(settings):
    settings.DEBUG = True
    call_command("load_demo", stdout=io.StringIO())
    call_command("load_demo", stdout=io.StringIO())
    assert Paper.objects.count() == 52
    assert Subscriber.objects.get(email="reader@example.com").topics.count() == 3


def test_a_progress_bar_is_drawn_only_on_a_terminal():
    plain = run("file", str(DEMO))
    assert "[" not in plain
    assert plain.count("\n") == 1
    Paper.objects.all().delete()
    shown = run("file", str(DEMO), stdout=TTY())
    assert "\r[" in shown
    assert "52/52" in shown
    assert shown.endswith("52 created, 0 updated, 0 skipped\n")


def write(tmp_path, data) -> str:
    path = tmp_path / "papers.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def demo_items():
    return json.loads(DEMO.read_text())


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda items: json.dumps(items)[:-40], r": line 1 column \d+: invalid JSON"),
        (lambda items: items[:3] + [{"title": "no paper"}], r": item 3: paper is missing$"),
        (
            lambda items: [*items[:5], {"paper": {**items[5]["paper"], "title": ""}}],
            r": item 5 \(.*\): paper.title is empty",
        ),
        (
            lambda items: [{"paper": {**items[0]["paper"], "upvotes": "many"}}],
            r"item 0 .*upvotes must be an integer, got str",
        ),
        (
            lambda items: [{"paper": {**items[0]["paper"], "authors": None}}],
            r"item 0 .*paper.authors must be a list, got null",
        ),
        (
            lambda items: [{"paper": {**items[0]["paper"], "publishedAt": "last week"}}],
            r"publishedAt is not a date",
        ),
        (lambda items: "<!DOCTYPE html><html><body>Error</body></html>", r": line 1 column 1: invalid JSON"),
        (lambda items: {"papers": items}, r"expected a JSON array of papers, got dict"),
        # Values the catalogue cannot store: refused by name, not by a database error.
        (
            lambda items: [*items[:2], {**items[2], "paper": {**items[2]["paper"], "upvotes": -5}}],
            r"item 2 .*upvotes must be between 0 and 2147483647, got -5",
        ),
        (
            lambda items: [{**items[0], "numComments": 2**70}],
            r"item 0 .*comment_count must be between 0 and 2147483647",
        ),
        (
            lambda items: [{"paper": {**items[0]["paper"], "id": "x" * 300}}],
            r"item 0 .*paper_id is longer than 100 characters",
        ),
        (
            lambda items: [{"paper": {**items[0]["paper"], "title": "A" * 1001}}],
            r"item 0 .*title is longer than 1000 characters",
        ),
        (
            lambda items: [{"paper": {**items[0]["paper"], "organization": {"name": "o" * 201}}}],
            r"item 0 .*organization name is longer than 200 characters",
        ),
        (lambda items: "[" * 200_000, r"JSON nested too deeply"),
        (
            lambda items: json.dumps([{**items[0], "numComments": 0}]).replace(
                '"numComments": 0', '"numComments": ' + "9" * 5000
            ),
            r": invalid JSON \(a number with more than 4300 digits\)$",
        ),
        (
            lambda items: [{"paper": {**items[0]["paper"], "title": "Nul\x00 title"}}],
            r"item 0 .*: title contains a NUL character$",
        ),
        (
            lambda items: [{"paper": {**items[0]["paper"], "summary": "Lone \ud800 surrogate"}}],
            r"item 0 .*: abstract is not valid Unicode text$",
        ),
        (
            lambda items: [{"paper": {**items[0]["paper"], "authors": [{"name": "A\udfff"}]}}],
            r"item 0 .*: authors is not valid Unicode text$",
        ),
        (
            lambda items: [{"paper": {**items[0]["paper"], "id": "../../admin"}}],
            r"item 0 .*: paper id '../../admin' is not an arXiv id",
        ),
        (
            lambda items: [{"paper": {**items[0]["paper"], "id": "derived-../../admin"}}],
            r"item 0 .*: paper id 'derived-../../admin' is not a derived id like derived-",
        ),
        (
            lambda items: [{"paper": {**items[0]["paper"], "summary": "word " * 3_000}}],
            r"item 0 .*: abstract is longer than 10000 characters$",
        ),
        (
            lambda items: [{"paper": {**items[0]["paper"], "ai_summary": "s" * 2001}}],
            r"item 0 .*: summary is longer than 2000 characters$",
        ),
        (
            lambda items: [{"paper": {**items[0]["paper"], "authors": [{"name": "n" * 301}]}}],
            r"item 0 .*: authors: an item is longer than 300 characters$",
        ),
        (
            lambda items: [{"paper": {**items[0]["paper"], "authors": [{"name": "A"}] * 10_001}}],
            r"item 0 .*: authors: more than 10000 items$",
        ),
        (
            lambda items: [{"paper": {**items[0]["paper"], "ai_keywords": ["k"] * 101}}],
            r"item 0 .*: keywords: more than 100 items$",
        ),
        # Dates whose UTC value lies outside what pages and the database can handle.
        (
            lambda items: [{"paper": {**items[0]["paper"], "publishedAt": "9999-12-31T23:59:59-14:00"}}],
            r"item 0 .*: paper.publishedAt is not a date in 1900-2999: '9999-12-31T23:59:59-14:00'$",
        ),
        (
            lambda items: [{**items[0], "publishedAt": "0001-01-01T00:00:00+14:00"}],
            r"item 0 .*: publishedAt is not a date in 1900-2999: '0001-01-01T00:00:00\+14:00'$",
        ),
    ],
)
def test_a_bad_file_fails_with_one_line_naming_the_file_and_position(tmp_path, mutate, message):
    path = write(tmp_path, mutate(demo_items()))
    with pytest.raises(CommandError, match=message) as error:
        run("file", path)
    assert str(error.value).startswith(f"file: {path}: ")
    assert "\n" not in str(error.value)
    assert Paper.objects.count() == 0


def test_project_pages_and_thumbnails_that_are_not_web_links_are_dropped(tmp_path):
    item = demo_items()[0]
    item = {**item, "thumbnail": "data:image/png;base64,AAAA"}
    item["paper"] = {**item["paper"], "projectPage": "javascript:alert(1)"}
    run("file", write(tmp_path, [item]))
    paper = Paper.objects.get()
    assert (paper.project_url, paper.thumbnail_url) == ("", "")


def test_a_file_over_the_size_limit_is_refused_before_reading(tmp_path, settings):
    settings.PAPERS_IMPORT_MAX_BYTES = 10_000
    path = tmp_path / "big.json"
    shutil.copy(DEMO, path)
    with pytest.raises(
        CommandError, match=r"bytes is more than the 10000 byte limit \(PAPERS_IMPORT_MAX_BYTES\)"
    ):
        run("file", str(path))
    assert Paper.objects.count() == 0


def test_a_missing_file_says_so(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        run("file", str(tmp_path / "nope.json"))


def test_importing_a_whole_file_takes_a_fixed_number_of_queries(django_assert_max_num_queries):
    with django_assert_max_num_queries(15):  # 52 papers, their organizations and topic links
        run("file", str(DEMO))


@pytest.mark.django_db(transaction=True)
def test_two_imports_of_the_same_new_papers_at_once_create_each_paper_once():
    from papers.ingestion.file import import_file

    start, results, errors = threading.Barrier(2), [], []

    def import_once():
        try:
            start.wait()
            results.append(import_file(DEMO))
        except Exception as exc:  # noqa: BLE001 (collected for the assertion below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=import_once) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(r.created for r in results) == [0, 52]
    assert Paper.objects.count() == 52


def test_enriching_the_demo_never_makes_up_an_arxiv_id():
    from demo.enrich_papers import enrich

    item = {"paper": {"id": "derived-abc", "title": "Known  Title", "authors": [], "numAuthors": 4}}
    known = enrich(json.loads(json.dumps(item)), {"known title": "2509.25760"})
    assert known["paper"]["id"] == "2509.25760"
    assert len(known["paper"]["authors"]) == 4
    unknown = enrich(json.loads(json.dumps(item)), {})
    assert unknown["paper"]["id"] == "derived-abc"
    assert "thumbnail" not in unknown
