"""The whole test run happens at a shifted wall clock, so a test that leans on the real time of day
fails in CI at once instead of only at some hours.

Each run picks a seed (or takes PAPERBOY_TEST_CLOCK_SEED); the seed chooses a weekday, hour and
minute, and the run travels (ticking) to that moment of the past week. The pytest header names
the seed: `PAPERBOY_TEST_CLOCK_SEED=<seed> pytest ...` repeats the same weekday and time of day.
Worker and beat subprocesses get the same shift through PAPERBOY_TEST_CLOCK_SHIFT (see
`tests/clockrun.py`), so both sides of a task agree on the time.
"""

import os
import random
import secrets
import time
from datetime import UTC, datetime, timedelta
from datetime import time as time_of_day

import time_machine

SEED_VARIABLE = "PAPERBOY_TEST_CLOCK_SEED"
SHIFT_VARIABLE = "PAPERBOY_TEST_CLOCK_SHIFT"


def destination(seed: int, real_now: datetime) -> datetime:
    """The moment a run with this seed starts at: the seed's weekday, hour and minute, within the
    week up to real_now (pure, so the same seed gives the same time of day and weekday)."""
    rng = random.Random(seed)
    weekday, hour, minute = rng.randrange(7), rng.randrange(24), rng.randrange(60)
    day = real_now.date() - timedelta(days=(real_now.weekday() - weekday) % 7)
    moment = datetime.combine(day, time_of_day(hour, minute), tzinfo=UTC)
    return moment if moment <= real_now else moment - timedelta(days=7)


def seed_from_environment() -> int:
    value = os.environ.get(SEED_VARIABLE, "").strip()
    if not value:
        return secrets.randbelow(1_000_000)
    try:
        return int(value)
    except ValueError:
        raise SystemExit(f"{SEED_VARIABLE} must be a whole number, not {value!r}") from None


class ShiftedClock:
    """Started once for the whole run; `shift_seconds` is handed to subprocesses."""

    def __init__(self, seed: int):
        self.seed = seed
        self.start_at = destination(seed, datetime.now(UTC))
        self.shift_seconds = 0.0
        self._travel: time_machine.travel | None = None

    def start(self) -> None:
        self.shift_seconds = (self.start_at - datetime.now(UTC)).total_seconds()
        self._travel = start_ticking(self.start_at)

    def stop(self) -> None:
        if self._travel is not None:
            self._travel.stop()

    def describe(self) -> str:
        return (
            f"clock: {SEED_VARIABLE}={self.seed} -> the run starts at "
            f"{self.start_at:%A %Y-%m-%d %H:%M} UTC, ticking"
        )


def follow_parent_shift() -> None:
    """In a subprocess started by the tests: travel by the same amount as the test run."""
    shift = os.environ.get(SHIFT_VARIABLE)
    if shift:
        start_ticking(datetime.now(UTC) + timedelta(seconds=float(shift)))


def start_ticking(start_at: datetime) -> time_machine.travel:
    travel = time_machine.travel(start_at, tick=True)
    travel.start()
    # A ticking clock starts moving at its first reading: take it now, so that every process
    # started with the same shift reads the same time.
    time.time()
    return travel
