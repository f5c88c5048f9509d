"""HTTPS, HSTS and Content-Security-Policy are set from the environment; the site needs no inline
code under the strict default policy; the checks catch a proxy whose visitors all look alike."""

import os
import re
import subprocess
import sys

import pytest
from django.core.checks import run_checks
from django.test import override_settings
from django.urls import reverse

from tests.conftest import ROOT
from tests.factories import make_paper, make_topic
from tests.test_settings import REAL_KEY, settings_from

CSP_PROBE = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({"csp": s.CONTENT_SECURITY_POLICY, "csp_ro": s.CONTENT_SECURITY_POLICY_REPORT_ONLY,
                  "hsts": s.SECURE_HSTS_SECONDS, "redirect": s.SECURE_SSL_REDIRECT}))
"""
PRODUCTION = {
    "DJANGO_DEBUG": "off",
    "DJANGO_SECRET_KEY": REAL_KEY,
    "DJANGO_ALLOWED_HOSTS": "papers.example.org",
    "SITE_URL": "https://papers.example.org",
    "DEFAULT_FROM_EMAIL": "Papers <news@papers.example.org>",
    "ANYMAIL_ESP": "postmark",
    "ANYMAIL_POSTMARK_SERVER_TOKEN": "token",
    "POSTMARK_DIGEST_STREAM": "broadcast",
    "ANYMAIL_WEBHOOK_SECRET": "esp:a-long-random-password",
    "TRUSTED_PROXY_COUNT": "1",
}
HTTPS_SWITCHES = {
    "DJANGO_SECURE_SSL_REDIRECT": "on",
    "DJANGO_SECURE_HSTS_SECONDS": "31536000",
    "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS": "on",
    "DJANGO_SECURE_HSTS_PRELOAD": "on",
}
# A <script> element without src, or an on...= event handler attribute.
INLINE_CODE = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>|\son[a-z]+\s*=|javascript:", re.IGNORECASE)


def check_deploy(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    clean.update({"DJANGO_SETTINGS_MODULE": "config.settings", "PAPERBOY_ENV_FILE": "", **env})
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.stdout + result.stderr


def test_check_deploy_is_clean_once_https_switches_are_set_in_the_environment():
    assert "System check identified no issues" in check_deploy(**PRODUCTION, **HTTPS_SWITCHES)


def test_check_deploy_names_each_missing_https_switch():
    output = check_deploy(**PRODUCTION)
    assert "security.W004" in output  # HSTS
    assert "security.W008" in output  # HTTPS redirect


def test_the_default_policy_allows_no_inline_code_and_no_framing():
    csp = settings_from(CSP_PROBE)["csp"]["DIRECTIVES"]
    assert csp["script-src"] == csp["style-src"] == ["'self'"]
    assert csp["frame-ancestors"] == csp["object-src"] == ["'none'"]


def test_policy_directives_and_report_only_mode_come_from_the_environment():
    s = settings_from(CSP_PROBE, CSP_IMG_SRC="'self' https://cdn.example.org", CSP_REPORT_ONLY="on")
    assert s["csp"] is None
    assert s["csp_ro"]["DIRECTIVES"]["img-src"] == ["'self'", "https://cdn.example.org"]
    assert s["csp_ro"]["DIRECTIVES"]["script-src"] == ["'self'"]


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["home", "subscribe", "topics", "resend"])
def test_site_pages_work_without_inline_code_under_the_strict_policy(client, name):
    topic = make_topic("Tiny robots")
    make_paper("Small legs", topics=[topic])
    response = client.get(reverse(name))
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "'unsafe-inline'" not in policy
    assert not INLINE_CODE.findall(response.text)


@pytest.mark.django_db
def test_the_sign_up_form_loads_its_time_zone_script_from_a_static_file(client):
    page = client.get(reverse("subscribe")).text
    assert re.search(r'<script src="/static/js/subscribe\.js" defer></script>', page)
    assert (ROOT / "static" / "js" / "subscribe.js").read_text().count("Intl.DateTimeFormat") == 1


@override_settings(DEBUG=False, SITE_URL="https://papers.example.org", TRUSTED_PROXY_COUNT=0)
def test_checks_warn_when_an_https_site_trusts_no_proxy_for_client_addresses():
    assert "paperboy.W007" in {m.id for m in run_checks(tags=["paperboy"])}
    with override_settings(TRUSTED_PROXY_COUNT=1):
        assert "paperboy.W007" not in {m.id for m in run_checks(tags=["paperboy"])}
    with override_settings(SITE_URL="http://papers.internal"):
        assert "paperboy.W007" not in {m.id for m in run_checks(tags=["paperboy"])}


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/admin/", "/admin/django_celery_beat/periodictask/add/", "/staff/sending/"])
def test_staff_pages_work_without_inline_code_or_styles(admin_client, url):
    response = admin_client.get(url)
    assert response.status_code == 200
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    data_blocks = re.compile(r'<script [^>]*type="application/json"[^>]*>')
    assert not [tag for tag in INLINE_CODE.findall(response.text) if not data_blocks.match(tag)]
    assert "<style" not in response.text
    assert not re.search(r'\sstyle="', response.text)


@pytest.mark.django_db
def test_the_schedule_form_still_says_the_crontab_in_words_from_a_static_script(admin_client):
    page = admin_client.get("/admin/django_celery_beat/periodictask/add/").text
    assert 'id="readable-crontabs"' in page
    assert "/static/js/periodictask_crontab.js" in page
    assert "/static/admin/js/change_form.js" in page
