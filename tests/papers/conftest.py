import pytest

from tests.papers.server import FixtureServer


@pytest.fixture
def server(settings):
    """A local server standing in for Hugging Face and arXiv, with short waits."""
    fixture_server = FixtureServer().start()
    settings.PAPERS_HF_BASE_URL = fixture_server.url + "/hf"
    settings.PAPERS_ARXIV_RSS_URL = fixture_server.url + "/rss"
    settings.PAPERS_ARXIV_API_URL = fixture_server.url + "/api/query"
    settings.PAPERS_HTTP_BACKOFF = 0.01
    settings.PAPERS_HTTP_TIMEOUT = 2.0
    settings.PAPERS_ARXIV_MIN_INTERVAL = 0.05
    settings.HF_TOKEN = ""
    yield fixture_server
    fixture_server.stop()
