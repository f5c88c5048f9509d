"""Post recorded ESP webhook payloads (tests/fixtures/webhooks/) the way each ESP does."""

import base64
import hashlib
import hmac
import json
from contextlib import nullcontext
from pathlib import Path
from string import Template

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "webhooks"
WEBHOOK_SECRET = "esp:s3cret-webhook-password"
MAILGUN_SIGNING_KEY = "key-mailgun-webhook-signing-0123456789"
# An ECDSA key pair standing in for SendGrid's: we sign, Anymail verifies with the public half.
SENDGRID_PRIVATE_KEY = ec.generate_private_key(ec.SECP256R1())
SENDGRID_PUBLIC_KEY = "".join(
    SENDGRID_PRIVATE_KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
    .splitlines()[1:-1]
)
ANYMAIL_SETTINGS = {
    "WEBHOOK_SECRET": WEBHOOK_SECRET,
    "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_SIGNING_KEY,
    "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY": SENDGRID_PUBLIC_KEY,
}


def payload(name: str, recipient: str = "reader@example.com", message_id: str = "", delivery_id="") -> str:
    text = (FIXTURES / f"{name}.json").read_text()
    return Template(text).substitute(
        recipient=recipient, message_id=message_id, delivery_id=delivery_id, signature="unsigned"
    )


def basic_auth(secret: str | None = WEBHOOK_SECRET) -> dict[str, str]:
    if secret is None:
        return {}
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(secret.encode()).decode()}


def configured(esp: str):
    """Webhooks answer only for ANYMAIL_ESP. Threads must set it beforehand: override_settings
    swaps the settings of the whole process."""
    return nullcontext() if esp == settings.ANYMAIL_ESP else override_settings(ANYMAIL_ESP=esp)


def signed_now() -> str:
    """A signature timestamp of the current (possibly frozen) time, as ESPs send."""
    return str(int(timezone.now().timestamp()))


def post_postmark(client, body: str, secret: str | None = WEBHOOK_SECRET):
    with configured("postmark"):
        return client.post(
            "/anymail/postmark/tracking/", body, content_type="application/json", **basic_auth(secret)
        )


def sign_mailgun(body: str, key: str = MAILGUN_SIGNING_KEY, timestamp: str | None = None) -> str:
    data = json.loads(body)
    sig = data["signature"]
    sig["timestamp"] = timestamp or signed_now()
    message = f"{sig['timestamp']}{sig['token']}".encode()
    sig["signature"] = hmac.new(key.encode(), message, hashlib.sha256).hexdigest()
    return json.dumps(data)


def post_mailgun(
    client, body: str, secret: str | None = WEBHOOK_SECRET, key: str = MAILGUN_SIGNING_KEY, timestamp=None
):
    signed = sign_mailgun(body, key, timestamp)
    with configured("mailgun"):
        return client.post(
            "/anymail/mailgun/tracking/", signed, content_type="application/json", **basic_auth(secret)
        )


def sendgrid_headers(body: str, timestamp: str | None = None, private_key=SENDGRID_PRIVATE_KEY) -> dict:
    timestamp = timestamp or signed_now()
    signature = private_key.sign(timestamp.encode() + body.encode(), ec.ECDSA(hashes.SHA256()))
    return {
        "HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_SIGNATURE": base64.b64encode(signature).decode(),
        "HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_TIMESTAMP": timestamp,
    }


def post_sendgrid(client, body: str, secret: str | None = WEBHOOK_SECRET, headers: dict | None = None):
    headers = sendgrid_headers(body) if headers is None else headers
    with configured("sendgrid"):
        return client.post(
            "/anymail/sendgrid/tracking/",
            body,
            content_type="application/json",
            **basic_auth(secret),
            **headers,
        )


def post_ses(client, body: str, secret: str | None = WEBHOOK_SECRET, message_id: str | None = None):
    """SNS posts JSON as text/plain and repeats its message id and type in headers."""
    sns = json.loads(body)
    with configured("amazon_ses"):
        return client.post(
            "/anymail/amazon_ses/tracking/",
            body,
            content_type="text/plain; charset=UTF-8",
            HTTP_X_AMZ_SNS_MESSAGE_ID=sns["MessageId"] if message_id is None else message_id,
            HTTP_X_AMZ_SNS_MESSAGE_TYPE=sns["Type"],
            **basic_auth(secret),
        )
