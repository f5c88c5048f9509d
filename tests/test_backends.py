"""The benchmark backends build each message like a real one and keep nothing."""

import pytest
from anymail.exceptions import AnymailInvalidAddress
from django.core import mail
from django.core.mail import EmailMultiAlternatives, get_connection


def digest_like(to: str) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives("Papers for you…", "text", "Paperboy <p@example.org>", [to])
    message.attach_alternative("<p>html</p>", "text/html")
    message.tags, message.metadata = ["digest"], {"delivery_id": "7"}
    return message


def test_the_api_discard_backend_returns_a_message_id_and_keeps_nothing():
    backend = get_connection("newsletter.backends.ApiDiscardBackend")
    kept = len(getattr(mail, "outbox", []))
    messages = [digest_like(f"reader{i}@example.org") for i in range(3)]
    assert backend.send_messages(messages) == 3
    ids = {m.anymail_status.message_id for m in messages}
    assert len(ids) == 3
    assert None not in ids
    assert len(getattr(mail, "outbox", [])) == kept


def test_the_api_discard_backend_refuses_what_anymail_refuses():
    backend = get_connection("newsletter.backends.ApiDiscardBackend")
    with pytest.raises(AnymailInvalidAddress):
        backend.send_messages([digest_like("not an address")])


def test_the_mime_discard_backend_builds_the_whole_message():
    message = digest_like("reader@example.org")
    message.extra_headers["X-Bad"] = "line\nbreak"
    with pytest.raises(ValueError, match="newlines"):
        get_connection("newsletter.backends.DiscardBackend").send_messages([message])
