"""What every importer produces: plain PaperRecords, validated before anything is written.

Parsing is pure (no database, no network) so each source's quirks are tested on recorded data.
A field set to None means "this source does not know": the upsert leaves it alone, so a paper
seen on both Hugging Face and arXiv keeps Hugging Face's upvotes and arXiv's categories.
"""

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from papers.models import Organization, Paper

# Ids that are not arXiv ids and were made up by us from the title carry this prefix.
DERIVED_PREFIX = "derived-"

NEW_STYLE_ID = re.compile(r"^(\d{4}\.\d{4,5})(?:v(\d+))?$")
# Before April 2007: archive(.subject class)/YYMMNNN, e.g. "solv-int/9901001", "math.AG/0601001".
OLD_STYLE_ID = re.compile(r"^([a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})(?:v(\d+))?$")
ID_PREFIXES = re.compile(
    r"^(?:https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/|oai:arxiv\.org:|arxiv:)", re.I
)
CODE_HOSTS = ("github.com", "gitlab.com", "huggingface.co", "bitbucket.org", "codeberg.org")


class SourceError(Exception):
    """Bad input from a source. The message is one line naming the source and the position."""


@dataclass(frozen=True, slots=True)
class OrgRecord:
    name: str
    display_name: str = ""
    avatar_url: str = ""


@dataclass(slots=True)
class PaperRecord:
    paper_id: str
    id_kind: str
    title: str
    source: str
    source_raw_id: str
    listed_on: date
    abstract: str | None = None
    version: int | None = None
    authors: list[str] | None = None
    author_count: int | None = None
    organization: OrgRecord | None = None
    categories: list[str] | None = None
    published_at: datetime | None = None
    upvotes: int | None = None
    comment_count: int | None = None
    code_url: str | None = None
    code_stars: int | None = None
    project_url: str | None = None
    thumbnail_url: str | None = None
    summary: str | None = None
    keywords: list[str] | None = None
    withdrawn: bool | None = None
    # Not stored: lets an importer ask for updates only (arXiv "replace" of a paper we lack).
    update_only: bool = field(default=False, compare=False)


def parse_arxiv_id(raw: str) -> tuple[str, int | None] | None:
    """'2509.12345v2' -> ('2509.12345', 2); also URLs, 'arXiv:' and OAI forms; None if not arXiv."""
    text = ID_PREFIXES.sub("", raw.strip())
    match = NEW_STYLE_ID.match(text) or OLD_STYLE_ID.match(text)
    if not match:
        return None
    return match[1], int(match[2]) if match[2] else None


def canonical_id(raw: str) -> tuple[str, str, int | None]:
    """(paper_id, id_kind, version) for a source's id."""
    parsed = parse_arxiv_id(raw)
    if parsed:
        return parsed[0], Paper.IdKind.ARXIV, parsed[1]
    if raw.startswith(DERIVED_PREFIX):
        return raw, Paper.IdKind.DERIVED, None
    return raw.strip(), Paper.IdKind.SOURCE, None


def derive_id(title: str) -> str:
    """A stable id for a paper that has none: the same title always gives the same id."""
    words = re.sub(r"[^a-z0-9]+", " ", title.lower()).split()
    return DERIVED_PREFIX + hashlib.sha256(" ".join(words).encode()).hexdigest()[:12]


def clean_text(text: str) -> str:
    """Collapse hard line breaks and runs of spaces; keep blank-line paragraph breaks."""
    paragraphs = re.split(r"\n\s*\n", text.strip())
    return "\n\n".join(" ".join(p.split()) for p in paragraphs if p.strip())


def normalise_code_url(value: str) -> str:
    """'owner/name', 'github.com/owner/name.git/' or a full URL -> 'https://github.com/owner/name'.

    Returns '' for anything that is not a repository link.
    """
    text = value.strip().rstrip("/").removesuffix(".git")
    if re.fullmatch(r"[\w.-]+/[\w.-]+", text):
        return f"https://github.com/{text}"
    match = re.fullmatch(r"(?:https?://)?(?:www\.)?([\w.-]+)/([\w.-]+)/([\w.-]+)(/.*)?", text)
    if not match or match[1].lower() not in CODE_HOSTS:
        return ""
    return f"https://{match[1].lower()}/{match[2]}/{match[3]}"


GITHUB_IN_TEXT = re.compile(r"https?://(?:www\.)?github\.com/[\w.-]+/[\w.-]+")


def code_url_in_text(text: str) -> str:
    """The first GitHub repository linked in a text (abstracts often end with one)."""
    match = GITHUB_IN_TEXT.search(text)
    return normalise_code_url(match[0].rstrip(".")) if match else ""


# Dates a paper can have. Wider than arXiv's lifetime (old papers come in files), narrow enough
# that every conversion (UTC, local time, +/- a day or a month on the pages) stays in range.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2999, 12, 31, tzinfo=UTC)
DATE_RANGE = f"{EARLIEST.year}-{LATEST.year}"


def parse_datetime(value: str) -> datetime:
    """ISO 8601 with 'Z' or an offset; a bare date means midnight UTC. Raises ValueError, also
    for a date outside EARLIEST..LATEST."""
    text = value.strip().replace("Z", "+00:00")
    parsed = datetime.fromisoformat(text)
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if not EARLIEST <= parsed <= LATEST:
        raise ValueError(f"not in {DATE_RANGE}")
    return parsed


# --- What the catalogue can store -----------------------------------------------------------------

TEXT_FIELDS = ("paper_id", "title", "source_raw_id", "code_url", "project_url", "thumbnail_url")
COUNT_FIELDS = ("version", "author_count", "upvotes", "comment_count", "code_stars")
LINK_FIELDS = ("project_url", "thumbnail_url")
# Text fields without a column limit, capped far above any real paper (arXiv abstracts stop at
# 1,920 characters) so one bad record cannot put megabytes into every page and digest.
MAX_LENGTHS = {"abstract": 10_000, "summary": 2_000}
# Lists: (most items, longest item). Collaboration papers have a few thousand authors.
MAX_ITEMS = {"authors": (10_000, 300), "categories": (20, 40), "keywords": (100, 100)}
# Ids we make up from a title (derive_id), and other sources' ids: a plain token, never a path.
DERIVED_ID = re.compile(rf"^{DERIVED_PREFIX}[0-9a-f]{{12}}$")
SOURCE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def field_limit(model, name: str) -> int:
    """max_length of a text field, or the largest value of a positive integer field."""
    model_field = model._meta.get_field(name)
    if model_field.max_length:
        return model_field.max_length
    return 32767 if model_field.get_internal_type() == "PositiveSmallIntegerField" else 2**31 - 1


PAPER_LIMITS = {name: field_limit(Paper, name) for name in TEXT_FIELDS + COUNT_FIELDS} | MAX_LENGTHS
ORG_LIMITS = {name: field_limit(Organization, name) for name in ("name", "display_name")}


def text_problem(value: str) -> str:
    """Why a text cannot be stored as it is ('' if it can): PostgreSQL refuses NUL characters
    and UTF-8 has no encoding for a lone surrogate (JSON's "\\ud800")."""
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode()
    except UnicodeEncodeError:
        return "is not valid Unicode text"
    return ""


def all_texts(record: PaperRecord):
    """(field name, text) for every string in the record, list items and organization included."""
    for name in record.__slots__:
        value = getattr(record, name)
        if isinstance(value, str):
            yield name, value
        elif isinstance(value, list):
            yield from ((name, item) for item in value if isinstance(item, str))
    if org := record.organization:
        yield from (("organization", text) for text in (org.name, org.display_name, org.avatar_url))


def checked(record: PaperRecord, where: str) -> PaperRecord:
    """Refuse values the catalogue cannot store, naming the field, so a bad batch fails with one
    line instead of a database error; links that are not web links are dropped (never shown)."""
    problem = record_problem(record)
    if problem:
        raise SourceError(f"{where}: {problem}")
    for name in LINK_FIELDS:
        value = getattr(record, name)
        if value and not value.startswith(("https://", "http://")):
            setattr(record, name, None)
    return record


def record_problem(record: PaperRecord) -> str:
    """The first reason this record cannot be stored, or ''."""
    for name, text in all_texts(record):
        if problem := text_problem(text):
            return f"{name} {problem}"
    return id_problem(record) or size_problem(record)


def id_problem(record: PaperRecord) -> str:
    if record.id_kind == Paper.IdKind.DERIVED and not DERIVED_ID.match(record.paper_id):
        return f"paper id {record.paper_id[:60]!r} is not a derived id like {derive_id('a title')}"
    if record.id_kind == Paper.IdKind.SOURCE and not SOURCE_ID.match(record.paper_id):
        return (
            f"paper id {record.paper_id[:60]!r} is not an arXiv id (2301.12345, hep-th/9901001) "
            "or a plain token of letters, digits, '.', '_' and '-'"
        )
    return ""


def size_problem(record: PaperRecord) -> str:
    for name, limit in PAPER_LIMITS.items():
        value = getattr(record, name)
        if name in COUNT_FIELDS:
            if value is not None and not 0 <= value <= limit:
                return f"{name} must be between 0 and {limit}, got {value}"
        elif value and len(value) > limit:
            return f"{name} is longer than {limit} characters"
    for name, (most, longest) in MAX_ITEMS.items():
        items = getattr(record, name) or []
        if len(items) > most:
            return f"{name}: more than {most} items"
        if any(len(str(item)) > longest for item in items):
            return f"{name}: an item is longer than {longest} characters"
    org = record.organization
    for name in ("name", "display_name") if org else ():
        if len(getattr(org, name)) > (limit := ORG_LIMITS[name]):
            return f"organization {name} is longer than {limit} characters"
    return ""
