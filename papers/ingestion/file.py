"""A file in the Hugging Face Daily Papers JSON shape: saved API responses and the demo data."""

from collections.abc import Callable
from pathlib import Path

from django.conf import settings

from papers.ingestion.hf import load_json, parse_items
from papers.ingestion.records import SourceError
from papers.ingestion.upsert import ImportResult, upsert_records
from papers.models import Paper


def read_records(path: str | Path) -> list:
    """Parse and validate the whole file before anything is written."""
    where = f"file: {path}"
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > settings.PAPERS_IMPORT_MAX_BYTES:
            raise SourceError(
                f"{where}: {size} bytes is more than the {settings.PAPERS_IMPORT_MAX_BYTES} byte limit "
                "(PAPERS_IMPORT_MAX_BYTES)"
            )
        body = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"{where}: cannot read ({exc.strerror or exc})") from None
    return parse_items(load_json(body, where), where, Paper.Source.FILE)


def import_file(path: str | Path, progress: Callable | None = None) -> ImportResult:
    return upsert_records(read_records(path), progress=progress)
