"""The importers' HTTP layer against a real local server: retries, rate limits, timeouts."""

import socket
import time

import pytest

from papers.ingestion.http import HttpClient, Throttle, retry_delay
from papers.ingestion.records import SourceError
from tests.papers.server import Reply, fixture, recorded


def client(**kwargs) -> tuple[HttpClient, list[float]]:
    waits: list[float] = []
    return HttpClient(source="hf", sleep=waits.append, **{"backoff": 1.0, **kwargs}), waits


def test_it_retries_server_errors_with_doubling_backoff(server):
    server.add("/x", Reply(b"", 502), Reply(b"", 503), Reply(b"[1]"))
    http, waits = client(retries=3)
    assert http.get(server.url + "/x") == b"[1]"
    assert waits == [1.0, 2.0]
    assert len(server.requests_to("/x")) == 3


def test_it_gives_up_after_the_last_retry_with_one_clear_line(server):
    server.add("/x", Reply(b"", 500))
    http, waits = client(retries=2)
    with pytest.raises(SourceError, match=r"^hf: http://127.0.0.1:\d+/x: HTTP 500 after 3 tries$"):
        http.get(server.url + "/x")
    assert len(waits) == 2


def test_a_429_waits_as_long_as_the_ratelimit_header_says(server):
    server.add("/hf/api/daily_papers", recorded("hf_429.json"), fixture("hf_empty_day.json"))
    http, waits = client()
    assert http.get(server.url + "/hf/api/daily_papers") == b"[]\n"
    assert waits == [2.0]  # t=2 in `RateLimit: "api";r=0;t=2`


def test_a_retry_after_header_wins_over_backoff(server):
    server.add("/x", Reply(b"", 503, {"Retry-After": "7"}), Reply(b"[]"))
    http, waits = client()
    http.get(server.url + "/x")
    assert waits == [7.0]


def test_a_rate_limit_longer_than_the_maximum_wait_fails_at_once(server):
    server.add("/x", Reply(b"", 429, {"RateLimit": '"api";r=0;t=3000'}))
    http, waits = client(max_wait=60)
    with pytest.raises(SourceError, match="rate limited for 3000s"):
        http.get(server.url + "/x")
    assert waits == []
    assert len(server.requests_to("/x")) == 1


def test_a_slow_server_times_out_and_is_retried(server):
    server.add("/slow", Reply(b"[]", delay=0.5), Reply(b"[2]"))
    http, waits = client(timeout=0.2, retries=1)
    assert http.get(server.url + "/slow") == b"[2]"
    assert waits == [1.0]


def test_a_server_that_never_answers_in_time_fails_clearly(server):
    server.add("/slow", Reply(b"[]", delay=0.4))
    http, _ = client(timeout=0.1, retries=1)
    with pytest.raises(SourceError, match="/slow: timed out after 2 tries"):
        http.get(server.url + "/slow")


def test_a_refused_connection_is_retried_then_fails_clearly(settings):
    with socket.socket() as unused:  # a port nobody listens on once closed
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    http, waits = client(retries=1)
    with pytest.raises(SourceError, match=r"/x: connection failed after 2 tries$"):
        http.get(f"http://127.0.0.1:{port}/x")
    assert waits == [1.0]


def test_a_throttled_source_keeps_its_distance_on_retries_too(server):
    server.add("/x", Reply(b"", 503), Reply(b"[]"))
    http, waits = client(throttle=Throttle(0.3), backoff=0.0)
    assert http.get(server.url + "/x") == b"[]"
    first, second = server.requests_to("/x")
    assert second.at - first.at >= 0.25


def test_an_html_error_page_instead_of_json_is_refused(server):
    server.add("/hf/api/daily_papers", fixture("hf_error_page.html", content_type="text/html"))
    http, _ = client()
    with pytest.raises(SourceError, match="got an HTML page instead of JSON"):
        http.get(server.url + "/hf/api/daily_papers", {"date": "2025-09-30"})


def test_a_client_error_names_the_status_and_the_sources_message(server):
    server.add("/x", Reply(b'{"error":"Invalid date"}', 400))
    http, waits = client()
    with pytest.raises(SourceError, match=r"HTTP 400: Invalid date$"):
        http.get(server.url + "/x", {"date": "nope"})
    assert waits == []  # a 400 is not retried


def test_a_response_over_the_size_limit_is_refused(server):
    server.add("/big", Reply(b"[" + b"0," * 5000 + b"0]"))
    http, _ = client(max_bytes=1000)
    with pytest.raises(SourceError, match="larger than 1000 bytes"):
        http.get(server.url + "/big")


def test_retry_delay_reads_http_dates_and_ignores_garbage():
    assert retry_delay({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
    assert retry_delay({"Retry-After": "soon"}) is None
    assert retry_delay({}) is None


def test_the_throttle_spaces_requests_by_the_minimum_interval():
    now = [100.0]
    waits = []

    def sleep(seconds):
        waits.append(seconds)
        now[0] += seconds

    throttle = Throttle(3.0, clock=lambda: now[0], sleep=sleep)
    throttle.wait()  # the first request goes at once
    now[0] += 1.0
    throttle.wait()
    now[0] += 5.0
    throttle.wait()  # long enough since the last one
    assert waits == [2.0]


def test_throttles_sharing_a_key_take_turns_across_processes():
    """Two workers' throttles (separate state, one shared cache) never request in the same
    interval; without the shared key each only spaces its own requests."""
    key = f"test-slot-{time.monotonic_ns()}"
    first, second = Throttle(1.0, shared_key=key), Throttle(1.0, shared_key=key)
    first.wait()
    started = time.monotonic()
    second.wait()
    assert time.monotonic() - started >= 0.9

    started = time.monotonic()
    Throttle(1.0).wait()
    Throttle(1.0).wait()
    assert time.monotonic() - started < 0.5
