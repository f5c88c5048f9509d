"""Every public page in a real browser: no serious or critical axe-core violation, a screenshot at
desktop and phone width in test-artifacts/, and a sign-up done with the keyboard alone."""

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from django.utils import timezone

from newsletter import day_index, links, planning, sending
from newsletter.models import Subscriber
from newsletter.tokens import make_token
from papers.models import Organization, Paper
from tests.e2e.conftest import ARTIFACTS
from tests.factories import make_due_reader, make_new_paper, make_paper, make_topic, unlearning_topic

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
BLOCKING = {"serious", "critical"}
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def local_only(browser_page, live_server):
    """Thumbnails and avatars point at other hosts: the browser never leaves the test server."""
    browser_page.route(
        "**/*",
        lambda route: route.continue_() if route.request.url.startswith(live_server.url) else route.abort(),
    )
    return browser_page


def catalogue() -> dict[str, str]:
    robots = make_topic("Tiny robots", slug="tiny-robots", description="Small machines that move.")
    org = Organization.objects.create(
        name="facebook", display_name="AI at Meta", avatar_url="https://cdn.example.org/a.png"
    )
    today = timezone.localdate()
    paper = make_paper(
        r"Small robots learn to walk in $\mathcal{O}(n)$ steps",
        topics=[robots],
        listed_on=today,
        upvotes=120,
        featured=True,
        organization=org,
        authors=["Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra"],
        author_count=9,
        abstract=r"We gain +18.6\% in speed. " * 8,
        comment_count=4,
        code_url="https://github.com/example/walk",
        code_stars=1234,
        project_url="https://example.org/walk",
        thumbnail_url="https://cdn.example.org/t.png",
        editor_note="A clear write-up; start with section 3.",
    )
    for n in range(4):
        make_paper(
            f"Legged robot study {n}", topics=[robots], listed_on=today, abstract="Robots walk on legs."
        )
    make_paper("Yesterday's paper", listed_on=today - timedelta(days=1))
    return {"paper": paper.get_absolute_url(), "topic": robots.get_absolute_url()}


def digest_url(settings) -> str:
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    day_index.forget()
    topic = unlearning_topic()
    for n in range(3):
        make_new_paper(topic, title=f"Unlearning study {n}", org=n == 0, paper_id=f"2612.{n:05d}")
    reader = make_due_reader(topic)
    now = timezone.now()
    [delivery_id] = planning.create_deliveries([(reader.pk, reader.email, now.date())], now)
    sending.send_chunk([delivery_id])
    return reverse("digest-web", args=[make_token(delivery_id, "digest")])


def check(page, url: str, name: str) -> None:
    page.set_viewport_size(DESKTOP)
    page.goto(url)
    results = Axe().run(page)
    blocking = [v for v in results.response["violations"] if v["impact"] in BLOCKING]
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=ARTIFACTS / f"{name}-phone.png", full_page=True)
    details = [f"{v['id']} at {[n['target'] for n in v['nodes']][:3]}: {v['help']}" for v in blocking]
    assert not blocking, f"{name}: " + "; ".join(details)


def test_every_public_page_passes_axe_and_is_photographed_at_desktop_and_phone_width(
    live_server, local_only, settings
):
    ARTIFACTS.mkdir(exist_ok=True)
    urls = catalogue()
    reader = Subscriber.objects.create(
        email="reader@example.org", status=Subscriber.Status.ACTIVE, confirmed_at=timezone.now()
    )
    pages = {
        "home": "/",
        "week": "/?period=week",
        "search": "/?q=robots",
        "search-empty": "/?q=zebra",
        "paper": urls["paper"],
        "topic": urls["topic"],
        "topics": reverse("topics"),
        "archive": reverse("archive"),
        "signup": reverse("subscribe"),
        "preferences": links.path_for(reader, "manage"),
        "unsubscribe": links.path_for(reader, "unsubscribe"),
        "bad-link": reverse("unsubscribe", args=["tampered"]),
        "not-found": "/no/such/page/",
        "digest-web": digest_url(settings),
    }
    for name, path in pages.items():
        check(local_only, live_server.url + path, name)
    assert Paper.objects.count() > 5


def focus_until(page, selector: str, limit: int = 60) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_a_reader_signs_up_with_the_keyboard_alone(live_server, local_only, settings):
    settings.SIGNUP_MIN_SECONDS = 1
    catalogue()
    page = local_only
    page.goto(live_server.url + "/")
    focus_until(page, "#signup-box-email")
    page.keyboard.type("keys@example.org")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Get trending papers in your inbox").first.wait_for()
    focus_until(page, "input[name=topics]")
    page.keyboard.press("Space")
    page.wait_for_timeout(1100)  # people take a moment; faster forms are treated as bots
    focus_until(page, "button[type=submit]")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Check your inbox").wait_for()
    page.screenshot(path=ARTIFACTS / "signup-keyboard.png", full_page=True)
    assert Subscriber.objects.get(email="keys@example.org").status == Subscriber.Status.PENDING
