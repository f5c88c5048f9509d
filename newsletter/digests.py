"""Everything a digest needs from the database: planning, candidates, and contexts per chunk.

The only module that queries for a digest. Matching (newsletter.matching) and rendering
(newsletter.emails) work on the plain data built here; sending.py claims, sends and records.
Reads are in bulk per chunk of deliveries, so the query count per digest stays near zero.
"""

import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Q, Sum

from newsletter import matching
from newsletter.emails import DigestRenderer
from newsletter.models import DigestDelivery, Subscriber, Suppression, email_hash
from papers.models import Paper, PaperTopic, Topic

log = logging.getLogger(__name__)

# Weekly readers get the last 7 days; nobody's digest reaches further back than that.
WINDOW = timedelta(days=7)
PLAN_BATCH = 2000
# The day's papers (index and rendered fragments) are rebuilt when they change, or after this.
DAY_CACHE_SECONDS = 3600
Status = DigestDelivery.Status
ALREADY_SENT = [Status.SENDING, Status.SENT, Status.UNKNOWN]


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One digest ready to send: who, for which day, and which papers."""

    delivery_id: int
    subscriber_id: int
    key: str
    email: str
    issue_date: date
    picks: Sequence[matching.Pick]


@dataclass(slots=True)
class Chunk:
    outgoing: list[Outgoing] = field(default_factory=list)
    empty: list[int] = field(default_factory=list)  # delivery ids where nothing matched
    blocked: dict[int, str] = field(default_factory=dict)  # delivery id -> why it must not be sent
    renderer: DigestRenderer | None = None


# --- Planning ---------------------------------------------------------------------------------


def local_slots(time_zones: Iterable[str], now: datetime) -> dict[tuple[date, int, int], list[str]]:
    """Group time zones by their local (date, hour, weekday) at `now`: one query per group."""
    slots: dict[tuple[date, int, int], list[str]] = defaultdict(list)
    for name in time_zones:
        try:
            local = now.astimezone(ZoneInfo(name))
        except (ZoneInfoNotFoundError, ValueError):
            log.warning("digest planning: unknown time zone %r skipped", name)
            continue
        slots[(local.date(), local.hour, local.weekday())].append(name)
    return slots


def local_date(time_zone: str, now: datetime) -> date:
    try:
        return now.astimezone(ZoneInfo(time_zone)).date()
    except (ZoneInfoNotFoundError, ValueError):
        return now.date()


def due_readers(now: datetime) -> list[tuple[int, str, date]]:
    """(subscriber id, email, local issue date) of active readers whose hour has come today
    (at most DIGEST_CATCH_UP_HOURS ago) and who have no delivery for that date yet. Hours that DST
    skips still come (2:00 -> 3:00 is past 2); an hour that happens twice finds the row made the
    first time."""
    active = Subscriber.objects.filter(status=Subscriber.Status.ACTIVE)
    zones = active.order_by().values_list("time_zone", flat=True).distinct()
    due = []
    for (day, hour, weekday), names in local_slots(zones, now).items():
        weekly_today = Q(frequency=Subscriber.Frequency.WEEKLY, delivery_weekday=weekday)
        readers = (
            active.filter(time_zone__in=names, delivery_hour__lte=hour)
            .filter(delivery_hour__gt=hour - settings.DIGEST_CATCH_UP_HOURS)
            .filter(Q(frequency=Subscriber.Frequency.DAILY) | weekly_today)
            .exclude(deliveries__issue_date=day)
            .order_by("id")
            .values_list("id", "email")
        )
        due += [(pk, email, day) for pk, email in readers]
    return due


def suppressed_hashes(emails: Iterable[str]) -> set[str]:
    hashes = list({email_hash(e) for e in emails})
    found: set[str] = set()
    for start in range(0, len(hashes), PLAN_BATCH):
        batch = hashes[start : start + PLAN_BATCH]
        found.update(Suppression.objects.filter(email_hash__in=batch).values_list("email_hash", flat=True))
    return found


@transaction.atomic
def create_deliveries(readers: Sequence[tuple[int, str, date]], now: datetime) -> list[int]:
    """One queued row per (reader, date), skipping suppressed addresses. The unique constraint
    makes concurrent planners harmless: the loser's rows are ignored, not duplicated. Returns the
    ids this call created (their planned_at is exactly `now`)."""
    blocked = suppressed_hashes(email for _, email, _ in readers)
    rows = [
        DigestDelivery(subscriber_id=pk, issue_date=day, planned_at=now, updated_at=now)
        for pk, email, day in readers
        if email_hash(email) not in blocked
    ]
    DigestDelivery.objects.bulk_create(rows, ignore_conflicts=True, batch_size=PLAN_BATCH)
    days = {row.issue_date for row in rows}
    mine = DigestDelivery.objects.filter(
        issue_date__in=days, subscriber_id__in=[row.subscriber_id for row in rows], planned_at=now
    )
    return list(mine.filter(status=Status.QUEUED).order_by("id").values_list("id", flat=True))


def plan_due(now: datetime) -> list[int]:
    return create_deliveries(due_readers(now), now)


def readers_for_date(issue_date: date, subscribers=None) -> list[tuple[int, str, date]]:
    """Active readers (of a queryset, else all) due on this date whatever the hour, without a
    delivery for it yet: the send_digests command's --date and --subscriber."""
    weekly = Q(frequency=Subscriber.Frequency.WEEKLY, delivery_weekday=issue_date.weekday())
    readers = (
        (Subscriber.objects.all() if subscribers is None else subscribers)
        .filter(status=Subscriber.Status.ACTIVE)
        .filter(Q(frequency=Subscriber.Frequency.DAILY) | weekly)
        .exclude(deliveries__issue_date=issue_date)
        .order_by("id")
        .values_list("id", "email")
    )
    return [(pk, email, issue_date) for pk, email in readers]


def dry_run(readers: Sequence[tuple[int, str, date]], now: datetime):
    """(reader id, email, date, picks, titles) for each reader, in chunks; writes nothing."""
    blocked = suppressed_hashes(email for _, email, _ in readers)
    readers = [r for r in readers if email_hash(r[1]) not in blocked]
    for start in range(0, len(readers), settings.DIGEST_CHUNK_SIZE):
        batch = readers[start : start + settings.DIGEST_CHUNK_SIZE]
        values = Subscriber.objects.filter(id__in=[pk for pk, _, _ in batch]).values(*READER_FIELDS)
        picks, renderer = rank_readers(list(values), now)
        for pk, email, day in batch:
            yield pk, email, day, picks.get(pk, []), renderer.titles


def stale_queued(now: datetime) -> list[int]:
    """Queued rows untouched for longer than any retry delay: their task was lost (e.g. a purged
    queue). Sending them again is safe, the claim decides."""
    cutoff = now - timedelta(seconds=settings.DIGEST_RETRY_MAX_SECONDS + 1800)
    old = DigestDelivery.objects.filter(status=Status.QUEUED, updated_at__lt=cutoff)
    return list(old.order_by("id").values_list("id", flat=True))


def mark_abandoned(now: datetime) -> int:
    """Rows still 'sending' after the hard task time limit lost their worker mid-send: the ESP
    may or may not have the message, so they become 'unknown' for an operator, never resent."""
    cutoff = now - timedelta(seconds=settings.DIGEST_SENDING_TIMEOUT)
    count = DigestDelivery.objects.filter(status=Status.SENDING, claimed_at__lt=cutoff).update(
        status=Status.UNKNOWN,
        error="The worker stopped while sending; the ESP may have accepted the message.",
        updated_at=now,
    )
    if count:
        log.warning("digest: %d deliveries were abandoned mid-send and are now 'unknown'", count)
    return count


# --- The day's papers (built once per worker process and reused for every chunk) --------------


def visible_papers(now: datetime):
    start = now - WINDOW - timedelta(days=1)
    return Paper.objects.filter(
        first_seen_at__gte=start, first_seen_at__lte=now, hidden=False, withdrawn=False
    )


_day: dict = {}


def day_papers(now: datetime) -> tuple[matching.PaperIndex, DigestRenderer]:
    """The matching index and the rendered paper fragments for the current paper set. One cheap
    aggregate per call tells whether the cached ones still describe the catalog."""
    signature = visible_papers(now).aggregate(
        n=Count("id"),
        last=Max("id"),
        votes=Sum("upvotes"),
        picks=Count("id", filter=Q(featured=True)),
        refreshed=Max("popularity_updated_at"),
    )
    if _day.get("signature") != signature or time.monotonic() - _day["built"] > DAY_CACHE_SECONDS:
        _day.update(signature=signature, built=time.monotonic(), value=build_day(now))
    return _day["value"]


def build_day(now: datetime) -> tuple[matching.PaperIndex, DigestRenderer]:
    papers = list(visible_papers(now).select_related("organization").order_by("id"))
    links, removed = defaultdict(set), defaultdict(set)
    active = PaperTopic.objects.filter(paper__in=[p.pk for p in papers], topic__active=True)
    for paper_id, topic_id, origin in active.values_list("paper_id", "topic_id", "origin"):
        (removed if origin == PaperTopic.Origin.EDITOR_REMOVED else links)[paper_id].add(topic_id)
    topics = {
        t.pk: matching.TopicDoc(t.pk, t.name, tuple(t.keywords), tuple(t.categories))
        for t in Topic.objects.filter(active=True)
    }
    docs = [paper_doc(p, frozenset(links[p.pk]), frozenset(removed[p.pk])) for p in papers]
    started = time.monotonic()
    index = matching.build_index(docs, topics)
    log.info("digest: indexed %d papers in %.1fs", len(docs), time.monotonic() - started)
    return index, DigestRenderer(papers)


def paper_doc(
    paper: Paper, topic_ids: frozenset[int] = frozenset(), removed_topic_ids: frozenset[int] = frozenset()
) -> matching.PaperDoc:
    """The plain document matching sees, for the day's papers and for a reader's library (seeds,
    👍, 👎) alike; select_related("organization") saves a query per paper."""
    return matching.PaperDoc(
        id=paper.pk,
        title=paper.title,
        abstract=paper.abstract,
        first_seen_at=paper.first_seen_at,
        topic_ids=topic_ids,
        upvotes=paper.upvotes,
        featured=paper.featured,
        categories=tuple(paper.categories),
        authors=tuple(paper.authors),
        organization=paper.organization.name if paper.organization else "",
        removed_topic_ids=removed_topic_ids,
    )


# --- Contexts for a chunk of deliveries ----------------------------------------------------------


def load_chunk(delivery_ids: Sequence[int], now: datetime) -> Chunk:
    """Everything needed to send these deliveries, in a fixed handful of queries."""
    rows = list(
        DigestDelivery.objects.filter(id__in=delivery_ids, status=Status.QUEUED).values_list(
            "id", "subscriber_id", "issue_date"
        )
    )
    subscribers = {
        s["id"]: s for s in Subscriber.objects.filter(id__in=[r[1] for r in rows]).values(*READER_FIELDS)
    }
    chunk = Chunk()
    blocked_hashes = suppressed_hashes(s["email"] for s in subscribers.values())
    sendable = []
    for delivery_id, subscriber_id, issue_date in rows:
        reader = subscribers.get(subscriber_id)
        why = unsendable_reason(reader, blocked_hashes)
        if why:
            chunk.blocked[delivery_id] = why
        else:
            sendable.append((delivery_id, reader, issue_date))
    if sendable:
        match_chunk(chunk, sendable, now)
    return chunk


def unsendable_reason(reader: dict | None, blocked_hashes: set[str]) -> str:
    if reader is None:
        return "Not sent: the reader was deleted."
    if reader["status"] != Subscriber.Status.ACTIVE:
        return f"Not sent: the reader is {reader['status']}."
    if email_hash(reader["email"]) in blocked_hashes:
        return "Not sent: the address is suppressed."
    return ""


READER_FIELDS = ("id", "key", "email", "status", "frequency", "digest_size", "interests", "last_digest_at")


def rank_readers(readers: Sequence[dict], now: datetime) -> tuple[dict[int, list], DigestRenderer]:
    """Each reader's picks (reader dicts with READER_FIELDS), in two queries plus the day's cache."""
    index, renderer = day_papers(now)
    ids = [reader["id"] for reader in readers]
    topics, sent = reader_topics(ids), sent_papers(ids, now)
    docs = [reader_doc(reader, topics[reader["id"]], sent[reader["id"]], now) for reader in readers]
    return matching.rank(docs, index, now), renderer


def match_chunk(chunk: Chunk, sendable: list[tuple[int, dict, date]], now: datetime) -> None:
    picks, chunk.renderer = rank_readers([reader for _, reader, _ in sendable], now)
    for delivery_id, reader, issue_date in sendable:
        chosen = picks.get(reader["id"]) or []
        if not chosen:
            chunk.empty.append(delivery_id)
            continue
        chunk.outgoing.append(
            Outgoing(delivery_id, reader["id"], str(reader["key"]), reader["email"], issue_date, chosen)
        )


def reader_topics(subscriber_ids: Sequence[int]) -> dict[int, list[int]]:
    topics: dict[int, list[int]] = defaultdict(list)
    through = Subscriber.topics.through.objects.filter(subscriber_id__in=subscriber_ids)
    for subscriber_id, topic_id in through.values_list("subscriber_id", "topic_id"):
        topics[subscriber_id].append(topic_id)
    return topics


def sent_papers(subscriber_ids: Sequence[int], now: datetime) -> dict[int, set[int]]:
    """Papers each reader already got (or may have got) within the window: never sent twice."""
    sent: dict[int, set[int]] = defaultdict(set)
    recent = DigestDelivery.objects.filter(
        subscriber_id__in=subscriber_ids,
        issue_date__gte=(now - WINDOW - timedelta(days=2)).date(),
        status__in=ALREADY_SENT,
    )
    for subscriber_id, paper_ids in recent.values_list("subscriber_id", "paper_ids"):
        sent[subscriber_id].update(paper_ids)
    return sent


def reader_doc(reader: dict, topic_ids: list[int], sent: set[int], now: datetime) -> matching.ReaderDoc:
    """Daily readers get what appeared since their last digest; weekly readers the last 7 days."""
    since = now - WINDOW
    if reader["frequency"] == Subscriber.Frequency.DAILY and reader["last_digest_at"]:
        since = max(since, reader["last_digest_at"])
    return matching.ReaderDoc(
        id=reader["id"],
        topic_ids=tuple(sorted(topic_ids)),
        interests=reader["interests"],
        size=reader["digest_size"],
        since=since,
        exclude=frozenset(sent),
    )


def preview(subscriber: Subscriber, now: datetime) -> tuple[list[matching.Pick], DigestRenderer]:
    """The digest this reader would get now (staff preview and test digests): nothing written."""
    index, renderer = day_papers(now)
    topics = reader_topics([subscriber.pk])[subscriber.pk]
    values = {f: getattr(subscriber, f) for f in ("id", "interests", "digest_size", "frequency")}
    sent = sent_papers([subscriber.pk], now)[subscriber.pk]
    doc = reader_doc({**values, "last_digest_at": subscriber.last_digest_at}, topics, sent, now)
    return matching.rank([doc], index, now).get(subscriber.pk, []), renderer


def delivered(delivery: DigestDelivery) -> tuple[list[matching.Pick], DigestRenderer]:
    """A sent digest as it was mailed ("view in browser"); papers hidden since then drop out."""
    papers = Paper.objects.filter(pk__in=delivery.paper_ids, hidden=False).select_related("organization")
    renderer = DigestRenderer(papers)
    reasons = dict(zip(delivery.paper_ids, delivery.reasons or [], strict=False))
    picks = [
        matching.Pick(pk, 0.0, (reasons[pk],) if reasons.get(pk) else ())
        for pk in delivery.paper_ids
        if pk in renderer.titles
    ]
    return picks, renderer
