"""Signed, purpose-specific tokens for links in emails. No account, no login: the link is the key.

Each purpose has its own salt, so a confirm token cannot unsubscribe. Signing honours
SECRET_KEY_FALLBACKS, so links keep working across a key rotation.
"""

from datetime import timedelta

from django.core import signing

# Purpose -> how long a token stays valid (None: forever, e.g. unsubscribe links).
PURPOSES: dict[str, timedelta | None] = {
    "confirm": timedelta(days=7),
    "manage": None,
    "unsubscribe": None,
    "digest": None,  # "view in browser" for one delivery
    "feed": None,  # a reader's private Atom feed of picks
}


class BadToken(Exception):
    """Tampered, truncated, expired or made for another purpose."""


def make_token(value: object, purpose: str) -> str:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown token purpose {purpose!r}")
    return signing.TimestampSigner(salt=f"paperboy.{purpose}").sign(str(value))


def read_token(token: str, purpose: str) -> str:
    """The signed value, or BadToken."""
    signer = signing.TimestampSigner(salt=f"paperboy.{purpose}")
    try:
        return signer.unsign(token, max_age=PURPOSES[purpose])
    except (signing.BadSignature, KeyError) as exc:
        raise BadToken(str(exc)) from exc
