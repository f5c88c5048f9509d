"""arXiv: the daily announcement feed (`rss.arxiv.org/atom/cs.CL+cs.LG`) and the query API by
id list (Atom). arXiv asks for at most one request every 3 seconds over a single connection,
so every request in a process goes through one shared session and throttle.

Feed entries are announced as `new`, `cross` (cross-listed from another category), `replace`
(a new version) or `replace-cross`. New and cross-listed papers are created; replacements only
update papers we already have, since an old paper's new version is not news.
"""

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from datetime import date

from django.conf import settings

from papers.ingestion.http import HttpClient, Throttle
from papers.ingestion.records import (
    DATE_RANGE,
    PaperRecord,
    SourceError,
    canonical_id,
    checked,
    clean_text,
    parse_datetime,
)
from papers.ingestion.upsert import ImportResult, upsert_records
from papers.models import Paper

NS = {
    "a": "http://www.w3.org/2005/Atom",
    "arxiv": "http://arxiv.org/schemas/atom",
    "dc": "http://purl.org/dc/elements/1.1/",
}
ANNOUNCE_TYPES = {"new", "cross", "replace", "replace-cross"}
ABSTRACT_PREFIX = re.compile(r"^arXiv:\S+\s+Announce Type:\s*\S+\s*Abstract:\s*", re.I)
WITHDRAWN = re.compile(r"\b(?:paper|article|submission|manuscript|work) (?:has been|is) withdrawn\b", re.I)
IDS_PER_REQUEST = 100
# Expat (2.4+) refuses entity expansion bombs and ElementTree never fetches external entities.
_clients: dict[float, HttpClient] = {}


def client() -> HttpClient:
    """The process's one arXiv client: one keep-alive connection, one throttle, which also takes
    turns with every other worker through the shared cache."""
    interval = settings.PAPERS_ARXIV_MIN_INTERVAL
    if interval not in _clients:
        throttle = Throttle(interval, shared_key="papers:arxiv-request-slot")
        _clients[interval] = HttpClient(source="arxiv", throttle=throttle)
    return _clients[interval]


def parse_xml(body: bytes, where: str) -> ET.Element:
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        line, column = exc.position
        raise SourceError(f"{where}: line {line} column {column}: malformed XML") from None
    if root.tag != f"{{{NS['a']}}}feed":
        raise SourceError(f"{where}: expected an Atom <feed>, got <{root.tag.split('}')[-1]}>")
    return root


def text(entry: ET.Element, path: str, where: str, required: bool = True) -> str:
    node = entry.find(path, NS)
    if node is None or not (node.text or "").strip():
        if required:
            raise SourceError(f"{where}: <{path.split(':')[-1]}> is missing")
        return ""
    return node.text.strip()


def entry_date(entry: ET.Element, path: str, where: str):
    value = text(entry, path, where)
    try:
        return parse_datetime(value)
    except ValueError:
        name = path.split(":")[-1]
        raise SourceError(f"{where}: <{name}> is not a date in {DATE_RANGE}: {value[:40]!r}") from None


def entry_id(entry: ET.Element, where: str) -> tuple[str, str, int | None, str]:
    raw = text(entry, "a:id", where)
    paper_id, id_kind, version = canonical_id(raw)
    if id_kind != Paper.IdKind.ARXIV:
        raise SourceError(f"{where}: <id> {raw[:60]!r} is not an arXiv id")
    return paper_id, id_kind, version, raw


def parse_feed(body: bytes, where: str) -> list[PaperRecord]:
    """The announcement feed; an empty feed (weekends, holidays) gives no records."""
    root = parse_xml(body, where)
    return [parse_feed_entry(e, f"{where}: entry {i}") for i, e in enumerate(root.findall("a:entry", NS))]


def parse_feed_entry(entry: ET.Element, where: str) -> PaperRecord:
    announce = text(entry, "arxiv:announce_type", where)
    if announce not in ANNOUNCE_TYPES:
        raise SourceError(f"{where}: unknown announce type {announce[:30]!r}")
    abstract = clean_text(ABSTRACT_PREFIX.sub("", text(entry, "a:summary", where)))
    announced = entry_date(entry, "a:published", where)
    return entry_record(
        entry,
        where,
        abstract=abstract,
        authors=split_creators(text(entry, "dc:creator", where, required=False)),
        categories=[c.get("term") for c in entry.findall("a:category", NS) if c.get("term")],
        published_at=announced if announce == "new" else None,
        listed_on=announced.date(),
        withdrawn=True if WITHDRAWN.search(abstract) else None,
        update_only=announce.startswith("replace"),
    )


def entry_record(entry: ET.Element, where: str, abstract: str, authors: list[str], **fields) -> PaperRecord:
    """What the feed and the API agree on (id, title, source), plus what each read, checked."""
    paper_id, id_kind, version, raw = entry_id(entry, where)
    record = PaperRecord(
        paper_id=paper_id,
        id_kind=id_kind,
        version=version,
        title=clean_text(text(entry, "a:title", where)),
        abstract=abstract,
        authors=authors,
        author_count=len(authors),
        source=Paper.Source.ARXIV,
        source_raw_id=raw,
        **fields,
    )
    return checked(record, where)


def split_creators(value: str) -> list[str]:
    return [name.strip() for name in re.split(r",\s*|\s+and\s+", value) if name.strip()]


def parse_api(
    body: bytes, where: str, listed_on: date | None = None, update_only: bool = False
) -> list[PaperRecord]:
    """The query API's Atom response. Its errors come back as an entry titled "Error"."""
    root = parse_xml(body, where)
    records = []
    for i, entry in enumerate(root.findall("a:entry", NS)):
        entry_where = f"{where}: entry {i}"
        if "/api/errors" in text(entry, "a:id", entry_where):
            raise SourceError(f"{where}: arXiv API error: {text(entry, 'a:summary', entry_where, False)}")
        records.append(parse_api_entry(entry, entry_where, listed_on, update_only))
    return records


def parse_api_entry(entry: ET.Element, where: str, listed_on: date | None, update_only: bool) -> PaperRecord:
    primary = entry.find("arxiv:primary_category", NS)
    categories = [primary.get("term")] if primary is not None and primary.get("term") else []
    categories += [c.get("term") for c in entry.findall("a:category", NS) if c.get("term") not in categories]
    published = entry_date(entry, "a:published", where)
    abstract = clean_text(text(entry, "a:summary", where))
    comment = text(entry, "arxiv:comment", where, required=False)
    return entry_record(
        entry,
        where,
        abstract=abstract,
        authors=[" ".join((a.text or "").split()) for a in entry.findall("a:author/a:name", NS)],
        categories=categories,
        published_at=published,
        listed_on=listed_on or published.date(),
        # No notice is not news: the flag is left as another source (or an editor) set it.
        withdrawn=True if WITHDRAWN.search(comment) or WITHDRAWN.search(abstract) else None,
        update_only=update_only,
    )


def import_feed(
    categories: Sequence[str], http: HttpClient | None = None, progress: Callable | None = None
) -> ImportResult:
    """Import today's announcements for some categories, in one request."""
    bad = [c for c in categories if not re.fullmatch(r"[a-z\-]+(\.[A-Za-z\-]+)?", c)]
    if not categories or bad:
        raise SourceError(f"arxiv: not arXiv categories: {', '.join(bad) or '(none given)'}")
    url = f"{settings.PAPERS_ARXIV_RSS_URL}/atom/{'+'.join(categories)}"
    body = (http or client()).get(url, expect="xml")
    return upsert_records(parse_feed(body, f"arxiv: {url}"), progress=progress)


def fetch_by_ids(
    ids: Sequence[str], http: HttpClient | None = None, update_only: bool = False
) -> list[PaperRecord]:
    http = http or client()
    records = []
    for start in range(0, len(ids), IDS_PER_REQUEST):
        chunk = ids[start : start + IDS_PER_REQUEST]
        params = {"id_list": ",".join(chunk), "max_results": str(len(chunk))}
        url = settings.PAPERS_ARXIV_API_URL
        body = http.get(url, params, expect="xml")
        records += parse_api(body, f"arxiv: {url}?id_list={params['id_list'][:80]}", update_only=update_only)
    return records


def import_ids(
    ids: Sequence[str],
    http: HttpClient | None = None,
    progress: Callable | None = None,
    update_only: bool = False,
) -> ImportResult:
    """Import (or with update_only, refresh) papers by arXiv id through the query API."""
    return upsert_records(fetch_by_ids(ids, http, update_only), progress=progress)


def refresh_papers(paper_pks: Sequence[int], http: HttpClient | None = None) -> ImportResult:
    """Fetch papers' current metadata (version, abstract, categories, withdrawal) from arXiv.
    Papers without an arXiv id have nothing to refresh there and count as skipped."""
    papers = Paper.objects.filter(pk__in=paper_pks)
    ids = list(papers.filter(id_kind=Paper.IdKind.ARXIV).values_list("paper_id", flat=True))
    result = import_ids(ids, http, update_only=True) if ids else ImportResult()
    result.skipped += len(paper_pks) - len(ids)
    return result
