"""Public pages come from the cache and are never stale after an import, a refresh or an editor's change."""

from datetime import date
from unittest.mock import patch

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from newsletter import links
from papers.ingestion.records import PaperRecord
from papers.ingestion.upsert import retag_recent, upsert_records
from papers.models import Paper
from papers.pagecache import LOCAL_PAGES, VERSION_KEY, storable
from tests.factories import make_paper, make_reader, make_topic

pytestmark = pytest.mark.django_db
DAY = date(2026, 11, 24)
HOME = reverse("home")


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel("2026-11-25 12:00Z", tick=False):
        yield


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run on-commit callbacks as a real commit would (the test's transaction never commits)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def staff():
    user = get_user_model().objects.create_superuser("editor", "editor@example.org", "pw")
    client = Client()
    client.force_login(user)
    return client


def titles(client, path=HOME, **params) -> list[str]:
    response = client.get(path, params)
    assert response.status_code == 200
    html = response.content.decode()
    return sorted((t for t in ("Alpha", "Beta", "Gamma") if t in html), key=html.index)


def test_a_second_visit_is_served_from_the_cache_without_queries(client, django_assert_num_queries):
    make_paper("Alpha", upvotes=5, listed_on=DAY)
    first = client.get(HOME)
    with django_assert_num_queries(0):
        second = client.get(HOME)
    # An error page would repeat itself too: the cached page is the real one.
    assert first.status_code == second.status_code == 200
    assert "Alpha" in second.text
    assert second.content == first.content


def test_a_change_nothing_announced_is_not_seen_which_shows_the_page_is_cached(client):
    paper = make_paper("Alpha", upvotes=5, listed_on=DAY)
    assert titles(client) == ["Alpha"]
    Paper.objects.filter(pk=paper.pk).update(title="Gamma")
    assert titles(client) == ["Alpha"]


def test_an_upvote_refresh_reorders_the_cached_page_at_once(client, committed):
    make_paper("Alpha", upvotes=50, listed_on=DAY, paper_id="2611.00001")
    make_paper("Beta", upvotes=10, listed_on=DAY, paper_id="2611.00002")
    assert titles(client) == ["Alpha", "Beta"]
    record = PaperRecord("2611.00002", "arxiv", "Beta", "hf", "2611.00002", DAY, upvotes=90)
    with committed():
        upsert_records([record])
    assert titles(client) == ["Beta", "Alpha"]


def test_an_import_of_a_new_paper_shows_on_the_cached_page(client, committed):
    make_paper("Alpha", upvotes=50, listed_on=DAY)
    assert titles(client) == ["Alpha"]
    with committed():
        upsert_records([PaperRecord("2611.09999", "arxiv", "Gamma", "hf", "2611.09999", DAY, upvotes=1)])
    assert titles(client) == ["Alpha", "Gamma"]


def test_re_tagging_after_a_topic_change_shows_on_the_cached_topic_page(client, committed):
    topic = make_topic("Robots", keywords=["gripper"])
    make_paper("Alpha gripper", abstract="A new gripper.", listed_on=DAY)
    path = reverse("topic", args=[topic.slug])
    assert "Alpha" not in client.get(path).content.decode()
    with committed():
        retag_recent(days=30)
    assert "Alpha" in client.get(path).content.decode()


def test_an_editor_action_in_the_admin_shows_on_the_cached_page_at_once(client, staff, committed):
    make_paper("Alpha", upvotes=50, listed_on=DAY)
    beta = make_paper("Beta", upvotes=10, listed_on=DAY)
    assert titles(client) == ["Alpha", "Beta"]
    changelist = reverse("admin:papers_paper_changelist")
    with committed():
        staff.post(changelist, {"action": "feature", "_selected_action": [beta.pk]})
    assert titles(client) == ["Beta", "Alpha"]
    with committed():
        staff.post(changelist, {"action": "hide", "_selected_action": [beta.pk]})
    assert titles(client) == ["Alpha"]


def test_an_editor_saving_a_paper_changes_its_cached_page(client, staff, committed):
    paper = make_paper("Alpha", listed_on=DAY)
    path = paper.get_absolute_url()
    assert "Gamma" not in client.get(path).content.decode()
    change = reverse("admin:papers_paper_change", args=[paper.pk])
    form = staff.get(change).context["adminform"].form
    data = {name: "" if form[name].value() is None else form[name].value() for name in form.fields}
    data.update(title="Gamma", authors="[]", categories="[]", keywords="[]")
    data.update({"topic_links-TOTAL_FORMS": 0, "topic_links-INITIAL_FORMS": 0})
    with committed():
        response = staff.post(change, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert "Gamma" in client.get(path).content.decode()


def test_signed_in_staff_never_get_or_fill_the_shared_cache(client, staff):
    paper = make_paper("Alpha", listed_on=DAY)
    assert titles(staff) == ["Alpha"]
    Paper.objects.filter(pk=paper.pk).update(title="Gamma")
    assert titles(staff) == ["Gamma"]
    assert titles(client) == ["Gamma"]


def test_a_paper_page_with_a_readers_own_buttons_is_never_shared(client):
    reader = make_reader("reader@example.org")
    paper = make_paper("Alpha", listed_on=DAY, authors=["Jane Doe"])
    url = paper.get_absolute_url()
    stranger = client.get(url).content.decode()  # fills the shared cache
    assert "Follow an author" not in stranger

    remembered = Client()
    remembered.cookies[settings.READER_COOKIE_NAME] = links.token_for(reader, "manage")
    page = remembered.get(url).content.decode()
    assert "Follow an author" in page
    assert "Follow an author" not in client.get(url).content.decode()


def test_the_next_day_a_cached_home_page_is_built_again(client):
    make_paper("Alpha", listed_on=DAY)
    assert titles(client) == ["Alpha"]
    make_paper("Beta", listed_on=date(2026, 11, 25))
    with time_machine.travel("2026-11-26 08:00Z", tick=False):
        assert titles(client) == ["Beta"]


def test_a_cached_page_keeps_the_headers_of_the_first_answer(client):
    make_paper("Alpha", listed_on=DAY)
    first = client.get(HOME)
    second = client.get(HOME)
    headers = ("Content-Type", "X-Frame-Options", "X-Content-Type-Options", "Content-Security-Policy")
    for header in headers:
        assert second[header] == first[header]
    assert "csrftoken" not in second.cookies


def test_a_page_another_web_process_stored_is_served_without_queries(client, django_assert_num_queries):
    make_paper("Alpha", listed_on=DAY)
    first = client.get(HOME)
    caches[LOCAL_PAGES].clear()  # this process never saw it: as if another process had built it
    with django_assert_num_queries(0):
        assert client.get(HOME).content == first.content


def test_a_second_visit_reads_only_the_catalogue_version_from_the_shared_cache(client):
    make_paper("Alpha", listed_on=DAY)
    client.get(HOME)
    shared = caches["default"]
    with patch.object(shared, "get", wraps=shared.get) as reads:
        assert titles(client) == ["Alpha"]
    assert [read.args[0] for read in reads.call_args_list] == [VERSION_KEY]


def test_a_cached_feed_keeps_the_links_of_the_host_it_was_asked_for(client, settings):
    settings.ALLOWED_HOSTS = ["papers.example.org", "mirror.example.org"]
    make_paper("Alpha", listed_on=DAY)
    path = reverse("feed-trending")
    assert "http://papers.example.org/" in client.get(path, HTTP_HOST="papers.example.org").content.decode()
    mirrored = client.get(path, HTTP_HOST="mirror.example.org").content.decode()
    assert "http://mirror.example.org/" in mirrored
    assert "papers.example.org" not in mirrored


def test_a_host_the_site_does_not_serve_is_refused_even_for_a_cached_page(client, settings):
    settings.ALLOWED_HOSTS = ["papers.example.org"]
    make_paper("Alpha", listed_on=DAY)
    assert client.get(HOME, HTTP_HOST="papers.example.org").status_code == 200
    assert client.get(HOME, HTTP_HOST="evil.example.net").status_code == 400


def test_answers_for_one_visitor_are_never_stored():
    personal = HttpResponse("hi")
    personal.set_cookie("csrftoken", "x")
    varies = HttpResponse("hi", headers={"Vary": "Accept-Encoding, Cookie"})
    assert storable(HttpResponse("hi"))
    assert not storable(personal)
    assert not storable(varies)
    assert not storable(HttpResponse("gone", status=404))
