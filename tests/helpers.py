"""Small helpers shared by tests."""

import time
from collections.abc import Callable


def wait_until(condition: Callable[[], object], timeout: float = 30, interval: float = 0.2):
    """Poll until condition() is truthy and return it; fail with a clear message on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")
