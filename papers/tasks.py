"""Celery tasks: thin adapters over papers.ingestion, scheduled by beat (settings.PAPERBOY_SCHEDULES)."""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from papers.ingestion import arxiv, hf, upsert
from papers.ingestion.records import SourceError

logger = logging.getLogger(__name__)

# The HTTP layer already retried within seconds; a source that is still down gets another
# chance a while later. Imports are idempotent upserts, so a repeat never duplicates.
RETRY = {"autoretry_for": (SourceError,), "retry_backoff": 600, "retry_backoff_max": 3600, "max_retries": 3}


@shared_task(**RETRY)
def import_hf_day(day: str) -> str:
    result = hf.import_hf({"date": day})
    logger.info("hf date=%s: %s", day, result)
    return str(result)


@shared_task
def import_hf_previous_day() -> None:
    import_hf_day.delay((timezone.now().date() - timedelta(days=1)).isoformat())


@shared_task
def refresh_hf_recent_days(days: int | None = None) -> None:
    """Upvotes and comments grow for days: re-import the last few days (today included)."""
    today = timezone.now().date()
    for back in range(days or settings.PAPERS_HF_REFRESH_DAYS):
        import_hf_day.delay((today - timedelta(days=back)).isoformat())


@shared_task(**RETRY)
def import_arxiv_feed(categories: list[str] | None = None) -> str:
    result = arxiv.import_feed(categories or settings.PAPERS_ARXIV_CATEGORIES)
    logger.info("arxiv feed: %s", result)
    return str(result)


@shared_task(**RETRY)
def refresh_papers(paper_pks: list[int]) -> str:
    """An editor's "refresh from source": arXiv metadata, and the Hugging Face days they were on."""
    from_arxiv, from_hf = arxiv.refresh_papers(paper_pks), hf.refresh_papers(paper_pks)
    logger.info("refreshed %d papers: arXiv %s; Hugging Face %s", len(paper_pks), from_arxiv, from_hf)
    return f"arXiv {from_arxiv}; Hugging Face {from_hf}"


@shared_task
def retag_recent_papers(days: int = 30) -> None:
    """After an editor changes a topic: recent papers get the topic's new definition."""
    logger.info("re-tagged %d recent papers", upsert.retag_recent(days))


@shared_task(**RETRY)
def import_arxiv_ids(ids: list[str]) -> str:
    """Papers readers named (seed papers) that the catalogue does not have yet."""
    result = arxiv.import_ids(ids)
    logger.info("arxiv ids (%d): %s", len(ids), result)
    return str(result)
