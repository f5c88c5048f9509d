from tests.web.conftest import _own_cache_namespace  # noqa: F401  (rate-limit keys per test)
