"""Settings are read from the environment and work with none at all."""

import json
import os
import subprocess
import sys

import pytest
from django.core.checks import run_checks
from django.test import override_settings

from tests.conftest import ROOT

PROBE = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({
    "engine": s.DATABASES["default"]["ENGINE"], "db_name": str(s.DATABASES["default"]["NAME"]),
    "broker": s.CELERY_BROKER_URL, "cache": s.CACHES["default"]["BACKEND"], "debug": s.DEBUG,
    "email_backend": s.EMAIL_BACKEND, "anymail": s.ANYMAIL, "hosts": s.ALLOWED_HOSTS,
    "site_url": s.SITE_URL, "from": s.DEFAULT_FROM_EMAIL, "outbox": str(s.OUTBOX_DIR),
    "postal": s.NEWSLETTER_POSTAL_ADDRESS,
}))
"""

CELERY_PROBE = """
import json, django
django.setup()
from django.conf import settings as s
from config.celery_app import app
from papers.tasks import RETRY
c = app.conf
print(json.dumps({
    "acks_late": c.task_acks_late, "reject_on_worker_lost": c.task_reject_on_worker_lost,
    "prefetch": c.worker_prefetch_multiplier, "serializer": c.task_serializer,
    "accept": list(c.accept_content), "timezone": c.timezone, "utc": c.enable_utc,
    "soft_limit": c.task_soft_time_limit, "hard_limit": c.task_time_limit,
    "visibility": (c.broker_transport_options or {}).get("visibility_timeout"),
    "longest_wait": max(s.DIGEST_RETRY_MAX_SECONDS, RETRY["retry_backoff_max"]),
    "beat": c.beat_scheduler,
}))
"""


def load_settings(probe: str = PROBE, **env: str) -> subprocess.CompletedProcess:
    # Only the basics of the parent environment, and no .env file unless a test names one: the
    # defaults must not lean on anything else.
    clean = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    clean.update({"DJANGO_SETTINGS_MODULE": "config.settings", "PAPERBOY_ENV_FILE": "", **env})
    return subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )


def settings_from(probe: str = PROBE, **env: str) -> dict:
    result = load_settings(probe, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_it_runs_on_embedded_defaults_with_no_environment():
    s = settings_from()
    assert s["engine"] == "django.db.backends.sqlite3"
    assert s["db_name"].endswith("var/paperboy.sqlite3")
    assert s["broker"] == "filesystem://"
    assert s["email_backend"] == "newsletter.backends.OutboxBackend"
    assert s["outbox"].endswith("var/outbox")
    assert s["debug"] is True


def test_it_honours_service_urls_and_site_settings():
    s = settings_from(
        DATABASE_URL="postgres://u:p@db.internal:5433/papers",
        REDIS_URL="redis://cache.internal:6379/2",
        DJANGO_ALLOWED_HOSTS="papers.example.org,www.papers.example.org",
        SITE_URL="https://papers.example.org/",
        DEFAULT_FROM_EMAIL="Papers <news@papers.example.org>",
        NEWSLETTER_POSTAL_ADDRESS="Lab, 2 Road, Town",
        OUTBOX_DIR="/tmp/elsewhere",
    )
    assert s["engine"] == "django.db.backends.postgresql"
    assert s["db_name"] == "papers"
    assert s["broker"] == "redis://cache.internal:6379/2"
    assert s["cache"] == "config.redis_cache.RedisCache"
    assert s["hosts"] == ["papers.example.org", "www.papers.example.org"]
    assert s["site_url"] == "https://papers.example.org"
    assert s["from"] == "Papers <news@papers.example.org>"
    assert s["postal"] == "Lab, 2 Road, Town"
    assert s["outbox"] == "/tmp/elsewhere"


def test_a_dotenv_file_fills_in_what_the_environment_leaves_unset(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("SITE_URL=https://from-file.example.org\nDEFAULT_FROM_EMAIL=File <f@example.net>\n")
    s = settings_from(PAPERBOY_ENV_FILE=str(dotenv), DEFAULT_FROM_EMAIL="Env <e@example.net>")
    assert s["site_url"] == "https://from-file.example.org"
    assert s["from"] == "Env <e@example.net>"  # the real environment wins


def test_make_test_names_the_database_and_broker_from_the_environment_or_the_dotenv_file(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("DATABASE_URL=postgres://u:secret@db.internal:5433/papers\n")
    clean = {"PATH": os.environ["PATH"], "PAPERBOY_ENV_FILE": str(dotenv)}

    def first_line(**env: str) -> str:
        return subprocess.run(
            [ROOT / "bin" / "describe-env"], env={**clean, **env}, capture_output=True, text=True, check=True
        ).stdout

    line = first_line()
    assert "database: postgres://db.internal:5433/papers" in line
    assert "secret" not in line
    assert "broker: filesystem" in line
    line = first_line(DATABASE_URL="sqlite:////tmp/x.sqlite3", REDIS_URL="redis://:pw@cache:6379/1")
    assert "database: sqlite:////tmp/x.sqlite3" in line
    assert "broker: redis://cache:6379/1" in line


@pytest.mark.parametrize("redis_url", ["", "redis://cache.internal:6379/2"])
def test_celery_is_set_up_so_tasks_survive_a_lost_worker_and_are_never_handed_out_twice(redis_url):
    c = settings_from(CELERY_PROBE, **({"REDIS_URL": redis_url} if redis_url else {}))
    assert (c["acks_late"], c["reject_on_worker_lost"], c["prefetch"]) == (True, True, 1)
    assert (c["serializer"], c["accept"]) == ("json", ["json"])
    assert (c["timezone"], c["utc"]) == ("UTC", True)
    assert 0 < c["soft_limit"] < c["hard_limit"]
    assert c["beat"] == "django_celery_beat.schedulers:DatabaseScheduler"
    if redis_url:
        # Redis hands an unacknowledged task to another worker after this long.
        assert c["visibility"] > c["longest_wait"]
        assert c["visibility"] > c["hard_limit"]


def test_it_sends_through_the_esp_named_by_anymail_esp():
    s = settings_from(ANYMAIL_ESP="postmark", ANYMAIL_POSTMARK_SERVER_TOKEN="tok-123")
    assert s["email_backend"] == "anymail.backends.postmark.EmailBackend"
    assert s["anymail"]["POSTMARK_SERVER_TOKEN"] == "tok-123"


def test_an_explicit_email_backend_wins():
    s = settings_from(
        ANYMAIL_ESP="postmark", DJANGO_EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend"
    )
    assert s["email_backend"] == "django.core.mail.backends.smtp.EmailBackend"


def test_it_refuses_to_start_in_production_with_the_development_secret_key():
    result = load_settings(DJANGO_DEBUG="off")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is the development key" in result.stderr


# A key like `secrets.token_urlsafe(50)` makes.
REAL_KEY = "q8Vw3nZ-0bYk7Jr_L2mXcT5sHf9GdPaE1uNiK4oWjR6yB_Ct-Qv"


def test_it_starts_in_production_with_a_real_secret_key():
    s = settings_from(DJANGO_DEBUG="off", DJANGO_SECRET_KEY=REAL_KEY)
    assert s["debug"] is False


@pytest.mark.parametrize("key", ["", "k", REAL_KEY[:49], "ab" * 40])
def test_it_refuses_to_start_in_production_with_a_weak_secret_key(key):
    result = load_settings(DJANGO_DEBUG="off", DJANGO_SECRET_KEY=key)
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured: DJANGO_SECRET_KEY is too weak")
    assert "at least 50 characters, 5 of them different" in last_line


def test_a_short_secret_key_is_fine_in_development():
    assert settings_from(DJANGO_SECRET_KEY="k")["debug"] is True


def test_email_links_follow_the_port_make_run_serves_on_unless_site_url_is_set():
    assert settings_from()["site_url"] == "http://localhost:8000"
    assert settings_from(SITE_PORT="8123")["site_url"] == "http://localhost:8123"
    assert settings_from(SITE_PORT="8123", SITE_URL="https://x.example.org")["site_url"] == (
        "https://x.example.org"
    )


def test_make_run_passes_its_port_to_every_process_as_the_site_port():
    # honcho gives the worker and beat PORT+100, PORT+200: the site's port travels as SITE_PORT.
    dry_run = subprocess.run(
        ["make", "-n", "run", "PORT=8123"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    start = next(line for line in dry_run.splitlines() if "honcho" in line)
    assert "PORT=8123" in start
    assert "SITE_PORT=8123" in start
    assert "http://127.0.0.1:8123/admin/" in dry_run


def warning_ids() -> set[str]:
    return {m.id for m in run_checks(tags=["paperboy"])}


@override_settings(
    DEBUG=False,
    EMAIL_BACKEND="newsletter.backends.OutboxBackend",
    SITE_URL="http://localhost:8000",
    DEFAULT_FROM_EMAIL="Paperboy <paperboy@localhost>",
)
def test_checks_warn_about_development_config_in_production():
    assert {"paperboy.W001", "paperboy.W002", "paperboy.W003"} <= warning_ids()


@override_settings(
    DEBUG=False,
    EMAIL_BACKEND="anymail.backends.postmark.EmailBackend",
    SITE_URL="https://papers.example.org",
    DEFAULT_FROM_EMAIL="Papers <news@papers.example.org>",
)
def test_checks_are_quiet_for_a_production_config():
    assert not {"paperboy.W001", "paperboy.W002", "paperboy.W003"} & warning_ids()


@override_settings(
    DEBUG=False, EMAIL_BACKEND="anymail.backends.postmark.EmailBackend", POSTMARK_DIGEST_STREAM=""
)
def test_checks_warn_when_postmark_would_send_digests_through_the_transactional_stream():
    assert "paperboy.W006" in warning_ids()
    with override_settings(POSTMARK_DIGEST_STREAM="broadcast"):
        assert "paperboy.W006" not in warning_ids()
    with override_settings(EMAIL_BACKEND="anymail.backends.mailgun.EmailBackend"):
        assert "paperboy.W006" not in warning_ids()
