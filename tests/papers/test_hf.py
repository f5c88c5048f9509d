"""Importing Hugging Face Daily Papers from recorded responses served locally."""

import datetime as dt
import json

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from papers import tasks
from papers.ingestion import arxiv, hf
from papers.models import Organization, Paper, PaperTopic, Topic
from tests.papers.server import Reply, atom, fixture, recorded

pytestmark = pytest.mark.django_db
DAILY = "/hf/api/daily_papers"


def import_day(day="2025-09-30"):
    return hf.import_hf({"date": day})


def test_it_imports_a_day_with_and_without_organization_and_code_link(server):
    server.add(DAILY, fixture("hf_day.json"), date="2025-09-30")
    result = import_day()
    assert (result.created, result.updated, result.skipped) == (2, 0, 0)

    truth = Paper.objects.get(paper_id="2509.25760")
    assert truth.title == "TruthRL: Incentivizing Truthful LLMs via Reinforcement Learning"
    assert "\n" not in truth.abstract
    assert truth.organization.name == "facebook"
    assert truth.organization.display_name == "AI at Meta"
    assert truth.code_url == "https://github.com/facebookresearch/TruthRL"
    assert truth.project_url == "https://truthrl.github.io"
    assert (truth.upvotes, truth.comment_count, truth.code_stars) == (42, 3, 120)
    assert truth.authors == ["Zhepei Wei", "Xiao Yang"]  # the hidden author is counted, not named
    assert truth.author_count == 3
    assert truth.listed_on == dt.date(2025, 9, 30)
    assert truth.source == Paper.Source.HF
    assert truth.keywords == ["TruthRL", "reinforcement learning", "hallucination", "GRPO"]

    plain = Paper.objects.get(paper_id="2509.12345")
    assert plain.organization is None
    assert plain.code_url == ""
    assert plain.authors == ["Ada Lovelace", "Alan Turing"]


def test_imported_papers_get_topics_from_the_topic_definitions(server):
    server.add(DAILY, fixture("hf_day.json"))
    import_day()
    assert set(Topic.objects.filter(papers__paper_id="2509.12345").values_list("slug", flat=True)) >= {
        "speculative-decoding"
    }
    assert Topic.objects.filter(papers__paper_id="2509.25760", slug="hallucination").exists()


def test_importing_the_same_day_twice_changes_nothing(server):
    server.add(DAILY, fixture("hf_day.json"))
    with time_machine.travel("2025-10-01 06:15Z", tick=False):
        import_day()
    before = {
        p.paper_id: (p.last_imported_at, p.popularity_updated_at, p.first_seen_at)
        for p in Paper.objects.all()
    }
    links_before = list(PaperTopic.objects.values_list("pk", "topic_id", "score", "origin").order_by("pk"))
    with time_machine.travel("2025-10-02 06:15Z", tick=False):
        result = import_day()
    assert (result.created, result.updated, result.skipped) == (0, 0, 2)
    after = {
        p.paper_id: (p.last_imported_at, p.popularity_updated_at, p.first_seen_at)
        for p in Paper.objects.all()
    }
    assert after == before
    assert (
        list(PaperTopic.objects.values_list("pk", "topic_id", "score", "origin").order_by("pk"))
        == links_before
    )


def test_a_later_import_updates_upvotes_and_remembers_when(server):
    day = fixture("hf_day.json")
    more = Reply(day.body.replace(b'"upvotes": 42', b'"upvotes": 99'))
    server.add(DAILY, day, more)
    with time_machine.travel("2025-10-01 06:15Z", tick=False):
        import_day()
    with time_machine.travel("2025-10-01 17:00Z", tick=False):
        result = import_day()
    assert (result.created, result.updated) == (0, 1)
    paper = Paper.objects.get(paper_id="2509.25760")
    assert paper.upvotes == 99
    assert paper.popularity_updated_at == dt.datetime(2025, 10, 1, 17, tzinfo=dt.UTC)
    assert paper.first_seen_at == dt.datetime(2025, 10, 1, 6, 15, tzinfo=dt.UTC)
    assert Paper.objects.count() == 2


def test_an_import_never_overwrites_editor_decisions(server):
    server.add(DAILY, fixture("hf_day.json"), Reply(fixture("hf_day.json").body.replace(b"42", b"43")))
    import_day()
    paper = Paper.objects.get(paper_id="2509.25760")
    Paper.objects.filter(pk=paper.pk).update(featured=True, hidden=True, editor_note="Great <b>read</b>")
    hallucination = Topic.objects.get(slug="hallucination")
    unlearning = Topic.objects.get(slug="machine-unlearning")
    PaperTopic.objects.filter(paper=paper, topic=hallucination).update(
        origin=PaperTopic.Origin.EDITOR_REMOVED
    )
    PaperTopic.objects.create(paper=paper, topic=unlearning, origin=PaperTopic.Origin.EDITOR_ADDED, score=1)

    # The abstract changes at the source, so the paper is re-tagged.
    Topic.objects.filter(pk=hallucination.pk).update(keywords=["hallucination", "truthfulness"])
    Paper.objects.filter(pk=paper.pk).update(abstract="stale")
    result = import_day()

    paper.refresh_from_db()
    assert result.updated == 1
    assert paper.upvotes == 43
    assert (paper.featured, paper.hidden, paper.editor_note) == (True, True, "Great <b>read</b>")
    origins = dict(PaperTopic.objects.filter(paper=paper).values_list("topic__slug", "origin"))
    assert origins["hallucination"] == PaperTopic.Origin.EDITOR_REMOVED
    assert origins["machine-unlearning"] == PaperTopic.Origin.EDITOR_ADDED


def test_a_withdrawn_paper_is_hidden(server):
    server.add(DAILY, fixture("hf_day.json"), fixture("hf_withdrawn.json"))
    import_day()
    assert not Paper.objects.get(paper_id="2509.25760").hidden
    import_day()
    paper = Paper.objects.get(paper_id="2509.25760")
    assert paper.withdrawn
    assert paper.hidden


def test_an_empty_day_imports_nothing(server):
    server.add(DAILY, fixture("hf_empty_day.json"))
    result = hf.import_hf({"date": "2025-10-04"})
    assert (result.created, result.updated, result.skipped) == (0, 0, 0)
    assert len(server.requests_to(DAILY)) == 1


def test_it_follows_pages_until_a_short_one(server, monkeypatch):
    monkeypatch.setattr(hf, "PAGE_SIZE", 2)
    server.add(DAILY, fixture("hf_page_0.json"), p="0", limit="2")
    server.add(DAILY, fixture("hf_page_1.json"), p="1", limit="2")
    result = hf.import_hf({"week": "2025-W40"})
    assert result.created == 3
    assert [r.query["p"] for r in server.requests_to(DAILY)] == ["0", "1"]
    assert all(r.query["week"] == "2025-W40" for r in server.requests_to(DAILY))
    assert Paper.objects.get(paper_id="2510.00003").listed_on == dt.date(2025, 10, 1)


def test_it_waits_out_a_429_and_then_imports(server, settings):
    settings.PAPERS_HTTP_MAX_WAIT = 5
    server.add(DAILY, recorded("hf_429.json"), fixture("hf_day.json"))
    result = hf.import_hf({"date": "2025-09-30"}, http=hf.client())
    assert result.created == 2
    first, second = server.requests_to(DAILY)
    assert second.at - first.at >= 2  # RateLimit said t=2


def test_it_sends_the_token_when_one_is_configured(server, settings):
    settings.HF_TOKEN = "hf_secret"
    server.add(DAILY, fixture("hf_empty_day.json"))
    import_day()
    assert server.seen[0].headers["Authorization"] == "Bearer hf_secret"


def test_the_command_imports_yesterday_by_default(server):
    server.add(DAILY, fixture("hf_day.json"))
    with time_machine.travel("2025-10-01 06:15Z", tick=False):
        call_command("import_papers", "hf", stdout=(out := __import__("io").StringIO()))
    assert server.seen[0].query["date"] == "2025-09-30"
    assert out.getvalue() == "hf date=2025-09-30: 2 created, 0 updated, 0 skipped\n"


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Reply(b'[{"paper": {"id": "2509.1"'), r"hf: .*date=2025-09-30.*: line 1 column \d+: invalid JSON"),
        (Reply(b'{"error": "oops"}'), "expected a JSON array of papers, got dict"),
        (fixture("hf_error_page.html", content_type="text/html"), "got an HTML page instead of JSON"),
    ],
)
def test_bad_responses_fail_with_one_line_and_write_nothing(server, reply, message):
    server.add(DAILY, reply)
    with pytest.raises(CommandError, match=message) as error:
        call_command("import_papers", "hf", "--date", "2025-09-30")
    assert "\n" not in str(error.value)
    assert Paper.objects.count() == 0
    assert Organization.objects.count() == 0


def test_a_bad_item_on_the_second_page_writes_nothing_from_the_first(server, monkeypatch):
    monkeypatch.setattr(hf, "PAGE_SIZE", 2)
    server.add(DAILY, fixture("hf_page_0.json"), p="0")
    server.add(DAILY, Reply(b'[{"paper": {"id": "2510.9", "title": 5}}]'), p="1")
    with pytest.raises(
        CommandError, match=r"p=1.*: item 0 \(paper.id 2510.9\): paper.publishedAt is missing"
    ):
        call_command("import_papers", "hf", "--week", "2025-W40")
    assert Paper.objects.count() == 0


def test_the_command_rejects_a_malformed_date():
    with pytest.raises(CommandError, match="--date '2025-13-01' is not a date"):
        call_command("import_papers", "hf", "--date", "2025-13-01")


def test_an_editor_who_unhides_a_withdrawn_paper_is_not_overruled_by_later_imports(server):
    server.add(DAILY, fixture("hf_withdrawn.json"))
    server.add("/api/query", atom("arxiv_api.atom"))  # knows the paper, says nothing of withdrawal
    import_day()
    Paper.objects.filter(paper_id="2509.25760").update(hidden=False)  # the editor's call
    arxiv.import_ids(["2509.25760"])
    import_day()
    paper = Paper.objects.get(paper_id="2509.25760")
    assert paper.withdrawn  # no notice on arXiv is not a retraction of Hugging Face's
    assert not paper.hidden


def test_refreshing_a_paper_from_its_sources_rereads_its_hugging_face_day_and_arxiv(server):
    day = fixture("hf_day.json")
    later = json.loads(day.body)
    later[0]["paper"]["upvotes"] += 100
    later[0]["paper"]["githubRepo"] = "https://github.com/example/new-code"
    server.add(DAILY, day, Reply(json.dumps(later).encode()))
    server.add("/api/query", atom("arxiv_api.atom"))
    import_day()
    paper = Paper.objects.get(paper_id=later[0]["paper"]["id"].split("v")[0])
    before = paper.upvotes

    tasks.refresh_papers([paper.pk])

    paper.refresh_from_db()
    assert paper.upvotes == before + 100
    assert paper.code_url == "https://github.com/example/new-code"
    assert server.requests_to(DAILY)[-1].query["date"] == paper.listed_on.isoformat()
    assert server.requests_to("/api/query")  # arXiv was asked too
