"""A real headless Chromium (Debian's, driven by Playwright) for the browser tests."""

from pathlib import Path

import pytest
from django.db import connections

from tests.web.conftest import _own_cache_namespace  # noqa: F401  (rate-limit keys per test)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def browser_page(monkeypatch):
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: run bin/ensure-browser (make test does).")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are safe.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(timezone_id="Europe/Berlin", viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        yield context.new_page()
        # Inside Playwright's context the test's ORM calls got a connection of their own; close it
        # here, in that same context, or the test database cannot be dropped afterwards.
        connections.close_all()
        browser.close()
