"""HTTP for the importers: one session per source, timeouts, bounded retries with backoff,
rate-limit headers honoured, size-capped bodies, and HTML error pages caught early.

Sleeping and the clock are injectable so tests exercise the real retry path without waiting.
"""

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from papers.ingestion.records import SourceError

logger = logging.getLogger(__name__)

RETRY_STATUSES = {429, 500, 502, 503, 504}


@dataclass
class Throttle:
    """At most one request every `min_interval` seconds (arXiv asks for 3): in this process, and
    with a `shared_key`, across every process that shares the cache (Redis in production)."""

    min_interval: float
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    last: float | None = None
    shared_key: str = ""

    def wait(self) -> None:
        if self.last is not None:
            remaining = self.last + self.min_interval - self.clock()
            if remaining > 0:
                self.sleep(remaining)
        if self.shared_key:
            self.claim_shared_slot()
        self.last = self.clock()

    def claim_shared_slot(self) -> None:
        """Whoever adds the key owns the next interval: cache.add is atomic on Redis (SET NX EX),
        so two workers importing at once still take turns. The cache keeps whole seconds, so a
        sub-second interval is enforced per process only."""
        while not cache.add(self.shared_key, 1, timeout=self.min_interval):
            self.sleep(0.1)


def retry_delay(headers) -> float | None:
    """Seconds to wait from Retry-After (seconds or HTTP date) or RateLimit's `t=` (IETF draft,
    what Hugging Face sends: `"api";r=0;t=55`). None when the response does not say."""
    retry_after = headers.get("Retry-After", "").strip()
    if retry_after.isdigit():
        return float(retry_after)
    if retry_after:
        try:
            return max(0.0, (parsedate_to_datetime(retry_after) - timezone.now()).total_seconds())
        except (TypeError, ValueError):
            pass
    match = re.search(r"(?:^|;)\s*t=(\d+)", headers.get("RateLimit", ""))
    return float(match[1]) if match else None


def error_detail(body: bytes) -> str:
    """A short human line from an error body: a JSON `error`, an Atom `<summary>`, or text."""
    text = body[:4000].decode("utf-8", "replace")
    try:
        data = json.loads(text)
        if isinstance(data, dict) and data.get("error"):
            return str(data["error"])[:200]
    except ValueError:
        pass
    match = re.search(r"<summary[^>]*>(.*?)</summary>", text, re.S)
    if match:
        return " ".join(match[1].split())[:200]
    return " ".join(re.sub(r"<[^>]+>", " ", text).split())[:200]


def looks_like_html(body: bytes, content_type: str) -> bool:
    head = body[:500].lstrip().lower()
    return "text/html" in content_type or head.startswith((b"<!doctype html", b"<html"))


@dataclass
class HttpClient:
    """GET with the house rules. `source` names the importer in every error message."""

    source: str
    headers: dict[str, str] = field(default_factory=dict)
    throttle: Throttle | None = None
    sleep: Callable[[float], None] = time.sleep
    timeout: float = field(default_factory=lambda: settings.PAPERS_HTTP_TIMEOUT)
    retries: int = field(default_factory=lambda: settings.PAPERS_HTTP_RETRIES)
    backoff: float = field(default_factory=lambda: settings.PAPERS_HTTP_BACKOFF)
    max_wait: float = field(default_factory=lambda: settings.PAPERS_HTTP_MAX_WAIT)
    max_bytes: int = field(default_factory=lambda: settings.PAPERS_IMPORT_MAX_BYTES)
    session: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self):
        user_agent = f"Paperboy/0.1 (+{settings.SITE_URL})"
        self.session.headers.update({"User-Agent": user_agent, **self.headers})

    def get(self, url: str, params: dict | None = None, *, expect: str = "json") -> bytes:
        """The body of a successful response. Raises SourceError with one clear line."""
        where = f"{url}?{urlencode(params)}" if params else url
        for attempt in range(self.retries + 1):
            if self.throttle:
                self.throttle.wait()
            last_try = attempt == self.retries
            try:
                response = self.session.get(url, params=params, timeout=self.timeout, stream=True)
            except (requests.ConnectionError, requests.Timeout) as exc:
                if last_try:
                    raise SourceError(
                        f"{self.source}: {where}: {kind(exc)} after {attempt + 1} tries"
                    ) from exc
                self.pause(self.backoff * 2**attempt, where, kind(exc))
                continue
            with response:
                if response.status_code in RETRY_STATUSES:
                    self.handle_retryable(response, where, attempt, last_try)
                    continue
                return self.read_body(response, where, expect)
        raise AssertionError("unreachable")  # the loop returns or raises

    def handle_retryable(self, response, where: str, attempt: int, last_try: bool) -> None:
        status = response.status_code
        wait = retry_delay(response.headers)
        if wait is not None and wait > self.max_wait:
            raise SourceError(
                f"{self.source}: {where}: HTTP {status}, rate limited for {wait:.0f}s "
                f"(more than PAPERS_HTTP_MAX_WAIT={self.max_wait:.0f}s); try again later"
            )
        if last_try:
            raise SourceError(f"{self.source}: {where}: HTTP {status} after {attempt + 1} tries")
        self.pause(wait if wait is not None else self.backoff * 2**attempt, where, f"HTTP {status}")

    def pause(self, seconds: float, where: str, reason: str) -> None:
        logger.warning("%s: %s: %s, retrying in %.1fs", self.source, where, reason, seconds)
        self.sleep(seconds)

    def read_body(self, response, where: str, expect: str) -> bytes:
        body = bytearray()
        for chunk in response.iter_content(64 * 1024):
            body += chunk
            if len(body) > self.max_bytes:
                raise SourceError(
                    f"{self.source}: {where}: response larger than {self.max_bytes} bytes "
                    "(PAPERS_IMPORT_MAX_BYTES)"
                )
        if response.status_code >= 400:
            detail = error_detail(bytes(body))
            raise SourceError(f"{self.source}: {where}: HTTP {response.status_code}: {detail}")
        if looks_like_html(bytes(body), response.headers.get("Content-Type", "")):
            raise SourceError(f"{self.source}: {where}: got an HTML page instead of {expect.upper()}")
        return bytes(body)


def kind(exc: Exception) -> str:
    return "timed out" if isinstance(exc, requests.Timeout) else "connection failed"
