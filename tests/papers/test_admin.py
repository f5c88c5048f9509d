"""Curation in the admin, driven through the test client as a logged-in superuser."""

import pytest
from django.urls import reverse

from papers.ingestion.upsert import upsert_records
from papers.models import Paper, PaperTopic, Topic

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:papers_paper_changelist")


@pytest.fixture
def editor(client, django_user_model):
    user = django_user_model.objects.create_superuser("editor", "editor@example.com", "pw")
    client.force_login(user)
    return client


def paper(paper_id: str, title: str, **fields) -> Paper:
    from datetime import date

    fields = {"listed_on": date(2025, 9, 30), "source": "hf", **fields}
    return Paper.objects.create(paper_id=paper_id, title=title, **fields)


def act(client, action: str, papers, **extra):
    data = {"action": action, "_selected_action": [p.pk for p in papers], **extra}
    return client.post(CHANGELIST, data, follow=True)


def test_the_changelist_shows_what_an_editor_scans_and_escapes_editor_text(editor):
    p = paper("2509.1", "<script>alert(1)</script> Robust agents", upvotes=12, editor_note="<b>note</b>")
    topic = Topic.objects.create(name="<i>Evil</i> topic", slug="evil")
    PaperTopic.objects.create(paper=p, topic=topic)
    html = editor.get(CHANGELIST).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Robust agents" in html
    assert "<script>alert(1)" not in html
    assert "&lt;i&gt;Evil&lt;/i&gt; topic" in html
    change = editor.get(reverse("admin:papers_paper_change", args=[p.pk])).content.decode()
    assert "&lt;b&gt;note&lt;/b&gt;" in change
    assert "<b>note</b>" not in change


def test_search_finds_papers_by_title_author_and_id(editor):
    paper("2509.1", "Speculative decoding", authors=["Ada Lovelace"])
    paper("2509.2", "Something else")
    for query in ["speculative", "lovelace", "2509.1"]:
        response = editor.get(CHANGELIST, {"q": query})
        assert [p.paper_id for p in response.context["cl"].result_list] == ["2509.1"]


def test_search_finds_papers_by_words_in_the_abstract(editor):
    paper("2509.1", "Plain title", abstract="We study speculative decoding for small drafts.")
    paper("2509.2", "Other", abstract="Nothing related.")
    response = editor.get(CHANGELIST, {"q": "drafts"})
    assert [p.paper_id for p in response.context["cl"].result_list] == ["2509.1"]


def test_filters_by_date_organization_source_featured_and_hidden(editor):
    from datetime import date

    from papers.models import Organization

    meta = Organization.objects.create(name="facebook", display_name="AI at Meta")
    paper("1", "Old arXiv", source="arxiv")
    paper("2", "Meta pick", organization=meta, featured=True)
    paper("3", "Hidden", hidden=True)
    Paper.objects.filter(paper_id="1").update(listed_on=date(2025, 8, 1))

    def titles(**query):
        return sorted(p.title for p in editor.get(CHANGELIST, query).context["cl"].result_list)

    assert titles(listed_on__gte="2025-09-01", listed_on__lt="2025-10-01") == ["Hidden", "Meta pick"]
    assert titles(organization__id__exact=meta.pk) == ["Meta pick"]
    assert titles(source__exact="arxiv") == ["Old arXiv"]
    assert titles(featured__exact="1") == ["Meta pick"]
    assert titles(hidden__exact="1") == ["Hidden"]


def test_provenance_is_shown_but_cannot_be_edited(editor):
    p = paper("2509.1", "A", source_raw_id="2509.1v2")
    page = editor.get(reverse("admin:papers_paper_change", args=[p.pk]))
    form_fields = page.context["adminform"].form.fields
    assert "2509.1v2" in page.content.decode()
    for name in ("source", "source_raw_id", "imported_at", "withdrawn"):
        assert name not in form_fields


def test_the_topic_filter_ignores_topics_an_editor_removed(editor):
    topic = Topic.objects.get(slug="hallucination")
    kept, removed = paper("1", "Kept"), paper("2", "Removed")
    PaperTopic.objects.create(paper=kept, topic=topic)
    PaperTopic.objects.create(paper=removed, topic=topic, origin=PaperTopic.Origin.EDITOR_REMOVED)
    response = editor.get(CHANGELIST, {"topic": topic.pk})
    assert [p.title for p in response.context["cl"].result_list] == ["Kept"]


def test_bulk_feature_unfeature_hide_and_unhide(editor):
    a, b = paper("1", "A"), paper("2", "B")
    act(editor, "feature", [a, b])
    assert Paper.objects.filter(featured=True).count() == 2
    act(editor, "unfeature", [a])
    assert list(Paper.objects.filter(featured=True).values_list("title", flat=True)) == ["B"]
    act(editor, "hide", [a, b])
    assert Paper.objects.filter(hidden=True).count() == 2
    response = act(editor, "unhide", [b])
    assert list(Paper.objects.filter(hidden=True).values_list("title", flat=True)) == ["A"]
    assert "1 paper(s) no longer hidden." in response.content.decode()


def test_adding_a_topic_asks_for_the_topic_then_sticks(editor):
    a, b = paper("1", "A"), paper("2", "B")
    topic = Topic.objects.get(slug="gui-agents")
    chooser = act(editor, "add_topic", [a, b])
    assert "Choose a topic" in chooser.content.decode()
    assert PaperTopic.objects.count() == 0

    act(editor, "add_topic", [a, b], apply="1", topic=topic.pk)
    assert set(PaperTopic.objects.values_list("paper__title", "origin")) == {
        ("A", PaperTopic.Origin.EDITOR_ADDED),
        ("B", PaperTopic.Origin.EDITOR_ADDED),
    }


def test_removing_a_topic_survives_retagging_on_reimport(editor, server):
    from tests.papers.server import fixture

    server.add("/hf/api/daily_papers", fixture("hf_day.json"))
    from papers.ingestion import hf

    hf.import_hf({"date": "2025-09-30"})
    truth = Paper.objects.get(paper_id="2509.25760")
    topic = Topic.objects.get(slug="hallucination")
    assert PaperTopic.objects.get(paper=truth, topic=topic).origin == PaperTopic.Origin.AUTO

    act(editor, "remove_topic", [truth], apply="1", topic=topic.pk)
    Paper.objects.filter(pk=truth.pk).update(abstract="changed, so the import re-tags it")
    assert hf.import_hf({"date": "2025-09-30"}).updated == 1
    assert PaperTopic.objects.get(paper=truth, topic=topic).origin == PaperTopic.Origin.EDITOR_REMOVED
    assert not truth.topics.filter(paper_links__origin="auto", slug="hallucination").exists()


def test_refresh_from_source_is_queued_after_commit(editor, django_capture_on_commit_callbacks):
    a = paper("2509.25760", "A")
    with django_capture_on_commit_callbacks() as callbacks:
        response = act(editor, "refresh_from_source", [a])
    assert len(callbacks) == 1
    assert "Refresh of 1 paper(s) queued" in response.content.decode()


def test_deleting_a_topic_inline_records_the_editors_removal(editor):
    p = paper("1", "A")
    topic = Topic.objects.get(slug="gui-agents")
    link = PaperTopic.objects.create(paper=p, topic=topic)
    url = reverse("admin:papers_paper_change", args=[p.pk])
    form = editor.get(url).context["adminform"].form
    data = {
        k: v
        for k, v in form.initial.items()
        if v is not None and k not in ("authors", "categories", "keywords")
    }
    data.update(
        authors="[]", categories="[]", keywords="[]", listed_on="2025-09-30", abstract="", editor_note="",
        **{
            "topic_links-TOTAL_FORMS": "1", "topic_links-INITIAL_FORMS": "1",
            "topic_links-0-id": link.pk, "topic_links-0-paper": p.pk, "topic_links-0-topic": topic.pk,
            "topic_links-0-origin": "auto", "topic_links-0-DELETE": "on",
        },
    )  # fmt: skip
    response = editor.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    link.refresh_from_db()
    assert link.origin == PaperTopic.Origin.EDITOR_REMOVED


def test_topic_admin_counts_papers(editor):
    upsert_records([])
    topic = Topic.objects.get(slug="gui-agents")
    for i in range(3):
        PaperTopic.objects.create(paper=paper(str(i), f"P{i}"), topic=topic)
    PaperTopic.objects.filter(paper__title="P0").update(origin=PaperTopic.Origin.EDITOR_REMOVED)
    response = editor.get(reverse("admin:papers_topic_changelist"), {"q": "GUI agents"})
    [row] = response.context["cl"].result_list
    assert row.paper_count == 2


def test_a_changed_topic_definition_re_tags_recent_papers_and_keeps_editor_choices(
    editor, django_capture_on_commit_callbacks
):
    topic = Topic.objects.create(name="Marsupials", slug="marsupials", keywords=["kangaroo"])
    forgetting = paper("2509.7", "Tracking wombats", abstract="Wombat burrows from drones.")
    vetoed = paper("2509.8", "Wombat-shaped cubes", abstract="A wombat puzzle.")
    PaperTopic.objects.create(paper=vetoed, topic=topic, origin=PaperTopic.Origin.EDITOR_REMOVED)

    url = reverse("admin:papers_topic_change", args=[topic.pk])
    data = {"name": topic.name, "slug": topic.slug, "description": "", "keywords": '["wombat"]'}
    with django_capture_on_commit_callbacks() as callbacks:
        editor.post(url, {**data, "categories": "[]", "active": "on", "position": 0})
    assert len(callbacks) == 1  # the background re-tag is queued after commit

    from papers.ingestion.upsert import retag_recent

    assert retag_recent(30) == 2
    assert list(forgetting.topics.all()) == [topic]
    assert PaperTopic.objects.get(paper=vetoed).origin == PaperTopic.Origin.EDITOR_REMOVED


def test_the_re_tag_action_applies_current_topic_definitions(editor):
    p = paper("2509.9", "Quokka herding at scale")
    topic = Topic.objects.create(name="Marsupials", slug="marsupials", keywords=["quokka"])
    act(editor, "retag", [p])
    assert list(p.topics.all()) == [topic]
