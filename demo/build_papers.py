"""Turn a saved Hugging Face "Daily Papers" page (copied as text) into demo/papers.json, a file in
the Hugging Face API's JSON shape that `manage.py import_papers file` loads.

    python demo/build_papers.py PAGE.txt > demo/papers.json

The page shows no arXiv ids, so each paper gets a derived id (a hash of its title, prefixed
"derived-"), which the importer marks as such. Code links inside abstracts become githubRepo.
Authors' names are not on the page, only their number: that goes into our `numAuthors` extension.
"""

import json
import os
import re
import sys
from datetime import date, datetime
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.utils.text import slugify  # noqa: E402

from papers.ingestion.records import code_url_in_text, derive_id  # noqa: E402

ENTRY_LINES = 5  # title, abstract, authors or organization, "·", date [upvotes]
DATE_LINE = re.compile(r"^([A-Z][a-z]{2} \d{1,2}, \d{4})(?:\s+(\d+))?$")
AUTHORS_LINE = re.compile(r"^•\s*(\d+) authors?$")


def parse_day(text: str, fmt: str) -> date:
    return datetime.strptime(f"{text} +0000", f"{fmt} %z").date()


def page_day(lines: list[str]) -> date:
    """The page's "Jan 5" heading; its year is the one after the newest paper's if that is later."""
    heading = next(line for line in lines if re.fullmatch(r"[A-Z][a-z]{2} \d{1,2}", line))
    newest = max(parse_day(m[1], "%b %d, %Y") for line in lines if (m := DATE_LINE.match(line)))
    day = parse_day(f"{heading} {newest.year}", "%b %d %Y")
    return day if day >= newest else day.replace(year=newest.year + 1)


def entries(lines: list[str]) -> list[list[str]]:
    start = next(i for i, line in enumerate(lines) if re.fullmatch(r"[A-Z][a-z]{2} \d{1,2}", line)) + 1
    body = lines[start:]
    if len(body) % ENTRY_LINES:
        raise SystemExit(f"unexpected page layout: {len(body)} lines after the heading")
    return [body[i : i + ENTRY_LINES] for i in range(0, len(body), ENTRY_LINES)]


def to_item(entry: list[str], listed: date) -> dict:
    title, abstract, byline, dot, dated = entry
    match = DATE_LINE.match(dated)
    if dot != "·" or not match:
        raise SystemExit(f"unexpected entry layout near {title[:60]!r}")
    published = parse_day(match[1], "%b %d, %Y")
    paper = {
        "id": derive_id(title),
        "title": title,
        "summary": abstract,
        "authors": [],
        "publishedAt": f"{published.isoformat()}T00:00:00.000Z",
        "upvotes": int(match[2] or 0),
    }
    if authors := AUTHORS_LINE.match(byline):
        paper["numAuthors"] = int(authors[1])
    else:
        name, _, fullname = byline.partition(" ")
        if fullname and not name.islower():
            # "Tsinghua University": a display name alone (handles are lowercase, like "facebook").
            name, fullname = slugify(byline), byline
        paper["organization"] = {"name": name, "fullname": fullname or name}
    if code := code_url_in_text(abstract):
        paper["githubRepo"] = code
    return {
        "paper": paper,
        "publishedAt": f"{listed.isoformat()}T00:00:00.000Z",
        "title": title,
        "numComments": 0,
    }


def build(text: str) -> list[dict]:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    listed = page_day(lines)
    return [to_item(entry, listed) for entry in entries(lines)]


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as page:
        json.dump(build(page.read()), sys.stdout, indent=1, ensure_ascii=False)
        sys.stdout.write("\n")
