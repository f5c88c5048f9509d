"""The development outbox: one .eml per message, browsable only with DEBUG on."""

import pytest
from django.core.mail import EmailMultiAlternatives, get_connection
from django.test import override_settings


@pytest.fixture
def outbox_dir(tmp_path, settings):
    settings.OUTBOX_DIR = tmp_path / "outbox"
    settings.DEBUG = True
    return settings.OUTBOX_DIR


def send_sample() -> None:
    message = EmailMultiAlternatives(
        subject="Your papers for today",
        body="Plain text part",
        from_email="Paperboy <paperboy@localhost>",
        to=["reader@example.com"],
        headers={"List-Unsubscribe": "<https://example.org/u/abc>"},
        connection=get_connection("newsletter.backends.OutboxBackend"),
    )
    message.attach_alternative("<p>HTML <b>part</b></p>", "text/html")
    message.send()


def test_each_message_becomes_one_eml_file(outbox_dir):
    send_sample()
    send_sample()
    files = sorted(outbox_dir.glob("*.eml"))
    assert len(files) == 2
    raw = files[0].read_text()
    assert "Subject: Your papers for today" in raw
    assert "List-Unsubscribe: <https://example.org/u/abc>" in raw


def test_the_outbox_page_lists_and_shows_a_sent_message(client, outbox_dir):
    send_sample()
    listing = client.get("/dev/outbox/")
    assert listing.status_code == 200
    assert "Your papers for today" in listing.content.decode()

    name = next(outbox_dir.glob("*.eml")).name
    detail = client.get(f"/dev/outbox/{name}/").content.decode()
    assert "Plain text part" in detail
    assert "List-Unsubscribe" in detail
    assert "reader@example.com" in detail
    html = client.get(f"/dev/outbox/{name}/html")
    assert html["Content-Type"].startswith("text/html")
    assert b"<b>part</b>" in html.content


def test_the_outbox_is_unavailable_when_debug_is_off(client, outbox_dir):
    send_sample()
    name = next(outbox_dir.glob("*.eml")).name
    with override_settings(DEBUG=False):
        assert client.get("/dev/outbox/").status_code == 404
        assert client.get(f"/dev/outbox/{name}/").status_code == 404
        assert client.get(f"/dev/outbox/{name}/html").status_code == 404


def test_the_outbox_refuses_paths_outside_its_folder(client, outbox_dir):
    send_sample()
    assert client.get("/dev/outbox/..%2F..%2Fsettings.py/").status_code == 404
    assert client.get("/dev/outbox/missing.eml/").status_code == 404
