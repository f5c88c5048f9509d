"""Signed links for a reader: the one way to make them (they carry the reader's current link
key), to read them back, and the manage link a browser remembers in a cookie so that the public
paper pages can act for the reader who opened one of their links."""

import contextlib
import secrets
from functools import wraps
from typing import NamedTuple

from django.conf import settings
from django.http import HttpResponse
from django.urls import reverse

from newsletter.models import Subscriber
from newsletter.tokens import PURPOSES, BadToken, read_reader_token, reader_token

READER_COOKIE = settings.READER_COOKIE_NAME
READER_COOKIE_AGE = 365 * 24 * 3600


class SubscriberGone(BadToken):
    """A genuine link to a reader who has since been erased."""


class SignedOut(BadToken):
    """A genuine link made before the reader signed out their links."""


class Opened(NamedTuple):
    subscriber: Subscriber
    extra: str  # the value signed with the reader, e.g. a delivery id
    current: bool  # made with the reader's current link key


def find_link(token: str, purpose: str) -> Opened:
    """The reader a signed link points to, or BadToken: SubscriberGone when the reader was
    erased, SignedOut when the link predates their link key (unless the purpose survives that)."""
    found = read_reader_token(token, purpose)
    subscriber = Subscriber.objects.filter(key=found.key).first()
    if subscriber is None:
        raise SubscriberGone(str(found.key))
    current = secrets.compare_digest(found.link_key, subscriber.link_key)
    if not current and not PURPOSES[purpose].survives_sign_out:
        raise SignedOut(str(found.key))
    return Opened(subscriber, found.extra, current)


def find_subscriber(token: str, purpose: str) -> Subscriber:
    return find_link(token, purpose).subscriber


def token_for(subscriber: Subscriber, purpose: str, extra: object = "") -> str:
    """The one way to sign a link for a reader: it carries their current link key."""
    return reader_token(subscriber.key, subscriber.link_key, purpose, extra)


def path_for(subscriber: Subscriber, purpose: str, extra: object = "") -> str:
    """The site path of a signed link, e.g. /manage/<token>/ (URL name == token purpose)."""
    return reverse(purpose, args=[token_for(subscriber, purpose, extra)])


def link(subscriber: Subscriber, purpose: str, extra: object = "") -> str:
    """Absolute signed link for emails."""
    return settings.SITE_URL + path_for(subscriber, purpose, extra)


def remember(response: HttpResponse, subscriber: Subscriber) -> HttpResponse:
    """Let this browser's paper pages act for the reader who opened one of their links."""
    response.set_cookie(
        READER_COOKIE,
        token_for(subscriber, "manage"),
        max_age=READER_COOKIE_AGE,
        httponly=True,
        samesite="Lax",
        secure=settings.SITE_URL.startswith("https://"),
    )
    return response


def remembered_reader(request) -> Subscriber | None:
    token = request.COOKIES.get(READER_COOKIE)
    if not token:
        return None
    try:
        return find_subscriber(token, "manage")
    except BadToken:
        return None


def remembering(view):
    """Wrap a manage-token view: a page that worked also remembers the reader on this browser."""

    @wraps(view)
    def wrapper(request, token: str, *args, **kwargs):
        response = view(request, token, *args, **kwargs)
        if response.status_code == 200:
            with contextlib.suppress(BadToken):
                remember(response, find_subscriber(token, "manage"))
        return response

    return wrapper
