import uuid

import pytest


@pytest.fixture(autouse=True)
def _own_cache_namespace(settings, tmp_path):
    """Rate-limit counters live in the shared cache; give each test keys no other test sees.

    The embedded file cache also gets its own directory: it culls random entries once a shared
    directory fills up, which would reset counters mid-test."""
    caches = {}
    for name, config in settings.CACHES.items():
        config = {**config, "KEY_PREFIX": f"test-{uuid.uuid4().hex[:8]}"}
        if config["BACKEND"].endswith("FileBasedCache"):
            config["LOCATION"] = str(tmp_path / f"cache-{name}")
        caches[name] = config
    settings.CACHES = caches
    settings.SIGNUP_MIN_SECONDS = 3
    settings.SIGNUP_LIMIT_PER_IP_PER_HOUR = 20
    settings.SIGNUP_LIMIT_PER_ADDRESS_PER_HOUR = 5
    settings.SIGNUP_EMAILS_PER_ADDRESS_PER_DAY = 3
    settings.SITE_URL = "https://papers.example.org"
