"""A reader's whole journey in a real browser: find papers, subscribe, confirm from the email that a
real Celery worker sent, change preferences, unsubscribe with the button."""

import re
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from newsletter.models import Subscriber
from tests.e2e.conftest import ARTIFACTS
from tests.factories import make_paper, make_topic
from tests.helpers import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.celery]


def read_link(outbox: Path, path_prefix: str) -> str:
    eml = wait_until(lambda: sorted(outbox.glob("*.eml")), timeout=30)[0]
    message = BytesParser(policy=policy.default).parse(eml.open("rb"))
    text = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(rf"https?://\S+{path_prefix}\S+", text).group(0)


def test_a_reader_subscribes_confirms_manages_and_unsubscribes_in_the_browser(
    live_server, start_worker, browser_page, tmp_path, settings
):
    settings.SIGNUP_MIN_SECONDS = 1
    outbox = tmp_path / "outbox"
    mail = {"DJANGO_EMAIL_BACKEND": "newsletter.backends.OutboxBackend", "OUTBOX_DIR": str(outbox)}
    start_worker(**mail, SITE_URL=live_server.url)
    robots = make_topic("Tiny robots", slug="tiny-robots")
    make_topic("Sparse models", slug="sparse-models")
    make_paper("Small robots learn to walk", topics=[robots], upvotes=12, featured=True, abstract="Walk.")
    make_paper("A quieter paper", upvotes=3, abstract="Something else entirely.")
    page = browser_page
    ARTIFACTS.mkdir(exist_ok=True)

    page.goto(live_server.url + "/?date=2026-11-24")
    assert page.get_by_role("heading", name="Small robots learn to walk").is_visible()
    page.screenshot(path=ARTIFACTS / "home.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=ARTIFACTS / "home-phone.png")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_label("Email address").fill("Journey@Example.org")
    page.get_by_role("button", name="Subscribe").click()
    page.get_by_label("Tiny robots").check()
    page.get_by_label("Interests").fill("legged locomotion")
    page.wait_for_timeout(1100)  # people take a moment; faster forms are treated as bots
    page.get_by_role("button", name="Subscribe").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()
    page.screenshot(path=ARTIFACTS / "signup-result.png", full_page=True)
    reader = Subscriber.objects.get(email="journey@example.org")
    assert (reader.status, reader.time_zone) == (Subscriber.Status.PENDING, "Europe/Berlin")

    page.goto(read_link(outbox, "/confirm/"))
    page.get_by_role("button", name="Yes, send me papers").click()
    page.get_by_role("heading", name="You’re subscribed").wait_for()
    reader.refresh_from_db()
    assert reader.status == Subscriber.Status.ACTIVE

    page.get_by_role("link", name="Manage preferences").click()
    page.get_by_label("Sparse models").check()
    page.get_by_label("Papers per email").fill("15")
    page.get_by_role("button", name="Save preferences").click()
    page.get_by_text("Papers per email: 10 → 15").wait_for()
    reader.refresh_from_db()
    assert reader.digest_size == 15
    assert sorted(reader.topics.values_list("slug", flat=True)) == ["sparse-models", "tiny-robots"]

    page.get_by_role("link", name="Unsubscribe").click()
    page.get_by_role("button", name="Unsubscribe").click()
    page.get_by_role("heading", name="You’re unsubscribed").wait_for()
    reader.refresh_from_db()
    assert reader.status == Subscriber.Status.UNSUBSCRIBED
