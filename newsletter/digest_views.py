"""Digest pages: "view in browser" for readers, next-digest preview and test sends for staff."""

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.mail import get_connection
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from config.csp import shows_email
from newsletter import digests, links
from newsletter.digests import Outgoing
from newsletter.models import DigestDelivery, Subscriber
from newsletter.tokens import BadToken, read_token


@never_cache
@shows_email
def web(request, token: str) -> HttpResponse:
    """The digest exactly as mailed. The signed token is the only key: no login, no guessing."""
    delivery = find_delivery(token)
    if delivery is None or not delivery.paper_ids:
        return render(request, "newsletter/digest_missing.html", status=404)
    picks, renderer = digests.delivered(delivery)
    if not picks:
        return render(request, "newsletter/digest_missing.html", status=404)
    reader = delivery.subscriber
    links = renderer.links(delivery.pk, str(reader.key), reader.link_key)
    # A web page gets forwarded and shared: instead of a live manage link, the reader asks for
    # one by email. Unsubscribing stays one click, as in the email itself.
    links["manage_url"] = settings.SITE_URL + reverse("resend")
    _, _, html = renderer.parts(picks, delivery.issue_date, links)
    response = HttpResponse(html)
    response["X-Robots-Tag"] = "noindex"
    return response


def find_delivery(token: str) -> DigestDelivery | None:
    """The delivery a "view in browser" token names, if its reader has not signed out since."""
    deliveries = DigestDelivery.objects.select_related("subscriber")
    try:
        opened = links.find_link(token, "digest")
    except BadToken:
        return legacy_delivery(token)
    if not opened.extra.isdigit():
        return None
    return deliveries.filter(pk=int(opened.extra), subscriber=opened.subscriber).first()


def legacy_delivery(token: str) -> DigestDelivery | None:
    """Links from before link keys signed only the delivery id: valid until the first sign-out."""
    try:
        value = read_token(token, "digest")
    except BadToken:
        return None
    deliveries = DigestDelivery.objects.select_related("subscriber").filter(subscriber__link_key="")
    return deliveries.filter(pk=int(value)).first() if value.isdigit() and len(value) < 19 else None


def next_digest(subscriber: Subscriber, to: str | None = None):
    picks, renderer = digests.preview(subscriber, timezone.now())
    email = to or subscriber.email
    out = Outgoing(
        0, subscriber.pk, str(subscriber.key), email, timezone.localdate(), picks, subscriber.link_key
    )
    return out, renderer


@staff_member_required
@shows_email
def preview(request, subscriber_id: int) -> HttpResponse:
    """What this reader would get right now, with each paper's score and reasons."""
    subscriber = get_object_or_404(Subscriber, pk=subscriber_id)
    out, renderer = next_digest(subscriber)
    context = {"subscriber": subscriber, "picks": [], "subject": "", "html": ""}
    if out.picks:
        links = renderer.links(None, out.key, out.link_key)
        subject, _, html = renderer.parts(out.picks, out.issue_date, links)
        rows = [(pick, renderer.titles[pick.paper_id]) for pick in out.picks]
        context.update(picks=rows, subject=subject, html=html)
    return render(request, "newsletter/digest_preview.html", context)


@staff_member_required
@require_POST
def send_test(request, subscriber_id: int) -> HttpResponse:
    """Mail the reader's next digest to the staff member (no delivery row: the reader's real
    digest is unaffected). Tagged "digest-test" so tracking never counts it."""
    subscriber = get_object_or_404(Subscriber, pk=subscriber_id)
    if not request.user.email:
        messages.error(request, "Your staff account has no email address: add one to get test digests.")
        return redirect("digest-preview", subscriber_id)
    out, renderer = next_digest(subscriber, to=request.user.email)
    if not out.picks:
        messages.error(request, "Nothing matches this reader right now, so there is nothing to send.")
        return redirect("digest-preview", subscriber_id)
    with get_connection() as connection:
        connection.send_messages([renderer.message(out)])
    messages.success(request, f"Sent a test digest to {request.user.email} ({settings.EMAIL_BACKEND}).")
    return redirect("digest-preview", subscriber_id)
