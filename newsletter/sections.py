"""The digest's sections around the reader's matches: "From the editors" (pinned papers) and
"Trending today" (the day's most upvoted papers that did not match, for readers who asked).
Pure functions over matching's plain data; ranking itself stays in newsletter.matching.

A section is told by the pick's first reason, a fixed marker that ranking never produces, so
the stored reasons of a sent digest give the same sections back in the "view in browser" page.
"""

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from newsletter.matching import PaperDoc, Pick, ReaderDoc

PINNED = "from the editors"
TRENDING = "trending today"
TRENDING_SIZE = 3  # "Trending today" adds up to this many papers
MAX_MUTED = 30  # muted words or phrases per reader
_SPLIT = re.compile(r"[\n,;]+")


@dataclass(frozen=True, slots=True)
class Sections:
    pinned: list[Pick] = field(default_factory=list)
    matched: list[Pick] = field(default_factory=list)
    trending: list[Pick] = field(default_factory=list)


def muted_phrases(text: str) -> tuple[str, ...]:
    """ "crypto, LLM agents" -> ("crypto", "llm agents"): lower-cased, spaces collapsed."""
    phrases = (" ".join(p.split()).lower() for p in _SPLIT.split(text))
    return tuple(dict.fromkeys(p for p in phrases if p))[:MAX_MUTED]


@lru_cache(maxsize=10_000)
def _muted_pattern(phrases: tuple[str, ...]) -> re.Pattern:
    # Whole words only: muting "ai" must not hide every paper that mentions "training".
    words = (r"\s+".join(re.escape(w) for w in phrase.split()) for phrase in phrases)
    return re.compile(r"\b(?:" + "|".join(words) + r")\b", re.IGNORECASE)


def is_muted(paper: PaperDoc, phrases: Sequence[str]) -> bool:
    if not phrases:
        return False
    pattern = _muted_pattern(tuple(phrases))
    return bool(pattern.search(paper.title) or pattern.search(paper.abstract))


def add_sections(
    reader: ReaderDoc, picks: Sequence[Pick], day_papers: Sequence[PaperDoc], pinned: Iterable[PaperDoc]
) -> list[Pick]:
    """The reader's matches with the pinned papers first and the trending ones last. Nothing is
    added to an empty digest (extras accompany matches, they never make a digest on their own),
    nor for readers on "only what matches me"; muted, disliked and already sent papers never."""
    if not picks or reader.trending == "matches":
        return list(picks)
    blocked = reader.exclude | set(reader.disliked_ids)
    pins = [p for p in pinned if p.id not in blocked and not is_muted(p, reader.muted)]
    pin_ids = {p.id for p in pins}
    matched = [pick for pick in picks if pick.paper_id not in pin_ids]
    extra = [Pick(p.id, 0.0, (PINNED,)) for p in pins]
    if reader.trending == "top":
        taken = blocked | pin_ids | {pick.paper_id for pick in picks}
        extra_trending = top_papers(reader, day_papers, taken)
        return extra + matched + [Pick(p.id, 0.0, (TRENDING,)) for p in extra_trending]
    return extra + matched


def top_papers(reader: ReaderDoc, papers: Sequence[PaperDoc], taken: set[int]) -> list[PaperDoc]:
    """The most upvoted of the reader's new papers that nothing else put in the digest."""
    fresh = [
        p
        for p in papers
        if p.id not in taken
        and p.upvotes > 0
        and p.first_seen_at > reader.since
        and not is_muted(p, reader.muted)
    ]
    fresh.sort(key=lambda p: (-p.upvotes, p.id))
    return fresh[:TRENDING_SIZE]


def split(picks: Sequence[Pick]) -> Sections:
    sections = Sections()
    for pick in picks:
        first = pick.reasons[0] if pick.reasons else ""
        {PINNED: sections.pinned, TRENDING: sections.trending}.get(first, sections.matched).append(pick)
    return sections


def stored_picks(paper_ids: Sequence[int], reasons: Sequence[str], known: Mapping[int, object]) -> list[Pick]:
    """A sent digest's picks again, from its stored paper ids and first reasons."""
    by_id = dict(zip(paper_ids, reasons or [], strict=False))
    return [Pick(pk, 0.0, (by_id[pk],) if by_id.get(pk) else ()) for pk in paper_ids if pk in known]
