"""Email backends for development and benchmarks. Production uses Anymail's ESP backends."""

import uuid
from pathlib import Path

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


class DiscardBackend(BaseEmailBackend):
    """Builds every message in full, as an ESP backend would, then drops it (benchmarks)."""

    def send_messages(self, email_messages) -> int:
        for message in email_messages:
            message.message().as_bytes()
        return len(email_messages)
