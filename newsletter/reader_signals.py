"""Reading and storing what readers teach their digest: seed papers, follows, ratings.

Parsing is pure; storing replaces a reader's set in one transaction (the caller's), and papers
we do not have yet are fetched from arXiv by a background task once that transaction commits.
"""

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from celery import current_app
from django.db import transaction

from newsletter.models import Follow, Rating, SeedPaper, Subscriber
from papers.ingestion.records import parse_arxiv_id
from papers.models import Organization, Paper

log = logging.getLogger(__name__)

# What the preferences form carries besides the reader's own fields.
SIGNAL_KEYS = ("seed_papers", "followed_authors", "followed_orgs")
MAX_SEEDS = 50
MAX_FOLLOWS = 50  # per kind
SEED_HOSTS = {"arxiv.org", "www.arxiv.org", "export.arxiv.org", "huggingface.co", "www.huggingface.co"}
_SEED_PATH = re.compile(r"^/(?:abs|pdf|papers)/(.+?)(?:\.pdf)?/?$")
# By name: a tasks module is the edge, imported by Celery and the admin, never by the flow.
IMPORT_TASK = "papers.tasks.import_arxiv_ids"


class SignalError(ValueError):
    """Input a reader must fix; the message names the line."""


def split_lines(text: str, commas: bool = True) -> list[tuple[int, str]]:
    """(line number, item) for each non-empty item; commas separate items on a line too."""
    items = []
    for number, line in enumerate(text.splitlines(), start=1):
        for item in line.split(",") if commas else [line]:
            if item.strip():
                items.append((number, " ".join(item.split())))
    return items


def seed_id(item: str) -> str | None:
    """An arXiv id from '2509.25760v2', 'arXiv:2509.25760', an arXiv abs/pdf URL or a Hugging
    Face paper URL; None when it is none of these."""
    if item.lower().startswith(("http://", "https://")):
        url = urlsplit(item)
        match = _SEED_PATH.match(url.path)
        if url.hostname not in SEED_HOSTS or not match:
            return None
        item = match[1]
    parsed = parse_arxiv_id(item)
    return parsed[0] if parsed else None


def parse_seeds(text: str) -> list[str]:
    """Canonical arXiv ids, in the order given, without repeats; SignalError names a bad line."""
    ids = []
    for number, item in split_lines(text):
        arxiv_id = seed_id(item)
        if arxiv_id is None:
            raise SignalError(
                f"Line {number}: “{item[:80]}” is not an arXiv id or an arXiv / Hugging Face paper link."
            )
        ids.append(arxiv_id)
    ids = list(dict.fromkeys(ids))
    if len(ids) > MAX_SEEDS:
        raise SignalError(f"Up to {MAX_SEEDS} papers, please: this list has {len(ids)}.")
    return ids


def parse_authors(text: str) -> list[str]:
    names = list(dict.fromkeys(item for _, item in split_lines(text, commas=False)))
    for number, item in split_lines(text, commas=False):
        if len(item) > 200:
            raise SignalError(f"Line {number}: a name is at most 200 characters.")
    if len(names) > MAX_FOLLOWS:
        raise SignalError(f"Up to {MAX_FOLLOWS} authors, please: this list has {len(names)}.")
    return names


def parse_orgs(text: str) -> list[str]:
    """Organization handles for names as shown on papers (handle or display name, any case)."""
    items = split_lines(text, commas=False)
    known = {}
    for name, display in Organization.objects.values_list("name", "display_name"):
        known[name.lower()] = name
        if display:
            known.setdefault(display.lower(), name)
    handles = []
    for number, item in items:
        if item.lower() not in known:
            raise SignalError(f"Line {number}: no organization called “{item[:80]}” has papers here yet.")
        handles.append(known[item.lower()])
    handles = list(dict.fromkeys(handles))
    if len(handles) > MAX_FOLLOWS:
        raise SignalError(f"Up to {MAX_FOLLOWS} organizations, please: this list has {len(handles)}.")
    return handles


# --- Storing ------------------------------------------------------------------------------------


def taught(subscriber: Subscriber) -> dict[str, list[str]]:
    """Seeds and follows as the preferences form shows them (and consents and exports store)."""
    follows = list(subscriber.follows.order_by("name").values_list("kind", "name"))
    return {
        "seed_papers": list(subscriber.seeds.order_by("created_at", "id").values_list("arxiv_id", flat=True)),
        "followed_authors": [name for kind, name in follows if kind == Follow.Kind.AUTHOR],
        "followed_orgs": [name for kind, name in follows if kind == Follow.Kind.ORGANIZATION],
    }


def apply(subscriber: Subscriber, prefs: Mapping[str, Any]) -> None:
    """Replace the reader's seeds and follows with the ones in prefs (keys that are present)."""
    if "seed_papers" in prefs:
        set_seeds(subscriber, prefs["seed_papers"])
    for key, kind in (("followed_authors", Follow.Kind.AUTHOR), ("followed_orgs", Follow.Kind.ORGANIZATION)):
        if key in prefs:
            follows = subscriber.follows.filter(kind=kind)
            follows.exclude(name__in=prefs[key]).delete()
            have = set(follows.values_list("name", flat=True))
            Follow.objects.bulk_create(
                [Follow(subscriber=subscriber, kind=kind, name=n) for n in prefs[key] if n not in have]
            )


def set_seeds(subscriber: Subscriber, arxiv_ids: Sequence[str]) -> None:
    subscriber.seeds.exclude(arxiv_id__in=arxiv_ids).delete()
    have = set(subscriber.seeds.values_list("arxiv_id", flat=True))
    new = [a for a in arxiv_ids if a not in have]
    SeedPaper.objects.bulk_create([SeedPaper(subscriber=subscriber, arxiv_id=a) for a in new])
    import_missing(new)


def add_seed(subscriber: Subscriber, paper: Paper) -> bool:
    """ "Add to my papers". False when the reader already has the most papers allowed."""
    if subscriber.seeds.filter(arxiv_id=paper.paper_id).exists():
        return True
    if subscriber.seeds.count() >= MAX_SEEDS:
        return False
    SeedPaper.objects.get_or_create(subscriber=subscriber, arxiv_id=paper.paper_id)
    return True


def follow(subscriber: Subscriber, kind: str, name: str) -> bool:
    """Follow one author or organization; False when the reader follows the most allowed."""
    if subscriber.follows.filter(kind=kind, name=name).exists():
        return True
    if subscriber.follows.filter(kind=kind).count() >= MAX_FOLLOWS:
        return False
    Follow.objects.get_or_create(subscriber=subscriber, kind=kind, name=name)
    return True


def import_missing(arxiv_ids: Sequence[str]) -> None:
    """Fetch papers the catalogue lacks from arXiv, in the background after commit."""
    known = set(Paper.objects.filter(paper_id__in=arxiv_ids).values_list("paper_id", flat=True))
    missing = [a for a in arxiv_ids if a not in known]
    if missing:
        transaction.on_commit(lambda: current_app.send_task(IMPORT_TASK, args=[missing]))
        log.info("seed papers: %d unknown ids queued for import", len(missing))


def export(subscriber: Subscriber) -> dict[str, Any]:
    """Ratings, seeds and follows for "Download my data"."""
    ratings = Rating.objects.filter(subscriber=subscriber).select_related("paper")
    return {
        "ratings": [
            {
                "paper": r.paper.paper_id,
                "title": r.paper.title,
                "rating": r.get_value_display(),
                "at": r.created_at,
            }
            for r in ratings
        ],
        "seed_papers": [{"arxiv_id": s.arxiv_id, "added_at": s.created_at} for s in subscriber.seeds.all()],
        "follows": [
            {"kind": f.kind, "name": f.name, "since": f.created_at} for f in subscriber.follows.all()
        ],
        "muted": subscriber.muted,
        "trending": subscriber.trending,
    }


@transaction.atomic
def rate(subscriber: Subscriber, paper: Paper, value: int) -> int | None:
    return Rating.objects.rate(subscriber.pk, paper.pk, value)
