"""Shared fixtures. Real services only: the worker and beat fixtures start real Celery processes
against the configured broker (Redis when REDIS_URL is set) and the test database."""

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from config.celery_app import app as celery_app
from tests.clock import SHIFT_VARIABLE, ShiftedClock, seed_from_environment

ROOT = Path(__file__).resolve().parent.parent
# A queue of our own, so a development worker on the same broker never takes test tasks.
TEST_QUEUE = f"paperboy-test-{uuid.uuid4().hex[:8]}"


# No test may depend on the real time of day: the run travels to a seeded moment (tests/clock.py).
CLOCK = ShiftedClock(seed_from_environment())


def pytest_configure(config) -> None:
    CLOCK.start()


def pytest_unconfigure(config) -> None:
    CLOCK.stop()


# Before pytest's own header, and also with -q: a failure at some hour is repeated with its seed.
@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"paperboy {CLOCK.describe()}")


def pytest_report_header(config) -> str:
    db = settings.DATABASES["default"]
    broker = "Redis " + settings.REDIS_URL.split("@")[-1] if settings.REDIS_URL else "filesystem (embedded)"
    where = f"{db.get('HOST') or 'local file'}:{db.get('PORT') or ''}"
    return f"paperboy: database {db['ENGINE'].rsplit('.', 1)[-1]} ({where}) · broker {broker}"


@pytest.fixture(scope="session", autouse=True)
def _celery_test_queue():
    celery_app.conf.task_default_queue = TEST_QUEUE
    yield
    purge_queue()


def purge_queue() -> None:
    with celery_app.connection_for_write() as conn:
        conn.default_channel.queue_declare(TEST_QUEUE)
        conn.default_channel.queue_purge(TEST_QUEUE)


def test_database_url() -> str:
    """A DATABASE_URL that points a subprocess at the database this test run uses."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


def subprocess_env(**overrides: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": test_database_url(),
        "CELERY_QUEUE": TEST_QUEUE,
        "PYTHONUNBUFFERED": "1",
        SHIFT_VARIABLE: str(CLOCK.shift_seconds),
    }
    env.update(overrides)
    return env


class CeleryProcess:
    """A real `celery -A config worker|beat` subprocess whose output goes to a log file."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path):
        self.log_path = log_path
        self.log = log_path.open("wb")
        # Through tests.clockrun, so the subprocess's clock is shifted like the test run's.
        cmd = [sys.executable, "-m", "tests.clockrun", "celery", "-A", "config", *args]
        self.process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"celery never printed {text!r}:\n{self.output()[-3000:]}")

    def signal(self, sig: int) -> None:
        self.process.send_signal(sig)

    def stop(self, timeout: float = 20) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


@pytest.fixture
def start_worker(transactional_db, tmp_path) -> Iterator[Callable[..., CeleryProcess]]:
    """Start a real worker on the test queue: start_worker(concurrency=2, **env_overrides)."""
    purge_queue()
    started: list[CeleryProcess] = []

    def start(concurrency: int = 1, pool: str = "prefork", **env: str) -> CeleryProcess:
        args = ["worker", "-Q", TEST_QUEUE, f"--concurrency={concurrency}", f"--pool={pool}"]
        args += ["--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"]
        log = tmp_path / f"worker-{len(started)}.log"
        worker = CeleryProcess(args, subprocess_env(**env), log)
        started.append(worker)
        worker.wait_for("ready.")
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def start_beat(transactional_db, tmp_path) -> Iterator[Callable[..., CeleryProcess]]:
    started: list[CeleryProcess] = []

    def start(**env: str) -> CeleryProcess:
        args = ["beat", "--loglevel=DEBUG", "--max-interval=1"]
        beat = CeleryProcess(args, subprocess_env(**env), tmp_path / "beat.log")
        started.append(beat)
        return beat

    yield start
    for beat in started:
        beat.stop()


@pytest.fixture
def sent_tasks(monkeypatch) -> list[tuple[str, list]]:
    """Tasks handed to Celery, by name or through .delay(), as (task name, args): recorded, not sent."""
    sent: list[tuple[str, list]] = []

    def record(name: str, args=(), kwargs=None, **options) -> None:
        sent.append((name, list(args or ())))

    monkeypatch.setattr(celery_app, "send_task", record)
    return sent
