"""The digest email as a mail client shows it: rendered by a real browser at desktop and phone
widths, with screenshots in test-artifacts/."""

import pytest
from django.core import mail
from django.utils import timezone

from newsletter import planning, sending
from tests.e2e.conftest import ARTIFACTS
from tests.factories import make_due_reader, make_new_paper, unlearning_topic

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def digest_html(settings) -> str:
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    settings.SITE_URL = "https://papers.example.org"
    settings.NEWSLETTER_POSTAL_ADDRESS = "Paperboy Ltd, 12 Quire Lane, Bookham"
    topic = unlearning_topic()
    make_new_paper(
        topic,
        title="Forgetting on demand: certified machine unlearning for very large language models",
        upvotes=180,
        org=True,
        featured=True,
    )
    for n in range(4):
        make_new_paper(topic, title=f"Unlearning study {n} with a long-winded title about what models forget")
    reader = make_due_reader(topic)
    now = timezone.now()
    sending.send_chunk(planning.create_deliveries([(reader.pk, reader.email, now.date())], now))
    [message] = mail.outbox
    return message.alternatives[0][0]


def test_the_digest_reads_well_on_desktop_and_phone(browser_page, digest_html):
    page = browser_page
    ARTIFACTS.mkdir(exist_ok=True)
    page.set_content(digest_html)
    top = page.get_by_role("link", name="Forgetting on demand: certified machine unlearning")
    assert top.is_visible()
    assert top.get_attribute("href").startswith("https://papers.example.org/papers/")
    for text in ["AI at Meta", "180 upvotes", "matches your topic Machine unlearning", "Bookham"]:
        assert page.get_by_text(text).first.is_visible()
    assert page.get_by_role("link", name="Unsubscribe").is_visible()
    assert page.get_by_role("link", name="Manage preferences").first.is_visible()
    # A readable column on a wide screen, as in common mail clients.
    assert top.bounding_box()["width"] <= 640
    page.screenshot(path=ARTIFACTS / "digest.png", full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})
    # Nothing wider than the phone: no sideways scrolling to read a paper.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert top.bounding_box()["x"] >= 0
    page.screenshot(path=ARTIFACTS / "digest-phone.png", full_page=True)
