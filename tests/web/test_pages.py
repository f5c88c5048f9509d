"""The public pages: trending by day / week / month, search, topic filter, paper and topic pages."""

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from papers.models import Organization, PaperTopic
from papers.views import period_bounds, step
from tests.factories import make_paper, make_topic

DAY = date(2026, 11, 24)  # a Tuesday


# --- Pure date helpers: no database ---------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "bounds"),
    [
        ("day", (DAY, DAY)),
        ("week", (date(2026, 11, 23), date(2026, 11, 29))),
        ("month", (date(2026, 11, 1), date(2026, 11, 30))),
    ],
)
def test_a_period_covers_the_day_its_iso_week_or_its_month(period, bounds):
    assert period_bounds(DAY, period) == bounds


def test_previous_and_next_step_by_whole_periods():
    assert step(DAY, "day", -1) == date(2026, 11, 23)
    assert step(DAY, "week", 1) == date(2026, 11, 30)
    assert step(DAY, "week", -1) == date(2026, 11, 16)
    assert step(date(2026, 3, 31), "month", -1) == date(2026, 2, 1)
    assert step(date(2026, 12, 15), "month", 1) == date(2027, 1, 1)


# --- Pages ----------------------------------------------------------------------------------

db = pytest.mark.django_db


def titles(response) -> list[str]:
    return [paper.title for paper in response.context["page"]]


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel("2026-11-25 12:00Z", tick=False):
        yield


@db
def test_the_home_page_ranks_editor_picks_first_then_upvotes_and_never_shows_hidden_papers(client):
    make_paper("Popular", upvotes=90, listed_on=DAY)
    make_paper("Picked", upvotes=3, featured=True, listed_on=DAY)
    make_paper("Quiet", upvotes=10, listed_on=DAY)
    make_paper("Secret", upvotes=500, hidden=True, listed_on=DAY)
    make_paper("Yesterday", upvotes=1000, listed_on=date(2026, 11, 23))
    response = client.get(reverse("home"), {"date": "2026-11-24"})
    assert response.status_code == 200
    assert titles(response) == ["Picked", "Popular", "Quiet"]
    page = response.content.decode()
    assert "Secret" not in page
    assert "Editor’s pick" in page
    assert "Get trending papers in your inbox" in page


@db
def test_the_home_page_defaults_to_the_latest_day_with_papers(client):
    make_paper("Monday paper", listed_on=date(2026, 11, 23))
    make_paper("Hidden newer", listed_on=DAY, hidden=True)
    response = client.get(reverse("home"))
    assert response.context["day"] == date(2026, 11, 23)
    assert titles(response) == ["Monday paper"]


@db
def test_each_entry_shows_what_a_reader_needs(client):
    topic = make_topic("Tiny robots", slug="tiny-robots")
    org = Organization.objects.create(name="lab", display_name="The Lab")
    make_paper(
        "With everything",
        topics=[topic],
        organization=org,
        upvotes=42,
        paper_id="2611.01234",
        abstract="We study " + "robots " * 100,
        code_url="https://github.com/lab/code",
        listed_on=DAY,
    )
    make_paper("By people", author_count=7, listed_on=DAY)
    page = client.get(reverse("home"), {"date": "2026-11-24"}).content.decode()
    assert "The Lab" in page
    assert "7 authors" in page
    assert "Nov 24, 2026" in page
    assert "<strong>42</strong>" in page
    assert 'href="/topics/tiny-robots/"' in page
    assert "We study robots" in page
    assert "…" in page
    assert 'href="/papers/2611.01234/"' in page
    assert 'href="https://arxiv.org/abs/2611.01234"' in page
    assert 'href="https://github.com/lab/code"' in page


@db
def test_an_empty_day_says_so(client):
    make_paper("Other day", listed_on=DAY)
    response = client.get(reverse("home"), {"date": "2026-11-22"})
    assert response.status_code == 200
    assert "No papers were listed on Sunday, November 22, 2026" in response.content.decode()


@db
def test_week_and_month_views_cover_their_whole_period(client):
    make_paper("Monday", listed_on=date(2026, 11, 23), upvotes=1)
    make_paper("Sunday", listed_on=date(2026, 11, 29), upvotes=2)
    make_paper("Early November", listed_on=date(2026, 11, 2), upvotes=3)
    week = client.get(reverse("home"), {"date": "2026-11-24", "period": "week"})
    assert titles(week) == ["Sunday", "Monday"]
    month = client.get(reverse("home"), {"date": "2026-11-24", "period": "month"})
    assert titles(month) == ["Early November", "Sunday", "Monday"]


@db
def test_previous_and_next_links_keep_the_filters_and_stop_at_today(client):
    topic = make_topic("Tiny robots", slug="tiny-robots")
    past = client.get(reverse("home"), {"date": "2026-11-20", "topic": "tiny-robots"}).content.decode()
    assert "date=2026-11-19&amp;topic=tiny-robots" in past
    assert "date=2026-11-21&amp;topic=tiny-robots" in past
    today = client.get(reverse("home"), {"date": "2026-11-25", "topic": topic.slug})
    assert today.context["next_day"] is None
    assert 'aria-disabled="true">Next day' in today.content.decode()


@db
def test_the_topic_filter_uses_applied_topics_only(client):
    topic = make_topic("Tiny robots", slug="tiny-robots")
    make_paper("Tagged", topics=[topic], listed_on=DAY)
    removed = make_paper("Untagged by an editor", topics=[topic], listed_on=DAY)
    PaperTopic.objects.filter(paper=removed).update(origin=PaperTopic.Origin.EDITOR_REMOVED)
    make_paper("Unrelated", listed_on=DAY)
    response = client.get(reverse("home"), {"date": "2026-11-24", "topic": "tiny-robots"})
    assert titles(response) == ["Tagged"]
    assert 'href="/topics/tiny-robots/"' not in client.get(removed.get_absolute_url()).content.decode()


@db
def test_search_matches_every_word_in_title_or_abstract_across_days(client):
    make_paper("Speculative decoding at scale", listed_on=date(2026, 10, 1))
    make_paper("Faster inference", abstract="We revisit speculative decoding.", listed_on=DAY)
    make_paper("Speculative execution", listed_on=DAY)
    make_paper("Speculative decoding, hidden", hidden=True, listed_on=DAY)
    response = client.get(reverse("home"), {"q": "  speculative   DECODING "})
    assert sorted(titles(response)) == ["Faster inference", "Speculative decoding at scale"]
    assert "Papers matching “speculative DECODING”" in response.content.decode()
    none = client.get(reverse("home"), {"q": "zebra"})
    assert "No papers match “zebra”" in none.content.decode()


@db
@pytest.mark.parametrize(
    ("params", "status"),
    [({"date": "2026-13-45"}, 400), ({"period": "year"}, 400), ({"topic": "no-such-topic"}, 404)],
)
def test_bad_parameters_get_a_clear_error(client, params, status):
    response = client.get(reverse("home"), params)
    assert response.status_code == status
    if status == 400:
        assert "We could not show that page" in response.content.decode()


@db
def test_the_home_page_runs_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    topics = [make_topic() for _ in range(3)]
    for n in range(25):
        make_paper(
            f"P{n}", topics=topics, listed_on=DAY, organization=Organization.objects.create(name=f"o{n}")
        )
    with django_assert_max_num_queries(8):
        response = client.get(reverse("home"), {"date": "2026-11-24"})
    # A cheap error page or redirect would pass the count too.
    assert response.status_code == 200
    assert "P24" in response.text


@db
def test_the_paper_page_shows_the_paper_and_hides_hidden_ones(client):
    paper = make_paper(
        "A visible paper",
        abstract="Full abstract here.",
        authors=["Ada", "Alan"],
        paper_id="solv-int/9901001",
    )
    hidden = make_paper("A hidden paper", hidden=True)
    page = client.get(reverse("paper", args=[paper.paper_id]))
    assert page.status_code == 200
    assert "Full abstract here." in page.content.decode()
    assert "Ada, Alan" in page.content.decode()
    assert client.get(hidden.get_absolute_url()).status_code == 404


@db
def test_topic_pages_list_their_papers_and_inactive_topics_are_gone(client):
    topic = make_topic("Tiny robots", slug="tiny-robots", description="Small machines.")
    make_paper("Robot paper", topics=[topic])
    make_paper("Hidden robot paper", topics=[topic], hidden=True)
    page = client.get(reverse("topic", args=["tiny-robots"])).content.decode()
    assert "Small machines." in page
    assert "Robot paper" in page
    assert "Hidden robot paper" not in page
    retired = make_topic("Retired", slug="retired", active=False)
    assert client.get(retired.get_absolute_url()).status_code == 404
    assert "Tiny robots" in client.get(reverse("topics")).content.decode()


def test_unknown_pages_and_unreadable_requests_get_the_site_s_own_error_pages(client, settings):
    settings.DEBUG = False
    missing = client.get("/no/such/page/")
    assert missing.status_code == 404
    assert "Nothing here" in missing.content.decode()
    assert 'href="/subscribe/"' in missing.content.decode()  # the site's layout and links
    # Past Django's own limit on a form's size, before any view runs.
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    refused = client.post("/subscribe/", {f"f{n}": "x" for n in range(10)})
    assert refused.status_code == 400
    assert "nothing was saved" in refused.content.decode()


def test_a_server_error_page_needs_neither_the_database_nor_a_request():
    from django.template.loader import render_to_string

    page = render_to_string("500.html")
    assert "Something went wrong" in page
    assert 'href="/"' in page


@db
def test_next_day_stops_at_the_newest_day_with_papers(client):
    make_paper("Monday", listed_on=date(2026, 11, 23))
    newest = client.get(reverse("home"), {"date": "2026-11-23"})
    assert newest.context["next_day"] is None
    assert 'aria-disabled="true">Next day' in newest.content.decode()
    older = client.get(reverse("home"), {"date": "2026-11-20"})
    assert older.context["next_day"] == date(2026, 11, 21)


@db
def test_a_search_without_results_suggests_other_words_not_the_previous_day(client):
    topic = make_topic("Tiny robots", slug="tiny-robots")
    page = client.get(reverse("home"), {"q": "zebra", "topic": topic.slug}).content.decode()
    assert "Try fewer or different words" in page
    assert "previous day" not in page
    assert "search every topic" in page
    assert 'href="/archive/"' in page


@db
def test_the_topic_list_counts_each_topic_s_visible_papers(client):
    robots = make_topic("Tiny robots")
    make_topic("Empty topic")
    make_paper("Robot paper", topics=[robots])
    make_paper("Hidden robot paper", topics=[robots], hidden=True)
    removed = make_paper("Untagged", topics=[robots])
    PaperTopic.objects.filter(paper=removed).update(origin=PaperTopic.Origin.EDITOR_REMOVED)
    page = client.get(reverse("topics")).content.decode()
    assert 'Tiny robots</strong> <span class="count">1 paper</span>' in page
    assert 'Empty topic</strong> <span class="count">0 papers</span>' in page


@db
def test_the_archive_lists_every_day_with_papers_by_month_and_every_page_links_to_it(client):
    make_paper("A", listed_on=date(2026, 11, 24))
    make_paper("B", listed_on=date(2026, 11, 24))
    make_paper("C", listed_on=date(2026, 10, 30))
    make_paper("Hidden", listed_on=date(2026, 9, 1), hidden=True)
    response = client.get(reverse("archive"))
    months = response.context["months"]
    assert [(m.first, m.days, m.paper_count) for m in months] == [
        (date(2026, 11, 1), [(date(2026, 11, 24), 2)], 2),
        (date(2026, 10, 1), [(date(2026, 10, 30), 1)], 1),
    ]
    page = response.content.decode()
    assert "?period=month&amp;date=2026-11-01" in page
    assert "?date=2026-10-30" in page
    for path in (reverse("home"), reverse("topics"), reverse("subscribe"), reverse("archive")):
        assert 'href="/archive/"' in client.get(path).content.decode()
