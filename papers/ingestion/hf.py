"""Hugging Face Daily Papers: `/api/daily_papers?date=YYYY-MM-DD` (or `week=YYYY-Www`,
`month=YYYY-MM`), paged with `p` and `limit`. Empty days (weekends) return `[]`.

The same item parser reads saved API responses and the demo file (papers/ingestion/file.py).
Optional fields are absent, never null; `numAuthors` is our own optional extension for files
that know how many authors a paper has but not their names.
"""

import json
import sys
from collections.abc import Callable, Sequence
from datetime import date

from django.conf import settings

from papers.ingestion.http import HttpClient
from papers.ingestion.records import (
    DATE_RANGE,
    OrgRecord,
    PaperRecord,
    SourceError,
    canonical_id,
    checked,
    clean_text,
    code_url_in_text,
    normalise_code_url,
    parse_datetime,
)
from papers.ingestion.upsert import ImportResult, upsert_records
from papers.models import Paper

PAGE_SIZE = 100
MAX_PAGES = 50  # a month is well under 5,000 papers
TYPE_NAMES = {str: "a string", int: "an integer", list: "a list", dict: "an object", bool: "true/false"}


class Fields:
    """Typed access to one JSON object, with errors that say where."""

    def __init__(self, obj, where: str, prefix: str = ""):
        if not isinstance(obj, dict):
            raise SourceError(f"{where}: {prefix.rstrip('.') or 'item'} must be an object")
        self.obj, self.where, self.prefix = obj, where, prefix

    def get(self, key: str, kind: type, required: bool = False):
        if key not in self.obj:
            if required:
                raise SourceError(f"{self.where}: {self.prefix}{key} is missing")
            return None
        value = self.obj[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            got = type(value).__name__ if value is not None else "null"
            raise SourceError(f"{self.where}: {self.prefix}{key} must be {TYPE_NAMES[kind]}, got {got}")
        if kind is str and required and not value.strip():
            raise SourceError(f"{self.where}: {self.prefix}{key} is empty")
        return value

    def date(self, key: str, required: bool = False):
        value = self.get(key, str, required)
        if value is None:
            return None
        try:
            return parse_datetime(value)
        except ValueError:
            raise SourceError(
                f"{self.where}: {self.prefix}{key} is not a date in {DATE_RANGE}: {value[:40]!r}"
            ) from None


def load_json(body: bytes, where: str):
    try:
        return json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise SourceError(f"{where}: byte {exc.start}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise SourceError(
            f"{where}: line {exc.lineno} column {exc.colno}: invalid JSON ({exc.msg})"
        ) from None
    except RecursionError:
        raise SourceError(f"{where}: JSON nested too deeply") from None
    except ValueError:  # only the int conversion limit is left: a number of thousands of digits
        raise SourceError(
            f"{where}: invalid JSON (a number with more than {sys.get_int_max_str_digits()} digits)"
        ) from None


def parse_items(data, where: str, source: str, listed_on: date | None = None) -> list[PaperRecord]:
    if not isinstance(data, list):
        raise SourceError(f"{where}: expected a JSON array of papers, got {type(data).__name__}")
    return [parse_item(item, f"{where}: item {i}", source, listed_on) for i, item in enumerate(data)]


def parse_item(item, where: str, source: str, listed_on: date | None) -> PaperRecord:
    outer = Fields(item, where)
    paper = Fields(outer.get("paper", dict, required=True), where, "paper.")
    raw_id = paper.get("id", str, required=True)
    where = f"{where} (paper.id {raw_id[:40]})"
    paper.where = outer.where = where
    paper_id, id_kind, version = canonical_id(raw_id)
    published_at = paper.date("publishedAt", required=True)
    listed_at = outer.date("publishedAt")
    abstract = clean_text(paper.get("summary", str, required=True))
    github = paper.get("githubRepo", str)
    record = PaperRecord(
        paper_id=paper_id,
        id_kind=id_kind,
        version=version,
        title=clean_text(paper.get("title", str, required=True)),
        abstract=abstract,
        source=source,
        source_raw_id=raw_id,
        listed_on=listed_on or (listed_at or published_at).date(),
        published_at=published_at,
        **parse_authors(paper),
        organization=parse_org(paper, where) or parse_org(outer, where),
        upvotes=paper.get("upvotes", int),
        comment_count=outer.get("numComments", int),
        code_url=normalise_code_url(github) if github is not None else code_url_in_text(abstract) or None,
        code_stars=paper.get("githubStars", int),
        project_url=paper.get("projectPage", str),
        thumbnail_url=outer.get("thumbnail", str),
        summary=paper.get("ai_summary", str),
        keywords=[str(k) for k in paper.get("ai_keywords", list) or []] or None,
        withdrawn="withdrawnAt" in paper.obj,
    )
    return checked(record, where)


def parse_authors(paper: Fields) -> dict:
    authors = paper.get("authors", list, required=True)
    names = []
    for i, author in enumerate(authors):
        entry = Fields(author, paper.where, f"paper.authors[{i}].")
        name = entry.get("name", str, required=True)
        # Authors who asked to be hidden on Hugging Face still count, but are not named.
        if not entry.get("hidden", bool):
            names.append(" ".join(name.split()))
    count = paper.get("numAuthors", int)
    return {"authors": names, "author_count": max(len(authors), count or 0)}


def parse_org(fields: Fields, where: str) -> OrgRecord | None:
    org = fields.get("organization", dict)
    if org is None:
        return None
    org_fields = Fields(org, where, f"{fields.prefix}organization.")
    avatar = org_fields.get("avatar", str) or ""
    return OrgRecord(
        name=org_fields.get("name", str, required=True),
        display_name=org_fields.get("fullname", str) or "",
        avatar_url=avatar if avatar.startswith(("https://", "http://")) else "",
    )


def client() -> HttpClient:
    headers = {"Authorization": f"Bearer {settings.HF_TOKEN}"} if settings.HF_TOKEN else {}
    return HttpClient(source="hf", headers=headers)


def fetch_items(http: HttpClient, params: dict[str, str]) -> list[PaperRecord]:
    """Every page of one query, parsed. Stops at a short page or one with nothing new."""
    url = f"{settings.PAPERS_HF_BASE_URL}/api/daily_papers"
    listed_on = date.fromisoformat(params["date"]) if "date" in params else None
    records: list[PaperRecord] = []
    seen: set[str] = set()
    for page in range(MAX_PAGES):
        page_params = {**params, "p": str(page), "limit": str(PAGE_SIZE)}
        where = f"hf: {url}?" + "&".join(f"{k}={v}" for k, v in page_params.items())
        data = load_json(http.get(url, page_params), where)
        batch = parse_items(data, where, Paper.Source.HF, listed_on)
        fresh = [r for r in batch if r.paper_id not in seen]
        records += fresh
        seen.update(r.paper_id for r in fresh)
        if len(batch) < PAGE_SIZE or not fresh:
            break
    return records


def import_hf(
    params: dict[str, str], http: HttpClient | None = None, progress: Callable | None = None
) -> ImportResult:
    """Import one day, week or month: params is {"date": "2025-09-30"} (or "week"/"month")."""
    records = fetch_items(http or client(), params)
    return upsert_records(records, progress=progress)


MAX_REFRESH_DAYS = 31


def refresh_papers(paper_pks: Sequence[int], http: HttpClient | None = None) -> ImportResult:
    """Re-read the Hugging Face days these papers were listed on: upvotes, comments and code
    links keep moving after listing. Papers that did not come from Hugging Face are left out."""
    papers = Paper.objects.filter(pk__in=paper_pks, source=Paper.Source.HF)
    days = sorted(set(papers.values_list("listed_on", flat=True)), reverse=True)[:MAX_REFRESH_DAYS]
    http = http or client()
    records = [record for day in days for record in fetch_items(http, {"date": day.isoformat()})]
    return upsert_records(records) if records else ImportResult()
