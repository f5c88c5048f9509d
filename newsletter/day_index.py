"""The day's papers, built once per worker process and reused for every chunk: the matching
index and the rendered paper fragments, rebuilt when anything they are built from changes.

Planning (newsletter.planning) decides who gets a digest; newsletter.digests reads each chunk's
readers and asks this module for the day's papers.
"""

import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db.models import Count, Max, Q, Sum

from newsletter import embeddings, matching, semantic
from newsletter.emails import DigestRenderer
from newsletter.models import PaperEmbedding
from papers.models import Paper, PaperTopic, Topic
from papers.pagecache import catalogue_version

log = logging.getLogger(__name__)

# Weekly readers get the last 7 days; nobody's digest reaches further back than that.
WINDOW = timedelta(days=7)
# The day's papers (index and rendered fragments) are rebuilt when they change, or after this.
DAY_CACHE_SECONDS = 3600


def visible_papers(now: datetime):
    start = now - WINDOW - timedelta(days=1)
    return Paper.objects.filter(
        first_seen_at__gte=start, first_seen_at__lte=now, hidden=False, withdrawn=False
    )


_day: dict = {}


def day_signature(now: datetime) -> tuple:
    """Everything the day's index and fragments are built from, cheaply: the visible papers'
    ids, votes and picks, their topic links (a re-tag or an editor's change), the topics' phrases,
    and the catalogue version, which every import and every editor's save in the admin bumps (so
    a title an editor fixed is in the next chunk)."""
    papers = visible_papers(now)
    return (
        catalogue_version(),
        papers.aggregate(
            n=Count("id"),
            last=Max("id"),
            votes=Sum("upvotes"),
            picks=Count("id", filter=Q(featured=True)),
            refreshed=Max("popularity_updated_at"),
            imported=Max("last_imported_at"),
        ),
        PaperTopic.objects.applied()
        .filter(paper__in=papers)
        .aggregate(n=Count("id"), last=Max("id"), newest=Max("created_at")),
        tuple(Topic.objects.filter(active=True).order_by("id").values_list("id", "keywords", "categories")),
        # Papers are embedded by a task after their import: the index takes their vectors in.
        PaperEmbedding.objects.filter(paper__in=papers).aggregate(n=Count("id"), last=Max("computed_at"))
        if embeddings.enabled()
        else None,
    )


def forget() -> None:
    """Drop this process's copy of the day's papers: the next chunk builds them afresh."""
    _day.clear()


def day_papers(now: datetime) -> tuple[matching.PaperIndex, DigestRenderer]:
    """The matching index and the rendered paper fragments for the current paper set, rebuilt
    when anything they depend on changes (or after DAY_CACHE_SECONDS, for a change made elsewhere)."""
    signature = day_signature(now)
    if _day.get("signature") != signature or time.monotonic() - _day["built"] > DAY_CACHE_SECONDS:
        _day.update(signature=signature, built=time.monotonic(), value=build_day(now))
    return _day["value"]


def build_day(now: datetime) -> tuple[matching.PaperIndex, DigestRenderer]:
    papers = list(visible_papers(now).select_related("organization").order_by("id"))
    topics = {
        t.pk: matching.TopicDoc(t.pk, t.name, tuple(t.keywords), tuple(t.categories))
        for t in Topic.objects.filter(active=True)
    }
    docs = paper_docs(papers)
    started = time.monotonic()
    index = matching.build_index(docs, topics, semantic=semantic_part(docs))
    log.info("digest: indexed %d papers in %.1fs", len(docs), time.monotonic() - started)
    return index, DigestRenderer(papers)


def semantic_part(docs: Sequence[matching.PaperDoc]) -> matching.Semantic | None:
    """The semantic model's share of the day's index, when an operator turned it on and the
    papers are embedded; None keeps matching lexical."""
    matrix = semantic.paper_matrix([doc.id for doc in docs])
    if matrix is None:
        return None
    return matching.Semantic(papers=matrix, encode=semantic.encode_phrases, paper_text=embeddings.paper_text)


def paper_docs(papers: Sequence[Paper]) -> list[matching.PaperDoc]:
    """PaperDocs with their applied and editor-removed active topics (one query)."""
    links, removed = defaultdict(set), defaultdict(set)
    active = PaperTopic.objects.filter(paper__in=[p.pk for p in papers], topic__active=True)
    for paper_id, topic_id, origin in active.values_list("paper_id", "topic_id", "origin"):
        (removed if origin == PaperTopic.Origin.EDITOR_REMOVED else links)[paper_id].add(topic_id)
    return [paper_doc(p, frozenset(links[p.pk]), frozenset(removed[p.pk])) for p in papers]


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
        organization=paper.organization.name if paper.organization_id else "",
        removed_topic_ids=removed_topic_ids,
    )
