"""HTTP for the importers: one session per source, timeouts, bounded retries with backoff,
rate-limit headers honoured, size-capped bodies, and HTML error pages caught early.

Retries are urllib3's Retry (through requests' HTTPAdapter) with the few things our sources
need on top: Hugging Face's RateLimit header read like Retry-After, giving up at once when a
source asks for a longer wait than we accept, and arXiv's throttle before every request,
retries included. Sleeping and the clock are injectable so tests exercise the real retry path
without waiting.
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
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, NewConnectionError, ResponseError
from urllib3.exceptions import TimeoutError as Urllib3Timeout
from urllib3.util.retry import Retry

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


class SourceRetry(Retry):
    """urllib3's Retry, plus: a wait from RateLimit's `t=` as well as Retry-After
    (`retry_delay`); a source that asks for more than `max_wait` seconds ends the retries at once
    (the caller sees its answer); backoff from the first retry on (urllib3 makes that one at
    once, while the source is still failing); the throttle before each retry; `pause` for sleep."""

    def __init__(self, *args, source="", max_wait=float("inf"), throttle=None, pause=time.sleep, **kw):
        super().__init__(*args, **kw)
        self.source, self.max_wait, self.throttle, self.pause = source, max_wait, throttle, pause

    def new(self, **kw) -> "SourceRetry":  # urllib3 makes a new Retry per attempt: keep ours
        ours = {
            "source": self.source,
            "max_wait": self.max_wait,
            "throttle": self.throttle,
            "pause": self.pause,
        }
        return super().new(**ours, **kw)

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        wait = retry_delay(response.headers) if response is not None else None
        if wait is not None and wait > self.max_wait:
            raise MaxRetryError(_pool, url, ResponseError(f"asked to wait {wait:.0f}s"))
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def get_backoff_time(self) -> float:
        """backoff_factor x 1, 2, 4 … for the first, second, third … retry."""
        return (
            min(self.backoff_max, self.backoff_factor * 2 ** (len(self.history) - 1)) if self.history else 0.0
        )

    def sleep(self, response=None) -> None:
        wait = retry_delay(response.headers) if response is not None else None
        seconds = self.get_backoff_time() if wait is None else wait
        last = self.history[-1]
        reason = f"HTTP {last.status}" if last.status else kind(last.error)
        logger.warning("%s: %s: %s, retrying in %.1fs", self.source, last.url, reason, seconds)
        self.pause(seconds)
        if self.throttle:
            self.throttle.wait()


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
        retry = SourceRetry(
            total=self.retries,
            redirect=False,  # requests follows redirects itself
            status_forcelist=RETRY_STATUSES,
            backoff_factor=self.backoff,
            raise_on_status=False,  # the last answer comes back; get() names it
            source=self.source,
            max_wait=self.max_wait,
            throttle=self.throttle,
            pause=self.sleep,
        )
        for prefix in ("http://", "https://"):
            self.session.mount(prefix, HTTPAdapter(max_retries=retry))

    def get(self, url: str, params: dict | None = None, *, expect: str = "json") -> bytes:
        """The body of a successful response. Raises SourceError with one clear line."""
        where = f"{url}?{urlencode(params)}" if params else url
        if self.throttle:
            self.throttle.wait()
        try:
            response = self.session.get(url, params=params, timeout=self.timeout, stream=True)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise SourceError(f"{self.source}: {where}: {kind(exc)} after {self.retries + 1} tries") from exc
        with response:
            if response.status_code in RETRY_STATUSES:
                raise self.gave_up(response, where)
            return self.read_body(response, where, expect)

    def gave_up(self, response, where: str) -> SourceError:
        status = response.status_code
        wait = retry_delay(response.headers)
        if wait is not None and wait > self.max_wait:
            return SourceError(
                f"{self.source}: {where}: HTTP {status}, rate limited for {wait:.0f}s "
                f"(more than PAPERS_HTTP_MAX_WAIT={self.max_wait:.0f}s); try again later"
            )
        return SourceError(f"{self.source}: {where}: HTTP {status} after {self.retries + 1} tries")

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


def kind(exc: BaseException | None) -> str:
    """Two words for a failed connection (requests wraps urllib3's last error in MaxRetryError)."""
    if exc is not None and exc.args and isinstance(exc.args[0], MaxRetryError):
        exc = exc.args[0].reason
    timed_out = isinstance(exc, requests.Timeout | Urllib3Timeout) and not isinstance(exc, NewConnectionError)
    return "timed out" if timed_out else "connection failed"
