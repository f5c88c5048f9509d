"""Digest pages: "view in browser" for readers, next-digest preview and test sends for staff."""

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.mail import get_connection
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from config.csp import shows_email
from newsletter import digests
from newsletter.digests import Outgoing
from newsletter.models import DigestDelivery, Subscriber
from newsletter.tokens import BadToken, read_token


@shows_email
def web(request, token: str) -> HttpResponse:
    """The digest exactly as mailed. The signed token is the only key: no login, no guessing."""
    try:
        delivery_id = int(read_token(token, "digest"))
    except (BadToken, ValueError):
        return render(request, "newsletter/digest_missing.html", status=404)
    delivery = DigestDelivery.objects.filter(pk=delivery_id).select_related("subscriber").first()
    if delivery is None or delivery.subscriber is None or not delivery.paper_ids:
        return render(request, "newsletter/digest_missing.html", status=404)
    picks, renderer = digests.delivered(delivery)
    if not picks:
        return render(request, "newsletter/digest_missing.html", status=404)
    links = renderer.links(delivery.pk, str(delivery.subscriber.key))
    _, _, html = renderer.parts(picks, delivery.issue_date, links)
    response = HttpResponse(html)
    response["X-Robots-Tag"] = "noindex"
    return response


def next_digest(subscriber: Subscriber, to: str | None = None):
    picks, renderer = digests.preview(subscriber, timezone.now())
    out = Outgoing(0, subscriber.pk, str(subscriber.key), to or subscriber.email, timezone.localdate(), picks)
    return out, renderer


@staff_member_required
@shows_email
def preview(request, subscriber_id: int) -> HttpResponse:
    """What this reader would get right now, with each paper's score and reasons."""
    subscriber = get_object_or_404(Subscriber, pk=subscriber_id)
    out, renderer = next_digest(subscriber)
    context = {"subscriber": subscriber, "picks": [], "subject": "", "html": ""}
    if out.picks:
        subject, _, html = renderer.parts(out.picks, out.issue_date, renderer.links(None, out.key))
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
