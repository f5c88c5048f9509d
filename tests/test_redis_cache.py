"""The Redis cache: Django's backend, building one redis-py client per connection pool."""

import uuid

import pytest
from django.conf import settings
from django.core.cache import caches

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="the Redis cache needs REDIS_URL")


def test_the_cache_works_through_one_client_built_once():
    backend = caches["default"]
    key = f"paperboy:test:{uuid.uuid4().hex}"
    try:
        backend.set(key, {"n": 1}, 30)
        assert backend.get(key) == {"n": 1}
        assert backend.add(f"{key}:count", 0, 30)
        assert backend.incr(f"{key}:count") == 1
        assert backend._cache.get_client() is backend._cache.get_client(key, write=True)
    finally:
        backend.delete_many([key, f"{key}:count"])
