"""Email backends that misbehave on purpose, for tests. Real worker subprocesses load them through
DJANGO_EMAIL_BACKEND, so they are configured by environment variables and keep their state in
files (every attempt is a line in $FLAKY_STATE_DIR/attempts.log; delivered mail is an .eml in
OUTBOX_DIR, like the development outbox):

- FLAKY_RECIPIENTS: comma-separated addresses that misbehave (everyone else is delivered).
- FLAKY_FAILURES: how many times a transient failure repeats per address (default 1).
- FLAKY_DELAY: seconds each message takes, to give a test time to kill the worker mid-run.
"""

import json
import os
import threading
import time
import uuid
from pathlib import Path

import requests
from anymail.backends.postmark import EmailBackend as PostmarkBackend
from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused, AnymailRequestsAPIError
from anymail.signals import AnymailTrackingEvent, tracking
from anymail.webhooks.postmark import PostmarkTrackingWebhookView

from newsletter.backends import OutboxBackend


def state_dir() -> Path:
    path = Path(os.environ["FLAKY_STATE_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def attempts(recipient: str | None = None) -> list[str]:
    """Every recipient handed to a flaky backend, one entry per attempt, oldest first."""
    log = state_dir() / "attempts.log"
    lines = log.read_text().split() if log.exists() else []
    return [line for line in lines if recipient in (None, line)]


class SlowOutboxBackend(OutboxBackend):
    """Delivers everything to the outbox, taking FLAKY_DELAY seconds per message."""

    def send_messages(self, email_messages) -> int:
        for message in email_messages:
            recipient = message.to[0]
            with (state_dir() / "attempts.log").open("a") as log:
                log.write(recipient + "\n")
            time.sleep(float(os.environ.get("FLAKY_DELAY", "0")))
            if recipient in os.environ.get("FLAKY_RECIPIENTS", "").split(","):
                self.misbehave(message, recipient)
            super().send_messages([message])
            self.after_send(message, recipient)
        return len(email_messages)

    def misbehave(self, message, recipient: str) -> None:
        """Raise before anything is delivered."""

    def after_send(self, message, recipient: str) -> None:
        """Raise after the message was delivered."""


def esp_error(status: int, reason: str, body: bytes) -> AnymailAPIError:
    """What Anymail raises for an ESP's HTTP error answer."""
    response = requests.Response()
    response.status_code, response.reason, response._content = status, reason, body
    return AnymailAPIError(f"The ESP answered {status} {reason}", status_code=status, response=response)


class TransientFailureBackend(SlowOutboxBackend):
    """The ESP answers 503 for the chosen recipients, FLAKY_FAILURES times each."""

    def misbehave(self, message, recipient: str) -> None:
        if len(attempts(recipient)) <= int(os.environ.get("FLAKY_FAILURES", "1")):
            raise esp_error(503, "Service Unavailable", b'{"message": "temporarily unavailable"}')


class PermanentFailureBackend(SlowOutboxBackend):
    """The ESP refuses the chosen recipients (invalid, bounced before)."""

    def misbehave(self, message, recipient: str) -> None:
        raise AnymailRecipientsRefused("The ESP rejected the recipient: inactive address")


class TimeoutAfterSendBackend(SlowOutboxBackend):
    """The ESP accepts the message for the chosen recipients, then the answer times out; raised
    the way Anymail raises requests' errors (a subclass of both)."""

    def after_send(self, message, recipient: str) -> None:
        if recipient in os.environ.get("FLAKY_RECIPIENTS", "").split(","):
            error = type("AnymailRequestsAPIError", (AnymailRequestsAPIError, requests.ReadTimeout), {})
            raise error("Error posting to https://api.esp.example/send:") from requests.ReadTimeout(
                "read timed out"
            )


class DeliveredThenTimeoutBackend(TimeoutAfterSendBackend):
    """As above, and the ESP's `delivered` webhook arrives while our request is still timing out
    (the row is 'sending' when the event is recorded)."""

    def after_send(self, message, recipient: str) -> None:
        if recipient in os.environ.get("FLAKY_RECIPIENTS", "").split(","):
            event = AnymailTrackingEvent(
                event_type="delivered", recipient=recipient, message_id="esp-early", metadata=message.metadata
            )
            tracking.send(sender=PostmarkTrackingWebhookView, event=event, esp_name="Postmark")
        super().after_send(message, recipient)


class PostmarkPayloadBackend(PostmarkBackend):
    """Anymail's Postmark backend up to the HTTP call: each request body is kept in `payloads`
    and answered the way Postmark answers a successful send."""

    payloads: list[dict] = []

    def post_to_esp(self, payload, message) -> requests.Response:
        body = json.loads(payload.serialize_data())
        PostmarkPayloadBackend.payloads.append(body)
        response = requests.Response()
        response.status_code, response.encoding = 200, "utf-8"
        response._content = json.dumps(
            {"To": body["To"], "MessageID": str(uuid.uuid4()), "ErrorCode": 0, "Message": "OK"}
        ).encode()
        return response


class RateLimitedBackend(SlowOutboxBackend):
    """The ESP answers 429 Too Many Requests for the chosen recipients, FLAKY_FAILURES times each."""

    def misbehave(self, message, recipient: str) -> None:
        if len(attempts(recipient)) <= int(os.environ.get("FLAKY_FAILURES", "1")):
            raise esp_error(
                429, "Too Many Requests", b'{"ErrorCode": 429, "Message": "Rate limit exceeded."}'
            )


class ConcurrencyProbeBackend(SlowOutboxBackend):
    """Records the most sends ever in flight at once in $FLAKY_STATE_DIR/peak (FLAKY_DELAY each)."""

    lock = threading.Lock()
    in_flight = peak = 0

    def send_messages(self, email_messages) -> int:
        cls = ConcurrencyProbeBackend
        with cls.lock:
            cls.in_flight += 1
            cls.peak = max(cls.peak, cls.in_flight)
            (state_dir() / "peak").write_text(str(cls.peak))
        try:
            return super().send_messages(email_messages)
        finally:
            with cls.lock:
                cls.in_flight -= 1
