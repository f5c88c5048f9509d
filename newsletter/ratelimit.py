"""Fixed-window counters in the shared cache (Redis in production) for the public forms."""

import ipaddress
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from newsletter.models import email_hash


def hit(scope: str, ident: str, limit: int, window: int) -> bool:
    """Count one request for (scope, ident); True while the count is within `limit` per `window` s."""
    bucket = int(time.time()) // window
    key = f"paperboy:rl:{scope}:{ident}:{bucket}"
    # add() is a no-op when the key exists, so concurrent first hits do not reset each other.
    cache.add(key, 0, timeout=window + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.set(key, 1, timeout=window + 5)
        count = 1
    return count <= limit


def client_ip(request: HttpRequest) -> str:
    """The caller's address, trusting only as many X-Forwarded-For hops as we have proxies."""
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if proxies and len(forwarded) >= proxies:
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def client_ip_address(request: HttpRequest) -> str | None:
    """client_ip() if it is an IP address, else None: for records that store one (admin login
    throttling), where a test client or a garbled X-Forwarded-For must not break the login."""
    try:
        return str(ipaddress.ip_address(client_ip(request)))
    except ValueError:
        return None


def allow_ip(request: HttpRequest) -> bool:
    return hit("ip", client_ip(request), settings.SIGNUP_LIMIT_PER_IP_PER_HOUR, 3600)


def allow_address(email: str) -> bool:
    return hit("addr", email_hash(email), settings.SIGNUP_LIMIT_PER_ADDRESS_PER_HOUR, 3600)


def allow_email_to(email: str) -> bool:
    """At most a few sign-up emails per address per day, whoever asks for them."""
    return hit("mail", email_hash(email), settings.SIGNUP_EMAILS_PER_ADDRESS_PER_DAY, 86400)
