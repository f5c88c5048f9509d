"""arXiv: the announcement feed and the query API, from recorded responses served locally."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from papers.ingestion import arxiv
from papers.models import Paper
from tests.papers.server import Reply, atom, fixture

pytestmark = pytest.mark.django_db
FEED = "/rss/atom/cs.CL+cs.LG"
API = "/api/query"


def test_the_feed_creates_new_and_cross_listed_papers_and_updates_replaced_ones(server):
    server.add("/hf/api/daily_papers", fixture("hf_day.json"))
    call_command("import_papers", "hf", "--date", "2025-09-30")
    server.add(FEED, atom("arxiv_feed.atom"))

    result = arxiv.import_feed(["cs.CL", "cs.LG"])

    # new + cross created; replace updated (a version we had); replace-cross of an unknown paper skipped
    assert (result.created, result.updated, result.skipped) == (2, 1, 1)
    new = Paper.objects.get(paper_id="2510.01001")
    assert new.authors == ["Grace Hopper", "Edsger W. Dijkstra", "Barbara Liskov"]
    assert new.abstract.startswith("Large language models hallucinate.")
    assert new.categories == ["cs.CL", "cs.LG"]
    assert new.primary_category == "cs.CL"
    assert new.version == 1
    assert new.listed_on == dt.date(2025, 10, 1)
    assert Paper.objects.get(paper_id="2510.01002").primary_category == "cs.RO"
    replaced = Paper.objects.get(paper_id="2509.25760")
    assert replaced.version == 2
    assert replaced.categories == ["cs.CL", "cs.AI"]
    assert replaced.upvotes == 42  # arXiv knows nothing of upvotes: Hugging Face's count stays
    assert not Paper.objects.filter(paper_id="2401.00999").exists()


def test_feed_papers_are_tagged_by_category_and_phrase(server):
    server.add(FEED, atom("arxiv_feed.atom"))
    arxiv.import_feed(["cs.CL", "cs.LG"])
    slugs = set(Paper.objects.get(paper_id="2510.01002").topics.values_list("slug", flat=True))
    assert {"robotics", "nlp"} <= slugs


def test_an_empty_feed_on_a_weekend_imports_nothing(server):
    server.add("/rss/atom/cs.CL", atom("arxiv_feed_empty.atom"))
    result = arxiv.import_feed(["cs.CL"])
    assert (result.created, result.updated, result.skipped) == (0, 0, 0)


def test_reimporting_the_feed_changes_nothing(server):
    server.add(FEED, atom("arxiv_feed.atom"))
    arxiv.import_feed(["cs.CL", "cs.LG"])
    result = arxiv.import_feed(["cs.CL", "cs.LG"])
    assert (result.created, result.updated) == (0, 0)


def test_the_api_imports_by_id_including_old_style_ids_and_withdrawals(server):
    server.add(API, atom("arxiv_api.atom"))
    result = arxiv.import_ids(["2509.25760", "solv-int/9901001"])
    assert result.created == 2
    assert server.seen[0].query == {"id_list": "2509.25760,solv-int/9901001", "max_results": "2"}
    truth = Paper.objects.get(paper_id="2509.25760")
    assert truth.version == 3
    assert truth.categories == ["cs.CL", "cs.AI", "cs.LG"]
    assert truth.published_at == dt.datetime(2025, 9, 30, 4, 12, 33, tzinfo=dt.UTC)
    old = Paper.objects.get(paper_id="solv-int/9901001")
    assert old.withdrawn
    assert old.hidden
    assert old.version == 1


def test_refresh_updates_only_papers_we_have(server):
    server.add(API, atom("arxiv_api.atom"))
    server.add("/hf/api/daily_papers", fixture("hf_day.json"))
    call_command("import_papers", "hf", "--date", "2025-09-30")
    pks = list(Paper.objects.values_list("pk", flat=True))
    result = arxiv.refresh_papers(pks)
    assert (result.created, result.updated) == (0, 1)
    assert not Paper.objects.filter(paper_id="solv-int/9901001").exists()


def test_an_api_error_response_fails_with_its_message(server):
    server.add(API, atom("arxiv_api_error.atom", status=400))
    with pytest.raises(
        CommandError, match="arxiv: .*/api/query.*HTTP 400: incorrect id format for 1234.12345x"
    ):
        call_command("import_papers", "arxiv", "--ids", "1234.12345x")


def test_an_error_entry_in_a_successful_response_fails_too(server):
    server.add(API, atom("arxiv_api_error.atom"))
    with pytest.raises(CommandError, match="arXiv API error: incorrect id format"):
        call_command("import_papers", "arxiv", "--ids", "1234.12345x")


def test_malformed_xml_fails_with_the_line_and_writes_nothing(server):
    broken = atom("arxiv_feed.atom").body.replace(b"</title>", b"</titel>", 3)
    server.add(FEED, Reply(broken, headers={"Content-Type": "application/atom+xml"}))
    with pytest.raises(
        CommandError, match=r"arxiv: .*/rss/atom/cs.CL\+cs.LG: line \d+ column \d+: malformed XML"
    ):
        call_command("import_papers", "arxiv", "--categories", "cs.CL,cs.LG")
    assert Paper.objects.count() == 0


@pytest.mark.parametrize("published", [b"9999-12-31T23:59:59-14:00", b"0001-01-01T00:00:00+14:00"])
def test_an_entry_dated_outside_1900_to_2999_names_the_entry_and_writes_nothing(server, published):
    original = b"<published>2025-10-01T00:00:00-04:00"
    body = atom("arxiv_feed.atom").body.replace(original, b"<published>" + published, 1)
    server.add(FEED, Reply(body))
    with pytest.raises(CommandError, match=r"entry 0: <published> is not a date in 1900-2999: '"):
        call_command("import_papers", "arxiv", "--categories", "cs.CL,cs.LG")
    assert Paper.objects.count() == 0


def test_an_entry_missing_its_title_names_the_entry(server):
    body = atom("arxiv_feed.atom").body.replace(
        b"<title>Robots That Learn From Language Feedback</title>", b""
    )
    server.add(FEED, Reply(body))
    with pytest.raises(CommandError, match=r"entry 1: <title> is missing"):
        call_command("import_papers", "arxiv", "--categories", "cs.CL,cs.LG")
    assert Paper.objects.count() == 0


def test_requests_to_arxiv_share_one_connection_and_keep_their_distance(server, settings):
    settings.PAPERS_ARXIV_MIN_INTERVAL = 0.3
    server.add(API, atom("arxiv_api.atom"))
    server.add("/rss/atom/cs.CL", atom("arxiv_feed_empty.atom"))
    arxiv.import_ids(["2509.25760"])
    arxiv.import_feed(["cs.CL"])
    arxiv.import_ids(["2509.25760"])
    first, second, third = server.seen
    assert first.client_port == second.client_port == third.client_port
    assert second.at - first.at >= 0.25
    assert third.at - second.at >= 0.25


def test_the_command_rejects_something_that_is_not_a_category():
    with pytest.raises(CommandError, match="not arXiv categories: cs CL"):
        call_command("import_papers", "arxiv", "--categories", "cs CL")
