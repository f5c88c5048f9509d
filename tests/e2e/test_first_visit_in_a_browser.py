"""A newcomer's first look in a real browser: the weekday field, the dev outbox, the admin paper list."""

import pytest
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from playwright.sync_api import expect

from newsletter.backends import OutboxBackend
from tests.e2e.conftest import ARTIFACTS
from tests.factories import make_paper, make_topic

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_weekday_shows_only_for_weekly_digests(live_server, browser_page):
    make_topic("Tiny robots")
    page = browser_page
    page.goto(live_server.url + "/subscribe/")
    weekday = page.get_by_label("Weekly digests arrive on")
    assert page.get_by_role("radio", name="Daily").is_checked()
    expect(weekday).not_to_be_visible()
    page.get_by_role("radio", name="Weekly").check()
    expect(weekday).to_be_visible()


def test_the_outbox_shows_the_html_email_large_and_the_text_wrapped(
    live_server, browser_page, settings, tmp_path
):
    settings.DEBUG = True
    settings.OUTBOX_DIR = tmp_path
    message = EmailMultiAlternatives("Hello", "A long line of text. " * 120, to=["reader@example.org"])
    message.attach_alternative("<p>" + "Hello there. " * 200 + "</p>", "text/html")
    OutboxBackend().send_messages([message])
    page = browser_page
    page.goto(live_server.url + "/dev/outbox/")
    page.get_by_role("link", name="Hello").click()
    frame = page.locator("iframe.outbox-html").bounding_box()
    assert frame["width"] >= 700
    assert frame["height"] >= 600
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    page.screenshot(path=ARTIFACTS / "outbox-message.png", full_page=True)


def test_the_admin_paper_list_fits_a_1280_pixel_screen(live_server, browser_page):
    get_user_model().objects.create_superuser("editor", "editor@example.org", "pw")
    topics = [make_topic(f"A topic with a long name {n}") for n in range(5)]
    for n in range(3):
        make_paper(f"{n}: a title that goes on and on about very large language models " * 3, topics=topics)
    page = browser_page
    page.goto(live_server.url + "/admin/login/")
    page.get_by_label("Username").fill("editor")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Log in").click()
    # expect() waits for the page the login leads to; is_visible() would look at once.
    expect(page.get_by_role("link", name="Sending dashboard")).to_be_visible()
    page.goto(live_server.url + "/admin/papers/paper/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    # The list scrolls inside its own box when it is too wide: nothing may be hidden there either.
    results = "document.querySelector('#changelist .results')"
    assert page.evaluate(f"(r => r.scrollWidth <= r.clientWidth)({results})")
    assert page.locator("th.column-hidden").is_visible()
    page.screenshot(path=ARTIFACTS / "admin-papers.png", full_page=True)
