"""What readers taught their digest, read in bulk for a chunk of readers (part of digests.py's
loading, kept apart by topic): ratings, seeds and follows in three queries, then the papers they
name plus the day's pinned papers in one more."""

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.db.models import F, Q, QuerySet, Window
from django.db.models.functions import RowNumber

from newsletter.models import Follow, Rating, SeedPaper
from papers.models import Paper


@dataclass(slots=True)
class Taught:
    liked: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))  # newest first
    disliked: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    seeds: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))  # arXiv ids
    authors: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    orgs: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))


def taught_by(subscriber_ids: Sequence[int]) -> Taught:
    taught = Taught()
    for subscriber_id, paper_id, value in newest_ratings(subscriber_ids).values_list(
        "subscriber_id", "paper_id", "value"
    ):
        (taught.liked if value > 0 else taught.disliked)[subscriber_id].append(paper_id)
    seeds = SeedPaper.objects.filter(subscriber_id__in=subscriber_ids).order_by("-created_at", "-id")
    for subscriber_id, arxiv_id in seeds.values_list("subscriber_id", "arxiv_id"):
        taught.seeds[subscriber_id].append(arxiv_id)
    follows = Follow.objects.filter(subscriber_id__in=subscriber_ids).order_by("name")
    for subscriber_id, kind, name in follows.values_list("subscriber_id", "kind", "name"):
        (taught.authors if kind == Follow.Kind.AUTHOR else taught.orgs)[subscriber_id].append(name)
    return taught


def newest_ratings(subscriber_ids: Sequence[int]) -> QuerySet[Rating]:
    """Each reader's newest PROFILE_MAX_RATINGS ratings, newest first: older ones no longer
    teach (newsletter.profiles.MAX_RATINGS says why), and a reader's cost stays bounded."""
    newest_first = [F("created_at").desc(), F("id").desc()]
    numbered = Rating.objects.filter(subscriber_id__in=subscriber_ids).annotate(
        n=Window(RowNumber(), partition_by=F("subscriber_id"), order_by=newest_first)
    )
    return numbered.filter(n__lte=settings.PROFILE_MAX_RATINGS).order_by(*newest_first)


def library_and_pins(taught: Taught, issue_dates: Collection[date]) -> tuple[list[Paper], list[Paper]]:
    """The papers the readers rated or seeded (hidden ones too: a 👎 still teaches), and the
    visible papers pinned for these dates, in one query."""
    rated = {pk for ids in (*taught.liked.values(), *taught.disliked.values()) for pk in ids}
    seeded = {arxiv_id for ids in taught.seeds.values() for arxiv_id in ids}
    wanted = Q(pk__in=rated) | Q(paper_id__in=seeded)
    if issue_dates:
        wanted |= Q(pinned_on__in=issue_dates, hidden=False, withdrawn=False)
    if not rated and not seeded and not issue_dates:
        return [], []
    papers = list(Paper.objects.filter(wanted).select_related("organization").order_by("id"))
    library = [p for p in papers if p.pk in rated or p.paper_id in seeded]
    pinned = [p for p in papers if p.pinned_on in issue_dates and not p.hidden and not p.withdrawn]
    return library, pinned


def seed_pks(taught: Taught, library: Sequence[Paper]) -> dict[int, tuple[int, ...]]:
    """Each reader's seeds as Paper pks, for the seeds already in the catalogue."""
    pk_of = {p.paper_id: p.pk for p in library}
    return {
        subscriber_id: tuple(pk_of[a] for a in arxiv_ids if a in pk_of)
        for subscriber_id, arxiv_ids in taught.seeds.items()
    }
