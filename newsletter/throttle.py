"""The site-wide pace of ESP calls, shared by every worker through Redis.

DIGEST_MAX_SEND_RATE (messages per second, unset = no cap) spaces sends evenly across all
workers (GCRA: one "next free slot" timestamp in Redis, advanced atomically by a script that
reads Redis's own clock, so hosts with skewed clocks agree). An ESP 429 pauses every sender for a
moment instead of failing messages. Without Redis (development) the pace is per process.
"""

import threading
import time
from functools import cache

import redis
from django.conf import settings

SLOT_KEY = "paperboy:digest:next-send-slot"
PAUSE_KEY = "paperboy:digest:esp-paused-until"
# KEYS: slot, pause. ARGV: the interval the caller's messages take together (count / rate) and a
# pause length, in microseconds. Returns how many microseconds until the first of the caller's
# slots, after reserving them.
RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local pause = tonumber(ARGV[2])
if pause > 0 then
  local until_ = math.max(now + pause, tonumber(redis.call('GET', KEYS[2]) or '0'))
  redis.call('SET', KEYS[2], string.format('%d', until_), 'PX', math.ceil(pause / 1000) + 1000)
  return 0
end
local start = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'),
                       tonumber(redis.call('GET', KEYS[2]) or '0'))
local interval = tonumber(ARGV[1])
if interval > 0 then
  redis.call('SET', KEYS[1], string.format('%d', start + interval), 'PX', 60000)
end
return start - now
"""


class RedisPace:
    def __init__(self, url: str):
        self.script = redis.Redis.from_url(url).register_script(RESERVE)

    def reserve(self, interval: float) -> float:
        return self.script(keys=[SLOT_KEY, PAUSE_KEY], args=[round(interval * 1e6), 0]) / 1e6

    def pause(self, seconds: float) -> None:
        self.script(keys=[SLOT_KEY, PAUSE_KEY], args=[0, max(1, int(seconds * 1e6))])


class LocalPace:
    """The same, for one process (no Redis: development only)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.next_slot = self.paused_until = 0.0

    def reserve(self, interval: float) -> float:
        with self.lock:
            now = time.monotonic()
            start = max(now, self.next_slot, self.paused_until)
            self.next_slot = start + interval if interval else self.next_slot
            return start - now

    def pause(self, seconds: float) -> None:
        with self.lock:
            self.paused_until = max(self.paused_until, time.monotonic() + seconds)


@cache
def pace_for(redis_url: str) -> RedisPace | LocalPace:
    return RedisPace(redis_url) if redis_url else LocalPace()


def slots(count: int) -> list[float]:
    """Reserve the next `count` send slots under the site-wide pace: the time.monotonic() at
    which each of them may call the ESP, evenly spaced. One Redis round trip per call, so a pause
    asked for by one worker's 429 reaches them all before their next batch."""
    if count <= 0:
        return []
    rate = settings.DIGEST_MAX_SEND_RATE
    interval = 1 / rate if rate else 0.0
    first = time.monotonic() + pace_for(settings.REDIS_URL).reserve(interval * count)
    return [first + i * interval for i in range(count)]


def wait_until(moment: float) -> None:
    delay = moment - time.monotonic()
    if delay > 0:
        time.sleep(delay)


def slow_down(seconds: float) -> None:
    """The ESP answered 429: every sender on the site waits this long before its next call."""
    pace_for(settings.REDIS_URL).pause(seconds)
