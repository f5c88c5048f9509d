"""The staff sending dashboard: who can be mailed, what went out, what the ESPs said, and
whether the worker and beat are alive. Plus one reader's delivery history ("why is Ada
suppressed?")."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.db.models import Count, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from newsletter.addresses import normalize_email
from newsletter.models import (
    ConsentRecord,
    DeliveryEvent,
    DigestDelivery,
    EngagementCount,
    Heartbeat,
    Subscriber,
    Suppression,
    email_hash,
)

Kind = DeliveryEvent.Kind
Sent = DigestDelivery.Status
# Gmail and Yahoo bulk-sender rules: keep spam complaints below 0.1% (0.3% is the hard limit).
COMPLAINT_RATE_WARNING = 0.001
# The heartbeat task runs every minute; a few missed beats mean beat or the worker is down.
HEARTBEAT_STALE_AFTER = timedelta(minutes=3)
DAYS_SHOWN = 14
_DAY_COLUMNS = {"sent": Sent.SENT, "failed": Sent.FAILED, "unknown": Sent.UNKNOWN, "skipped": Sent.SKIPPED}
PROBLEM_KINDS = [Kind.HARD_BOUNCE, Kind.COMPLAINT, Kind.INVALID, Kind.UNSUBSCRIBE, Kind.SOFT_BOUNCE]


@dataclass(frozen=True)
class Rates:
    days: int
    sent: int
    bounces: int
    complaints: int

    @property
    def bounce_rate(self) -> float | None:
        return self.bounces / self.sent if self.sent else None

    @property
    def complaint_rate(self) -> float | None:
        return self.complaints / self.sent if self.sent else None

    @property
    def bounce_percent(self) -> float | None:
        return None if self.bounce_rate is None else 100 * self.bounce_rate

    @property
    def complaint_percent(self) -> float | None:
        return None if self.complaint_rate is None else 100 * self.complaint_rate

    @property
    def complaint_warning(self) -> bool:
        """Complaints with nothing sent in the window are a warning too, not a division by zero."""
        rate = self.complaint_rate
        return self.complaints > 0 and (rate is None or rate > COMPLAINT_RATE_WARNING)


def is_alive(last_seen_at: datetime, now: datetime) -> bool:
    return now - last_seen_at <= HEARTBEAT_STALE_AFTER


# --- Queries -----------------------------------------------------------------------------------


def readers_by_status() -> list[tuple[str, str, int]]:
    counts = dict(Subscriber.objects.values_list("status").annotate(n=Count("id")).order_by())
    return [(value, label, counts.get(value, 0)) for value, label in Subscriber.Status.choices]


def digests_per_day(today: date, days: int = DAYS_SHOWN) -> list[dict]:
    """One row per issue date, newest first, counting each status that matters to staff."""
    by_status = {name: Count("id", filter=Q(status=status)) for name, status in _DAY_COLUMNS.items()}
    return list(
        DigestDelivery.objects.filter(issue_date__gt=today - timedelta(days=days))
        .values("issue_date")
        .annotate(**by_status, pending=Count("id", filter=Q(status__in=[Sent.QUEUED, Sent.SENDING])))
        .order_by("-issue_date")
    )


def rates(now: datetime, days: int) -> Rates:
    """Bounces and complaints reported in the window over digests sent in it. Events about
    other mail (confirmations) count too, which errs on the side of warning early."""
    since = now - timedelta(days=days)
    sent = DigestDelivery.objects.filter(
        status__in=[Sent.SENT, Sent.UNKNOWN], issue_date__gt=timezone.localdate(now) - timedelta(days=days)
    ).count()
    events = DeliveryEvent.objects.filter(occurred_at__gte=since).aggregate(
        bounces=Count("id", filter=Q(kind__in=[Kind.HARD_BOUNCE, Kind.INVALID])),
        complaints=Count("id", filter=Q(kind=Kind.COMPLAINT)),
    )
    return Rates(days=days, sent=sent, **events)


def engagement(today: date, days: int = 7) -> dict[str, int]:
    rows = EngagementCount.objects.filter(day__gt=today - timedelta(days=days))
    totals = dict(rows.values_list("event_type").annotate(total=Sum("count")).order_by())
    return {"opened": totals.get("opened", 0), "clicked": totals.get("clicked", 0)}


def heartbeats(now: datetime) -> list[dict]:
    return [
        {"name": beat.name, "last_seen_at": beat.last_seen_at, "alive": is_alive(beat.last_seen_at, now)}
        for beat in Heartbeat.objects.order_by("name")
    ]


# --- Views -------------------------------------------------------------------------------------


@staff_member_required
def dashboard(request: HttpRequest) -> HttpResponse:
    if request.GET.get("q", "").strip():
        return find_reader(request, request.GET["q"].strip())
    now = timezone.now()
    today = timezone.localdate(now)
    context = {
        **admin.site.each_context(request),
        "title": "Sending",
        "readers": readers_by_status(),
        "days": digests_per_day(today),
        "rates": [rates(now, 7), rates(now, 30)],
        "warning_rate": COMPLAINT_RATE_WARNING,
        "engagement": engagement(today),
        "heartbeats": heartbeats(now),
        "problems": DeliveryEvent.objects.filter(kind__in=PROBLEM_KINDS).select_related("subscriber")[:20],
    }
    return render(request, "newsletter/dashboard.html", context)


def find_reader(request: HttpRequest, query: str) -> HttpResponse:
    is_id = query.isascii() and query.isdigit() and len(query) <= 18  # "²" is a digit; ids fit a bigint
    lookup = Q(pk=int(query)) if is_id else Q(email=normalize_email(query))
    # PostgreSQL cannot compare text containing NUL: no reader has such an address.
    reader = Subscriber.objects.filter(lookup).first() if "\x00" not in query else None
    if reader:
        return redirect("tracking-reader-history", pk=reader.pk)
    if "@" in query and Suppression.is_suppressed(query):
        messages.info(request, "No reader has that address, but it is on the suppression list.")
    else:
        messages.warning(request, "No reader has that address or id.")
    return redirect("tracking-dashboard")


@staff_member_required
def reader_history(request: HttpRequest, pk: int) -> HttpResponse:
    reader = get_object_or_404(Subscriber, pk=pk)
    deliveries = list(reader.deliveries.order_by("-issue_date", "-id")[:60])
    # Events that arrived before their digest was linked still match by ESP message id.
    message_ids = [d.esp_message_id for d in deliveries if d.esp_message_id]
    events = DeliveryEvent.objects.filter(Q(subscriber=reader) | Q(message_id__in=message_ids))
    context = {
        **admin.site.each_context(request),
        "title": f"Delivery history of reader {reader.pk}",
        "reader": reader,
        "suppression": Suppression.objects.filter(email_hash=email_hash(reader.email)).first(),
        "deliveries": deliveries,
        "events": events.select_related("delivery").order_by("-occurred_at", "-id")[:200],
        "consents": ConsentRecord.objects.filter(subscriber=reader).order_by("-created_at", "-id")[:20],
    }
    return render(request, "newsletter/dashboard_reader.html", context)
