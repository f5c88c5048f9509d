"""Seed papers the catalogue lacks are fetched from arXiv by a real worker, never in the request."""

import pytest
from django.conf import settings
from django.test import Client

from newsletter import digest_signals, links
from newsletter.models import SeedPaper
from papers.models import Paper
from tests.factories import make_reader, make_topic, manage_data
from tests.helpers import wait_until
from tests.papers.server import atom

pytestmark = pytest.mark.celery
API = "/api/query"


@pytest.fixture
def worker(server, start_worker):
    return start_worker(
        PAPERS_ARXIV_API_URL=settings.PAPERS_ARXIV_API_URL,
        PAPERS_ARXIV_MIN_INTERVAL="0.05",
        PAPERS_HTTP_BACKOFF="0.01",
    )


def test_unknown_seed_papers_are_imported_in_the_background_and_join_the_readers_seeds(server, worker):
    slow = atom("arxiv_api.atom")
    slow.delay = 2.0  # arXiv takes its time: the reader's page must not wait for it
    server.add(API, slow)
    reader = make_reader(topics=[make_topic("Tiny robots")])
    data = manage_data(seed_papers="https://arxiv.org/abs/2509.25760v3")
    response = Client().post(links.path_for(reader, "manage"), data)

    assert response.status_code == 200
    assert SeedPaper.objects.get().arxiv_id == "2509.25760"
    assert not Paper.objects.exists()  # answered before arXiv did
    wait_until(lambda: Paper.objects.filter(paper_id="2509.25760").exists())
    assert server.seen[0].query["id_list"] == "2509.25760"
    taught = digest_signals.taught_by([reader.pk])
    library, _ = digest_signals.library_and_pins(taught, set())
    assert digest_signals.seed_pks(taught, library) == {
        reader.pk: (Paper.objects.get(paper_id="2509.25760").pk,)
    }
