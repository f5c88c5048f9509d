"""Everything a digest needs from the database: candidates, and contexts per chunk.

The only module that queries for a digest. Planning (newsletter.planning) wrote the rows;
matching (newsletter.matching) and rendering (newsletter.emails) work on the plain data built
here; sending.py claims, sends and records.
Reads are in bulk per chunk of deliveries, so the query count per digest stays near zero.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings

from newsletter import digest_signals, matching, sections, semantic
from newsletter.day_index import WINDOW, day_papers, paper_docs
from newsletter.delivery_states import MAY_HAVE_REACHED_READER
from newsletter.emails import DigestRenderer
from newsletter.models import DigestDelivery, Subscriber, email_hash
from newsletter.planning import local_date, suppressed_hashes
from papers.models import Paper

# A reader's first digest (sent at confirmation) holds the best of the last 3 days.
FIRST_WINDOW = timedelta(days=3)
Status = DigestDelivery.Status


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One digest ready to send: who, for which day, and which papers."""

    delivery_id: int
    subscriber_id: int
    key: str
    email: str
    issue_date: date
    picks: Sequence[matching.Pick]
    link_key: str = ""  # Subscriber.link_key: the reader's links carry it


@dataclass(slots=True)
class Chunk:
    outgoing: list[Outgoing] = field(default_factory=list)
    empty: list[int] = field(default_factory=list)  # delivery ids where nothing matched
    blocked: dict[int, str] = field(default_factory=dict)  # delivery id -> why it must not be sent
    renderer: DigestRenderer | None = None


# --- Dry runs (send_digests --dry-run) ------------------------------------------------------


def dry_run(readers: Sequence[tuple[int, str, date]], now: datetime):
    """(reader id, email, date, picks, titles) for each reader, in chunks; writes nothing."""
    blocked = suppressed_hashes(email for _, email, _ in readers)
    readers = [r for r in readers if email_hash(r[1]) not in blocked]
    for start in range(0, len(readers), settings.DIGEST_CHUNK_SIZE):
        batch = readers[start : start + settings.DIGEST_CHUNK_SIZE]
        values = Subscriber.objects.filter(id__in=[pk for pk, _, _ in batch]).values(*READER_FIELDS)
        picks, renderer = rank_readers(list(values), now, {pk: day for pk, _, day in batch})
        for pk, email, day in batch:
            yield pk, email, day, picks.get(pk, []), renderer.titles


# --- Contexts for a chunk of deliveries ----------------------------------------------------------


def load_chunk(delivery_ids: Sequence[int], now: datetime) -> Chunk:
    """Everything needed to send these deliveries, in a fixed handful of queries."""
    rows = list(
        DigestDelivery.objects.filter(id__in=delivery_ids, status=Status.CLAIMED).values_list(
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


READER_FIELDS = (
    "id",
    "key",
    "link_key",
    "email",
    "status",
    "frequency",
    "digest_size",
    "interests",
    "last_digest_at",
    "muted",
    "trending",
)


def rank_readers(
    readers: Sequence[dict], now: datetime, issue_dates: dict[int, date] | None = None
) -> tuple[dict[int, list], DigestRenderer]:
    """Each reader's picks (reader dicts with READER_FIELDS; `issue_dates` by reader id gives
    each the papers editors pinned for that date), in a fixed handful of queries."""
    index, renderer = day_papers(now)
    issue_dates = issue_dates or {}
    docs, library, pinned = chunk_docs(readers, now, issue_dates)
    if index.semantic is not None:  # stored vectors of the readers' seeds and rated papers
        known = index.semantic.library
        known.update(semantic.paper_vectors(pk for pk in library if pk not in known))
    ranked = matching.rank(docs, index, now, library=library)
    renderer.add_pinned(pinned)
    for doc in docs:
        pins = [pin_doc for paper, pin_doc in pinned.items() if paper.pinned_on == issue_dates.get(doc.id)]
        ranked[doc.id] = sections.add_sections(doc, ranked.get(doc.id, []), index.papers, pins)
    return ranked, renderer


def chunk_docs(
    readers: Sequence[dict], now: datetime, issue_dates: dict[int, date]
) -> tuple[list[matching.ReaderDoc], dict[int, matching.PaperDoc], dict[Paper, matching.PaperDoc]]:
    """The readers' ReaderDocs, the PaperDocs of the papers they rated or seeded (rank()'s
    `library`), and the papers pinned for their dates with their PaperDocs."""
    ids = [reader["id"] for reader in readers]
    topics, sent, taught = reader_topics(ids), sent_papers(ids, now), digest_signals.taught_by(ids)
    library, pinned = digest_signals.library_and_pins(taught, set(issue_dates.values()))
    docs = {p.id: p for p in paper_docs([*library, *pinned])}
    seeds = digest_signals.seed_pks(taught, library)
    readers_docs = [
        reader_doc(reader, topics[reader["id"]], sent[reader["id"]], now, taught, seeds) for reader in readers
    ]
    return readers_docs, {p.pk: docs[p.pk] for p in library}, {p: docs[p.pk] for p in pinned}


def match_chunk(chunk: Chunk, sendable: list[tuple[int, dict, date]], now: datetime) -> None:
    issue_dates = {reader["id"]: issue_date for _, reader, issue_date in sendable}
    picks, chunk.renderer = rank_readers([reader for _, reader, _ in sendable], now, issue_dates)
    for delivery_id, reader, issue_date in sendable:
        chosen = picks.get(reader["id"]) or []
        if not chosen:
            chunk.empty.append(delivery_id)
            continue
        chunk.outgoing.append(
            Outgoing(
                delivery_id,
                reader["id"],
                str(reader["key"]),
                reader["email"],
                issue_date,
                chosen,
                reader["link_key"],
            )
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
        status__in=MAY_HAVE_REACHED_READER,
    )
    for subscriber_id, paper_ids in recent.values_list("subscriber_id", "paper_ids"):
        sent[subscriber_id].update(paper_ids)
    return sent


def reader_doc(
    reader: dict,
    topic_ids: list[int],
    sent: set[int],
    now: datetime,
    taught: digest_signals.Taught | None = None,
    seeds: dict[int, tuple[int, ...]] | None = None,
) -> matching.ReaderDoc:
    """Daily readers get what appeared since their last digest; weekly readers the last 7 days;
    a first digest the last 3."""
    since = now - WINDOW
    if reader["last_digest_at"] is None:
        since = now - FIRST_WINDOW
    elif reader["frequency"] == Subscriber.Frequency.DAILY:
        since = max(since, reader["last_digest_at"])
    taught, pk = taught or digest_signals.Taught(), reader["id"]
    return matching.ReaderDoc(
        id=pk,
        topic_ids=tuple(sorted(topic_ids)),
        interests=reader["interests"],
        size=reader["digest_size"],
        since=since,
        exclude=frozenset(sent),
        seed_ids=(seeds or {}).get(pk, ()),
        liked_ids=tuple(taught.liked.get(pk, ())),
        disliked_ids=tuple(taught.disliked.get(pk, ())),
        followed_authors=tuple(taught.authors.get(pk, ())),
        followed_orgs=tuple(taught.orgs.get(pk, ())),
        muted=sections.muted_phrases(reader.get("muted", "")),
        trending=reader.get("trending") or Subscriber.Trending.BALANCED,
    )


def preview(subscriber: Subscriber, now: datetime) -> tuple[list[matching.Pick], DigestRenderer]:
    """The digest this reader would get now (staff preview and test digests): nothing written."""
    values = {f: getattr(subscriber, f) for f in READER_FIELDS}
    picks, renderer = rank_readers([values], now, {subscriber.pk: local_date(subscriber.time_zone, now)})
    return picks.get(subscriber.pk, []), renderer


def delivered(delivery: DigestDelivery) -> tuple[list[matching.Pick], DigestRenderer]:
    """A sent digest as it was mailed ("view in browser"); papers hidden since then drop out."""
    papers = Paper.objects.filter(pk__in=delivery.paper_ids, hidden=False).select_related("organization")
    renderer = DigestRenderer(papers)
    return sections.stored_picks(delivery.paper_ids, delivery.reasons, renderer.titles), renderer
