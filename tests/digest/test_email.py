"""What readers and staff see: the digest email, view in browser, preview, admin and the command."""

import email
import email.policy
import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from newsletter import planning, sending, subscriptions
from newsletter.models import DigestDelivery, Subscriber
from newsletter.tokens import read_reader_token
from tests.backends import PostmarkPayloadBackend
from tests.factories import make_due_reader, make_new_paper, make_topic, unlearning_topic

pytestmark = pytest.mark.django_db
POSTAL = "Paperboy Ltd, 12 Quire Lane, Bookham"


@pytest.fixture(autouse=True)
def _site(settings):
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    settings.SITE_URL = "https://papers.example.org"
    settings.NEWSLETTER_POSTAL_ADDRESS = POSTAL


def send_to(*readers) -> list[int]:
    now = timezone.now()
    ids = planning.create_deliveries([(r.pk, r.email, now.date()) for r in readers], now)
    sending.send_chunk(ids)
    return ids


def html_of(message) -> str:
    return message.alternatives[0][0]


def test_every_digest_has_its_own_one_click_unsubscribe_that_works_and_all_the_links():
    topic = unlearning_topic()
    make_new_paper(topic)
    readers = {r.email: r for r in (make_due_reader(topic) for _ in range(25))}
    send_to(*readers.values())
    urls = set()
    for message in mail.outbox:
        reader = readers[message.to[0]]
        header = message.extra_headers["List-Unsubscribe"]
        [url] = re.findall(r"<([^>]+)>", header)
        assert header == f"<{url}>"
        assert url.startswith("https://papers.example.org/unsubscribe/")
        assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert read_reader_token(url.rstrip("/").rsplit("/", 1)[1], "unsubscribe").key == reader.key
        manage = re.search(r"https://papers.example.org/manage/[^\s\"<]+", message.body).group()
        for part in (message.body, html_of(message)):
            assert url in part
            assert manage in part
            assert POSTAL in part
        urls.add(url)
        # What a mailbox provider does with the header (RFC 8058): a bare POST, no cookies.
        response = Client(enforce_csrf_checks=True).post(url.removeprefix("https://papers.example.org"))
        assert response.status_code == 200
        reader.refresh_from_db()
        assert reader.status == Subscriber.Status.UNSUBSCRIBED
    assert len(urls) == len(readers) == len(mail.outbox)


def test_the_digest_shows_each_paper_with_its_details_and_reason():
    topic = unlearning_topic()
    top = make_new_paper(topic, title="Forgetting on demand", upvotes=180, org=True)
    make_new_paper(topic, title="A second paper about unlearning", upvotes=3, code_url="")
    [delivery_id] = send_to(make_due_reader(topic))
    [message] = mail.outbox
    html, text = html_of(message), message.body

    assert message.subject == "2 new papers for you: Forgetting on demand"
    assert message.tags == ["digest"]
    assert message.metadata == {"delivery_id": str(delivery_id)}
    assert f'href="https://papers.example.org/papers/{top.paper_id}/"' in html
    for part in (html, text):
        assert "Forgetting on demand" in part
        assert "AI at Meta" in part
        assert "Ada Lovelace, Alan Turing, Grace Hopper et al." in part
        assert "180 upvotes" in part
        assert top.listed_on.strftime("%b %-d, %Y") in part  # the paper's date
        assert "We study machine unlearning" in part
        assert "https://github.com/example/unlearning" in part
        assert "matches your topic Machine unlearning" in part
        assert "https://papers.example.org/digest/" in part
    assert 'style="' in html
    assert "<style" not in html  # inline CSS only: many clients drop <style> blocks


@pytest.mark.parametrize(
    "marker", ["%%MANAGE_URL%%", "%%PAPERS%%", "%%REASON%%", "%%NOT_A_SLOT%%", "{{ x }}"]
)
def test_paper_text_that_looks_like_template_syntax_is_shown_as_written(client, staff_client, marker):
    topic = unlearning_topic()
    make_new_paper(
        topic, title=f"Escaping {marker} in titles", abstract=f"We study machine unlearning {marker}."
    )
    reader = make_due_reader(topic)
    preview = staff_client.get(f"/staff/digests/{reader.pk}/preview/")
    assert preview.status_code == 200
    assert f"Escaping {marker} in titles" in preview.text
    [delivery_id] = send_to(reader)
    assert DigestDelivery.objects.get(pk=delivery_id).status == "sent"
    [message] = mail.outbox
    manage = re.search(r"https://papers.example.org/manage/[^\s\"<]+", message.body).group()
    for part in (message.body, html_of(message)):
        assert f"Escaping {marker} in titles" in part
        assert f"unlearning {marker}." in part
        assert part.count(manage) == 1  # only the footer's link, none where the text was
    assert message.subject == f"1 new paper for you: Escaping {marker} in titles"
    web = re.search(r"https://papers.example.org(/digest/[^\s]+)", message.body).group(1)
    assert f"Escaping {marker} in titles" in client.get(web).text


@pytest.mark.parametrize(
    "title",
    [
        "Über-efficient attention: “FlashMLA” for 百万-token contexts — déjà vu, Ωmega 🚀 " * 2,
        "An all-ASCII title that is long enough to need folding across several header lines " * 2,
    ],
)
def test_the_digest_as_mime_bytes_reads_back_exactly_as_built(title):
    """What the SMTP backend and raw-MIME ESP APIs (Amazon SES) send: message().as_bytes()."""
    topic = unlearning_topic()
    make_new_paper(topic, title=title.strip())
    make_new_paper(topic, title=title.strip() + " (part two)", upvotes=1)
    send_to(*(make_due_reader(topic) for _ in range(3)))
    boundaries = set()
    for message in mail.outbox:
        raw = message.message().as_bytes(linesep="\r\n")
        assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
        subject_lines = re.search(rb"\r\nSubject:(.*?)\r\n(?! )", raw, re.S).group().split(b"\r\n")
        assert all(len(line) <= 78 for line in subject_lines)  # folded: RFC 5322 2.1.1
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert parsed["Subject"].strip() == message.subject
        assert parsed["List-Unsubscribe"].strip() == message.extra_headers["List-Unsubscribe"]
        assert parsed.get_content_type() == "multipart/alternative"
        plain, html = (part.get_content() for part in parsed.iter_parts())
        assert plain.replace("\r\n", "\n") == message.body
        assert html.replace("\r\n", "\n") == html_of(message)
        boundaries.add(parsed.get_boundary())
    assert len(boundaries) == len(mail.outbox) == 3


def test_with_postmark_digests_go_through_the_broadcast_stream_and_confirmations_do_not(settings):
    settings.EMAIL_BACKEND = "tests.backends.PostmarkPayloadBackend"
    settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": "server-token"}
    settings.POSTMARK_DIGEST_STREAM = "broadcast"
    PostmarkPayloadBackend.payloads.clear()
    topic = unlearning_topic()
    make_new_paper(topic)
    reader = make_due_reader(topic)
    [delivery_id] = send_to(reader)
    assert DigestDelivery.objects.get(pk=delivery_id).status == "sent"
    pending = make_due_reader(status=Subscriber.Status.PENDING)
    subscriptions.send_subscription_email(pending.pk, "confirm")
    digest, confirmation = PostmarkPayloadBackend.payloads
    assert (digest["To"], digest["MessageStream"]) == (reader.email, "broadcast")
    assert confirmation["To"] == pending.email
    assert "MessageStream" not in confirmation  # Postmark's default, transactional stream

    settings.POSTMARK_DIGEST_STREAM = ""
    send_to(make_due_reader(topic))
    assert "MessageStream" not in PostmarkPayloadBackend.payloads[-1]


def test_view_in_browser_shows_the_digest_as_mailed_and_rejects_bad_links(client):
    topic = unlearning_topic()
    make_new_paper(topic, title="Forgetting on demand")
    send_to(make_due_reader(topic))
    [message] = mail.outbox
    url = re.search(r"https://papers.example.org(/digest/[^\s]+)", message.body).group(1)

    response = client.get(url)
    assert response.status_code == 200
    assert "Forgetting on demand" in response.text
    assert "matches your topic Machine unlearning" in response.text
    assert client.get(url[:-5] + "xxxx/").status_code == 404


@pytest.fixture
def staff_client(client):
    user = get_user_model().objects.create_superuser("editor", "editor@example.com", "pw")
    client.force_login(user)
    return client


def test_staff_preview_the_next_digest_with_scores_and_reasons_and_can_mail_it_to_themselves(staff_client):
    topic = unlearning_topic()
    make_new_paper(topic, title="Forgetting on demand")
    reader = make_due_reader(topic)

    page = staff_client.get(f"/staff/digests/{reader.pk}/preview/")
    assert page.status_code == 200
    assert "Forgetting on demand" in page.text
    assert "matches your topic Machine unlearning" in page.text
    [score] = re.findall(r"<td>Forgetting on demand</td><td>([\d.]+)</td>", page.text)
    assert float(score) > 0

    staff_client.post(f"/staff/digests/{reader.pk}/test/")
    [message] = mail.outbox
    assert message.to == ["editor@example.com"]
    assert message.tags == ["digest-test"]
    assert message.metadata == {}
    assert DigestDelivery.objects.count() == 0


def test_previews_are_for_staff_only(client):
    reader = make_due_reader()
    assert client.get(f"/staff/digests/{reader.pk}/preview/").status_code == 302
    assert client.post(f"/staff/digests/{reader.pk}/test/").status_code == 302


def test_the_deliveries_admin_lists_rows_and_requeues_only_failed_ones(
    staff_client, django_capture_on_commit_callbacks
):
    failed = DigestDelivery.objects.create(
        subscriber=make_due_reader(), issue_date=timezone.now().date(), status="failed", error="Gave up: 503"
    )
    sent = DigestDelivery.objects.create(
        subscriber=make_due_reader(), issue_date=timezone.now().date(), status="sent"
    )
    page = staff_client.get("/admin/newsletter/digestdelivery/?status__exact=failed")
    assert page.status_code == 200
    assert "Gave up: 503" in page.text

    with django_capture_on_commit_callbacks() as callbacks:
        staff_client.post(
            "/admin/newsletter/digestdelivery/",
            {"action": "requeue_failed", "_selected_action": [failed.pk, sent.pk]},
        )
    failed.refresh_from_db()
    sent.refresh_from_db()
    assert (failed.status, sent.status) == ("queued", "sent")
    assert len(callbacks) == 1


def test_send_digests_dry_run_prints_who_gets_what_and_sends_nothing():
    topic = unlearning_topic()
    make_new_paper(topic, title="Forgetting on demand")
    reader = make_due_reader(topic)
    make_due_reader(make_topic("Robotics", ("robot",)))
    out = StringIO()
    call_command("send_digests", "--dry-run", stdout=out)
    assert f"{reader.email} (subscriber {reader.pk})" in out.getvalue()
    assert "Forgetting on demand  (matches your topic Machine unlearning)" in out.getvalue()
    assert "nothing matched, no email" in out.getvalue()
    assert mail.outbox == []
    assert DigestDelivery.objects.count() == 0


def test_send_digests_for_one_subscriber_sends_one_digest_once():
    topic = unlearning_topic()
    make_new_paper(topic)
    reader = make_due_reader(topic, delivery_hour=23, time_zone="Pacific/Kiritimati")
    out = StringIO()
    call_command("send_digests", "--subscriber", reader.email.upper(), stdout=out)
    assert "1 digests planned: 1 sent." in out.getvalue()
    assert [m.to for m in mail.outbox] == [[reader.email]]
    with pytest.raises(CommandError, match="already has a digest"):
        call_command("send_digests", "--subscriber", reader.email)


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--date", "2026-13-01"], "is not a YYYY-MM-DD date"),
        (["--subscriber", "nobody@example.com"], "no subscriber with that email"),
    ],
)
def test_send_digests_rejects_bad_input_with_one_line_and_writes_nothing(args, error):
    make_due_reader()
    with pytest.raises(CommandError, match=error):
        call_command("send_digests", *args)
    assert DigestDelivery.objects.count() == 0


def test_view_in_browser_allows_the_emails_inline_styles_where_site_pages_do_not(client):
    topic = unlearning_topic()
    make_new_paper(topic, title="Forgetting on demand")
    send_to(make_due_reader(topic))
    url = re.search(r"https://papers.example.org(/digest/[^\s]+)", mail.outbox[0].body).group(1)
    response = client.get(url)
    assert response.status_code == 200
    assert 'style="' in response.text
    policy = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
    assert policy["style-src"] == "'self' 'unsafe-inline'"
    assert policy["script-src"] == "'self'"
    assert "'unsafe-inline'" not in client.get("/").headers["Content-Security-Policy"]


def test_the_digest_reads_math_as_plain_text_and_carries_the_editor_s_note():
    topic = unlearning_topic()
    make_new_paper(
        topic,
        title=r"Unlearning in $\mathcal{O}(n)$ steps",
        abstract=r"We study machine unlearning and gain +18.6\% with $\alpha$-mixing.",
        editor_note="Read section 3 <first>.",
    )
    send_to(make_due_reader(topic))
    [message] = mail.outbox
    html, text = html_of(message), message.body
    assert message.subject == "1 new paper for you: Unlearning in 𝒪(n) steps"
    for part in (html, text):
        assert "Unlearning in 𝒪(n) steps" in part
        assert "gain +18.6% with α-mixing" in part
        assert "$" not in part
    assert "Editor’s note: Read section 3 <first>." in text
    assert "Editor’s note:</strong> Read section 3 &lt;first&gt;." in html
