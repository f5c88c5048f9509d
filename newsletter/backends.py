"""Email backends for development and benchmarks. Production uses Anymail's ESP backends."""

import json
import os
import time
import uuid
from pathlib import Path

from anymail.backends.test import EmailBackend as AnymailTestBackend
from anymail.message import AnymailRecipientStatus
from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone


class OutboxBackend(BaseEmailBackend):
    """Writes each message as one RFC 822 .eml file in OUTBOX_DIR (development only)."""

    def send_messages(self, email_messages) -> int:
        outbox = Path(settings.OUTBOX_DIR)
        outbox.mkdir(parents=True, exist_ok=True)
        for message in email_messages:
            # Timestamp first so a directory listing sorts oldest to newest.
            name = f"{timezone.now():%Y%m%d-%H%M%S-%f}-{uuid.uuid4().hex[:8]}.eml"
            (outbox / name).write_bytes(message.message().as_bytes(linesep="\r\n"))
        return len(email_messages)


def wait_like_an_esp() -> None:
    """Benchmarks: each call takes BENCH_ESP_LATENCY_MS, like a round trip to a real ESP."""
    latency = float(os.environ.get("BENCH_ESP_LATENCY_MS") or 0)
    if latency:
        time.sleep(latency / 1000)


class DiscardBackend(BaseEmailBackend):
    """Builds every message as complete MIME bytes, as SMTP or a raw-MIME ESP API would, then
    drops it (benchmarks)."""

    def send_messages(self, email_messages) -> int:
        for message in email_messages:
            message.message().as_bytes()
            wait_like_an_esp()
        return len(email_messages)


class ApiDiscardBackend(AnymailTestBackend):
    """What an API ESP backend does with a message (Postmark, Mailgun, SendGrid, ...): Anymail
    turns it into the ESP payload, serialised as the JSON request body, and gets a message id
    back. Nothing is sent or kept: Anymail's own test backend keeps every message in memory and
    looks each one up in that list, which slows quadratically over a benchmark run."""

    esp_name = "Discard"

    def post_to_esp(self, payload, message) -> dict:
        json.dumps(payload.get_params(), default=str)
        wait_like_an_esp()
        status = AnymailRecipientStatus(message_id=uuid.uuid4().hex, status="sent")
        return {"recipient_status": {email: status for email in payload.recipient_emails}}
