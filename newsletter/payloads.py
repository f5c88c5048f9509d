"""Values from ESP webhook payloads, made storable: an odd value is dropped, never an error.

A webhook answered with 500 is retried by the ESP for days, so one value the database cannot
take (a NUL character, a lone surrogate, a number where text belongs, a year-9999 timestamp)
would keep a real bounce from ever being applied. Pure functions, no database.
"""

import math
import re
from datetime import UTC, datetime, timedelta

# Events older than this are not about mail we sent; later than now + skew, the clock is wrong.
EARLIEST_EVENT = datetime(2000, 1, 1, tzinfo=UTC)
MAX_CLOCK_SKEW = timedelta(days=1)
DELIVERY_ID = re.compile(r"[0-9]{1,18}")  # ASCII digits that fit a bigint ("²" is a digit too)


def storable(value: object, limit: int) -> str:
    """The text cut to `limit`, or '' if it is not text PostgreSQL can store."""
    if not isinstance(value, str) or "\x00" in value:
        return ""
    try:
        value.encode()
    except UnicodeEncodeError:  # a lone surrogate, e.g. JSON's "\ud800"
        return ""
    return value[:limit]


def event_time(value: object, now: datetime) -> datetime | None:
    """An aware timestamp from EARLIEST_EVENT to shortly after `now`, else None."""
    if not isinstance(value, datetime) or value.utcoffset() is None:
        return None
    return value if EARLIEST_EVENT <= value <= now + MAX_CLOCK_SKEW else None


def delivery_id_from(metadata: object) -> int | None:
    """Our delivery id from the message metadata we sent, if it is one."""
    value = metadata.get("delivery_id") if isinstance(metadata, dict) else None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return int(value) if isinstance(value, str) and DELIVERY_ID.fullmatch(value) else None


def shrink(value: object, depth: int = 0) -> object:
    """A JSON-able copy small enough to keep: short strings, few keys and items, shallow; text
    the database cannot store becomes None and such keys are left out."""
    if isinstance(value, dict):
        if depth >= 3:
            return "…"
        items = list(value.items())[:30]
        return {key: shrink(v, depth + 1) for k, v in items if (key := storable(str(k), 100))}
    if isinstance(value, (list, tuple)):
        return [shrink(v, depth + 1) for v in value[:5]] if depth < 3 else "…"
    if isinstance(value, str):
        text = storable(value, 301) or None
        return text if text is None or len(text) <= 300 else text[:300] + "…"
    if isinstance(value, float):
        return value if math.isfinite(value) else None  # JSON has no NaN or Infinity
    if value is None or isinstance(value, (bool, int)):
        return value
    return shrink(str(value), depth)
