"""Write PaperRecords: an idempotent upsert by canonical id, all-or-nothing per batch.

A re-import changes only what changed at the source. Editor fields (featured, hidden, editor
note, editor topic choices) are never written here, except that a paper the source withdraws
is hidden once, when it is first seen withdrawn.
"""

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from newsletter.semantic import embed_after_commit
from papers.ingestion.records import PaperRecord
from papers.models import Organization, Paper, PaperTopic, Topic
from papers.pagecache import bump_on_commit
from papers.tagging import compile_topic, tag_paper

# Record fields copied to the Paper as they are, when the source knows them (not None).
PLAIN_FIELDS = (
    "id_kind", "title", "abstract", "authors", "author_count", "published_at", "upvotes",
    "comment_count", "code_url", "code_stars", "project_url", "thumbnail_url", "summary",
    "keywords", "withdrawn",
)  # fmt: skip
POPULARITY_FIELDS = {"upvotes", "comment_count"}
# Imports take this PostgreSQL advisory lock (SQLite's immediate transactions serialize writers
# already): row locks cannot cover papers that don't exist yet, so two imports of the same new
# paper would otherwise both insert it.
IMPORT_LOCK = 0x5041504552  # "PAPER"
# A change in any of these can change the paper's automatic topics.
CONTENT_FIELDS = {"title", "abstract", "categories", "primary_category", "keywords"}


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    paper_pks: list[int] = field(default_factory=list)  # created or updated

    def __str__(self) -> str:
        return f"{self.created} created, {self.updated} updated, {self.skipped} skipped"


def dedupe(records: Sequence[PaperRecord]) -> list[PaperRecord]:
    """One record per paper; a later record (a later page, a newer entry) wins."""
    return list({r.paper_id: r for r in records}.values())


def upsert_records(
    records: Sequence[PaperRecord], progress: Callable[[int, int], None] | None = None
) -> ImportResult:
    unique = dedupe(records)
    result = ImportResult(skipped=len(records) - len(unique))
    now = timezone.now()
    with transaction.atomic():
        lock_imports()
        orgs = upsert_organizations(unique)
        ids = [r.paper_id for r in unique]
        existing = {p.paper_id: p for p in Paper.objects.select_for_update().filter(paper_id__in=ids)}
        created, updated, retag, withdrawn, fields = [], [], [], [], set()
        for done, record in enumerate(unique, 1):
            paper = existing.get(record.paper_id)
            if paper is None and not record.update_only:
                created.append(new_paper(record, orgs, now))
            elif paper is not None and (changes := apply_record(record, paper, orgs, now)):
                updated.append(paper)
                fields |= changes
                if changes & CONTENT_FIELDS:
                    retag.append(paper)
                if "withdrawn" in changes and paper.withdrawn:
                    withdrawn.append(paper.pk)
            else:
                result.skipped += 1
            if progress:
                progress(done, len(unique))
        Paper.objects.bulk_create(created, batch_size=500)
        if updated:
            Paper.objects.bulk_update(updated, sorted(fields | {"last_imported_at"}), batch_size=500)
        # Hidden separately so that no other paper's hidden flag is written back.
        Paper.objects.filter(pk__in=withdrawn).update(hidden=True)
        sync_auto_topics(created + retag)
        if created or updated or withdrawn:
            bump_on_commit()
    result.created, result.updated = len(created), len(updated)
    result.paper_pks = [p.pk for p in created + updated]
    embed_after_commit(result.paper_pks)
    return result


def lock_imports() -> None:
    """Serialize imports until the end of the current transaction."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [IMPORT_LOCK])


def upsert_organizations(records: Sequence[PaperRecord]) -> dict[str, int]:
    """Organization name -> pk, creating new ones and refreshing changed display names."""
    wanted = {r.organization.name: r.organization for r in records if r.organization}
    if not wanted:
        return {}
    existing = {o.name: o for o in Organization.objects.filter(name__in=wanted)}
    changed = []
    for name, record in wanted.items():
        org = existing.get(name)
        if org is None:
            existing[name] = Organization(
                name=name, display_name=record.display_name, avatar_url=record.avatar_url
            )
        elif (record.display_name or org.display_name, record.avatar_url or org.avatar_url) != (
            org.display_name,
            org.avatar_url,
        ):
            org.display_name = record.display_name or org.display_name
            org.avatar_url = record.avatar_url or org.avatar_url
            changed.append(org)
    Organization.objects.bulk_create([o for o in existing.values() if o.pk is None])
    Organization.objects.bulk_update(changed, ["display_name", "avatar_url"])
    return {name: org.pk for name, org in existing.items()}


def source_values(record: PaperRecord, orgs: dict[str, int]) -> dict:
    values = {f: getattr(record, f) for f in PLAIN_FIELDS if getattr(record, f) is not None}
    if record.categories is not None:
        values["categories"] = record.categories
        values["primary_category"] = record.categories[0] if record.categories else ""
    if record.organization:
        values["organization_id"] = orgs[record.organization.name]
    if record.version is not None:
        values["version"] = record.version
    return values


def new_paper(record: PaperRecord, orgs: dict[str, int], now: datetime) -> Paper:
    values = source_values(record, orgs)
    return Paper(
        paper_id=record.paper_id,
        listed_on=record.listed_on,
        source=record.source,
        source_raw_id=record.source_raw_id,
        first_seen_at=now,
        imported_at=now,
        last_imported_at=now,
        hidden=bool(record.withdrawn),
        popularity_updated_at=now if POPULARITY_FIELDS & values.keys() else None,
        **values,
    )


def apply_record(record: PaperRecord, paper: Paper, orgs: dict[str, int], now: datetime) -> set[str]:
    """Copy what the source says onto the paper; return the names of the fields that changed."""
    values = source_values(record, orgs)
    if paper.version and values.get("version", paper.version) < paper.version:
        del values["version"]  # an older listing never takes the version back
    changes = {name for name, value in values.items() if getattr(paper, name) != value}
    for name in changes:
        setattr(paper, name, values[name])
    if changes:
        paper.last_imported_at = now
    if changes & POPULARITY_FIELDS:
        paper.popularity_updated_at = now
        changes.add("popularity_updated_at")
    return changes


RETAG_BATCH = 1000


def retag_recent(days: int) -> int:
    """Re-tag the papers first seen in the last `days` days with the current topic definitions
    (after an editor changes a topic); editor choices stay. Returns how many papers were read."""
    pks = list(
        Paper.objects.filter(first_seen_at__gte=timezone.now() - timedelta(days=days))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for start in range(0, len(pks), RETAG_BATCH):
        with transaction.atomic():
            lock_imports()
            sync_auto_topics(list(Paper.objects.filter(pk__in=pks[start : start + RETAG_BATCH])))
            bump_on_commit()
    return len(pks)


def sync_auto_topics(papers: Sequence[Paper]) -> None:
    """Recompute automatic topic links; links an editor added or removed are left alone."""
    if not papers:
        return
    rules = [compile_topic(t.pk, t.keywords, t.categories) for t in Topic.objects.filter(active=True)]
    links: dict[int, dict[int, PaperTopic]] = defaultdict(dict)
    for link in PaperTopic.objects.filter(paper__in=[p.pk for p in papers]):
        links[link.paper_id][link.topic_id] = link
    to_create, to_update, to_delete = [], [], []
    for paper in papers:
        scores = tag_paper(paper.title, paper.abstract, paper.categories, rules)
        current = links[paper.pk]
        for topic_id, score in scores.items():
            link = current.get(topic_id)
            if link is None:
                to_create.append(PaperTopic(paper=paper, topic_id=topic_id, score=score))
            elif link.origin == PaperTopic.Origin.AUTO and link.score != score:
                link.score = score
                to_update.append(link)
        auto = [link for link in current.values() if link.origin == PaperTopic.Origin.AUTO]
        to_delete += [link.pk for link in auto if link.topic_id not in scores]
    PaperTopic.objects.bulk_create(to_create, batch_size=500)
    PaperTopic.objects.bulk_update(to_update, ["score"], batch_size=500)
    PaperTopic.objects.filter(pk__in=to_delete).delete()
