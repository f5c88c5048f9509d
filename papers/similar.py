"""Similar papers: the five nearest by the digest's matching text model (newsletter/textmodel.py).

The index covers the most recent visible papers. It is built once per process and rebuilt only
when papers arrive or leave (an upvote refresh changes no text), or after REBUILD_SECONDS for
edited abstracts; pages are cached whole on top (papers/pagecache.py).
"""

import time

from django.db.models import Count, Max, QuerySet

from newsletter.textmodel import TextIndex
from papers.models import Paper

MAX_INDEXED = 2000  # about two months of Hugging Face listings; building it takes a second or two
REBUILD_SECONDS = 3600
SIMILAR = 5
MIN_RELEVANCE = 0.05

_index: dict = {}


def candidates() -> QuerySet[Paper]:
    return Paper.objects.filter(hidden=False).order_by("-listed_on", "-upvotes", "id")[:MAX_INDEXED]


def signature() -> dict:
    """Changes when a paper is added, hidden or unhidden."""
    return Paper.objects.filter(hidden=False).aggregate(n=Count("id"), last=Max("id"))


def index() -> tuple[list[int], TextIndex | None]:
    current = signature()
    stale = time.monotonic() - _index.get("built", 0) > REBUILD_SECONDS
    if _index.get("signature") != current or stale:
        rows = list(candidates().values_list("pk", "title", "abstract"))
        built = TextIndex([(title, abstract) for _, title, abstract in rows]) if rows else None
        _index.update(signature=current, built=time.monotonic(), value=([pk for pk, _, _ in rows], built))
    return _index["value"]


def nearest_ids(paper: Paper, count: int = SIMILAR) -> list[int]:
    pks, text_index = index()
    if text_index is None:
        return []
    scores = text_index.relevance([f"{paper.title} {paper.abstract}"])[0]
    ranked = sorted(range(len(pks)), key=lambda i: -scores[i])
    return [pks[i] for i in ranked if pks[i] != paper.pk and scores[i] >= MIN_RELEVANCE][:count]


def nearest(paper: Paper, papers: QuerySet[Paper]) -> list[Paper]:
    """The most similar of `papers` (e.g. the visible ones, loaded as cards), best first."""
    ids = nearest_ids(paper)
    found = papers.in_bulk(ids)
    return [found[pk] for pk in ids if pk in found]
