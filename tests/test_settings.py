"""Settings are read from the environment and work with none at all."""

import json
import os
import subprocess
import sys

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


def load_settings(**env: str) -> subprocess.CompletedProcess:
    # Only the basics of the parent environment: the defaults must not lean on anything else.
    clean = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    clean.update(DJANGO_SETTINGS_MODULE="config.settings", **env)
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )


def settings_from(**env: str) -> dict:
    result = load_settings(**env)
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
    assert s["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert s["hosts"] == ["papers.example.org", "www.papers.example.org"]
    assert s["site_url"] == "https://papers.example.org"
    assert s["from"] == "Papers <news@papers.example.org>"
    assert s["postal"] == "Lab, 2 Road, Town"
    assert s["outbox"] == "/tmp/elsewhere"


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


def test_it_starts_in_production_with_a_real_secret_key():
    s = settings_from(DJANGO_DEBUG="off", DJANGO_SECRET_KEY="x" * 50)
    assert s["debug"] is False


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
