"""Small helpers shared by tests."""

import time
from collections.abc import Callable

from newsletter.models import SubscriptionEmail


def wait_until(condition: Callable[[], object], timeout: float = 30, interval: float = 0.2):
    """Poll until condition() is truthy and return it; fail with a clear message on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def queued_emails(callbacks) -> list[tuple]:
    """(subscriber id, kind) of every lifecycle email written to the outbox in the captured
    transactions, which must each hand their row to the broker once they commit."""
    rows = list(SubscriptionEmail.objects.order_by("id").values_list("subscriber_id", "kind"))
    assert len(callbacks) >= len(rows), "an outbox row is never handed to a worker"
    return rows
