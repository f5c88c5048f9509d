"""The scheduled import tasks run by a real Celery worker against the local fixture server."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from papers import tasks
from papers.models import Paper
from tests.helpers import wait_until
from tests.papers.server import atom, fixture

pytestmark = pytest.mark.celery
DAILY = "/hf/api/daily_papers"


@pytest.fixture
def worker(server, start_worker):
    """A worker whose importers talk to the fixture server, as the test process's do."""
    return start_worker(
        PAPERS_HF_BASE_URL=settings.PAPERS_HF_BASE_URL,
        PAPERS_ARXIV_RSS_URL=settings.PAPERS_ARXIV_RSS_URL,
        PAPERS_ARXIV_API_URL=settings.PAPERS_ARXIV_API_URL,
        PAPERS_ARXIV_MIN_INTERVAL="0.05",
        PAPERS_HTTP_BACKOFF="0.01",
        HF_TOKEN="",
    )


def test_the_morning_import_fetches_yesterday_from_hugging_face(server, worker):
    yesterday = (timezone.now() - timedelta(days=1)).date().isoformat()
    server.add(DAILY, fixture("hf_day.json"), date=yesterday)
    tasks.import_hf_previous_day.delay()
    wait_until(lambda: Paper.objects.filter(listed_on=yesterday).count() == 2)
    assert {s.query["date"] for s in server.requests_to(DAILY)} == {yesterday}


def test_the_upvote_refresh_re_reads_each_recent_day(server, worker):
    server.add(DAILY, fixture("hf_empty_day.json"))
    tasks.refresh_hf_recent_days.delay(days=3)
    today = timezone.now().date()
    expected = {(today - timedelta(days=back)).isoformat() for back in range(3)}
    wait_until(lambda: {s.query["date"] for s in server.requests_to(DAILY)} == expected)


def test_the_arxiv_import_reads_the_configured_categories_in_one_request(server, worker):
    feed = "/rss/atom/" + "+".join(settings.PAPERS_ARXIV_CATEGORIES)
    server.add(feed, atom("arxiv_feed.atom"))
    tasks.import_arxiv_feed.delay()
    wait_until(lambda: Paper.objects.filter(paper_id="2510.01001").exists())
    assert len(server.requests_to(feed)) == 1
