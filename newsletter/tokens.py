"""Signed, purpose-specific tokens for links in emails. No account, no login: the link is the key.

Each purpose has its own salt, so a confirm token cannot unsubscribe. Signing honours
SECRET_KEY_FALLBACKS, so links keep working across a key rotation.

Every link for a reader is a reader_token: it names the reader's key and their link key, plus an
optional extra value (a delivery id, a paper id). Changing the link key ("sign out all my
links", resubscribing, a new address) voids every link sent before, except for purposes that
survive it: unsubscribe links in old emails must keep working (RFC 8058 one-click).
"""

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import NamedTuple

from django.core import signing


@dataclass(frozen=True)
class Purpose:
    max_age: timedelta | None  # None: valid until the reader's links are signed out
    survives_sign_out: bool = False


PURPOSES: dict[str, Purpose] = {
    "confirm": Purpose(timedelta(days=7)),
    "manage": Purpose(None),
    "unsubscribe": Purpose(None, survives_sign_out=True),
    "digest": Purpose(None),  # "view in browser" for one delivery (extra: its id)
    # Reading or deleting everything is only ever offered through a fresh emailed link.
    "export": Purpose(timedelta(hours=1)),
    "erase": Purpose(timedelta(hours=1)),
    "feedback": Purpose(None),  # 👍 / 👎 / "add to my papers" for one (reader, paper)
    "feed": Purpose(None),  # a reader's private Atom feed of picks
}


class BadToken(Exception):
    """Tampered, truncated, expired or made for another purpose."""


class ReaderLink(NamedTuple):
    key: uuid.UUID  # Subscriber.key
    link_key: str  # Subscriber.link_key when the link was made ("" in links from before link keys)
    extra: str


def make_token(value: object, purpose: str) -> str:
    """Low level: links for a reader are made with reader_token (links.token_for)."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown token purpose {purpose!r}")
    return signing.TimestampSigner(salt=f"paperboy.{purpose}").sign(str(value))


def read_token(token: str, purpose: str) -> str:
    """The signed value, or BadToken."""
    signer = signing.TimestampSigner(salt=f"paperboy.{purpose}")
    try:
        return signer.unsign(token, max_age=PURPOSES[purpose].max_age)
    except (signing.BadSignature, KeyError) as exc:
        raise BadToken(str(exc)) from exc


def reader_token(key: uuid.UUID | str, link_key: str, purpose: str, extra: object = "") -> str:
    """A link token for one reader: "<key>.<link key>[.<extra>]", signed for `purpose`."""
    value = f"{key}.{link_key}" + (f".{extra}" if extra != "" else "")
    return make_token(value, purpose)


def read_reader_token(token: str, purpose: str) -> ReaderLink:
    """What a reader_token names (not yet checked against the reader's current link key)."""
    key, _, rest = read_token(token, purpose).partition(".")
    link_key, _, extra = rest.partition(".")  # link keys never contain a dot; extras may
    try:
        return ReaderLink(uuid.UUID(key), link_key, extra)
    except ValueError as exc:
        raise BadToken(str(exc)) from exc
