"""System checks for webhook security in production."""

import json
import os
import subprocess
import sys

from django.core.checks import run_checks

from tests.conftest import ROOT


def warning_ids() -> set[str]:
    return {m.id for m in run_checks(tags=["paperboy"])}


def test_production_without_a_webhook_secret_is_warned_about(settings):
    settings.DEBUG = False
    settings.ANYMAIL = {}
    assert "paperboy.W004" in warning_ids()


def test_a_webhook_secret_quiets_the_warning(settings):
    settings.DEBUG = False
    settings.ANYMAIL = {"WEBHOOK_SECRET": "esp:long-random-password"}
    assert "paperboy.W004" not in warning_ids()


def test_development_is_not_warned_about_webhooks(settings):
    settings.DEBUG = True
    settings.ANYMAIL = {}
    assert "paperboy.W004" not in warning_ids()


def test_mailgun_without_a_signing_key_is_warned_about(settings):
    settings.DEBUG = False
    settings.ANYMAIL_ESP = "mailgun"
    settings.ANYMAIL = {"WEBHOOK_SECRET": "esp:pw"}
    assert "paperboy.W005" in warning_ids()
    settings.ANYMAIL = {"WEBHOOK_SECRET": "esp:pw", "MAILGUN_WEBHOOK_SIGNING_KEY": "key"}
    assert "paperboy.W005" not in warning_ids()


TRACKING_PROBE = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({"anymail": s.ANYMAIL, "limit": s.TRACKING_SOFT_BOUNCE_LIMIT,
                  "window": s.TRACKING_SOFT_BOUNCE_WINDOW_DAYS, "per_reader": s.TRACKING_PER_READER}))
"""


def tracking_settings(**env: str) -> dict:
    clean = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    clean.update(DJANGO_SETTINGS_MODULE="config.settings", **env)
    result = subprocess.run(
        [sys.executable, "-c", TRACKING_PROBE],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_webhook_secrets_and_the_policy_come_from_the_environment():
    s = tracking_settings(
        ANYMAIL_WEBHOOK_SECRET="esp:pw",
        ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY="mg-key",
        TRACKING_SOFT_BOUNCE_LIMIT="5",
        TRACKING_SOFT_BOUNCE_WINDOW_DAYS="30",
        TRACKING_PER_READER="on",
    )
    assert s["anymail"]["WEBHOOK_SECRET"] == "esp:pw"
    assert s["anymail"]["MAILGUN_WEBHOOK_SIGNING_KEY"] == "mg-key"
    assert (s["limit"], s["window"], s["per_reader"]) == (5, 30, True)


def test_per_reader_tracking_is_off_by_default():
    s = tracking_settings()
    assert (s["limit"], s["window"], s["per_reader"]) == (3, 14, False)
