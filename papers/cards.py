"""What a paper card shows beyond the model's fields: the author line, source links and a BibTeX entry.

Pure functions over a Paper (or anything with its fields), shared by the site and the digest.
"""

import re
import unicodedata

from papers.mathtext import to_text

SHOWN_AUTHORS = 3
# Characters with a meaning in BibTeX/LaTeX that a title or a name may contain literally.
BIBTEX_SPECIAL = re.compile(r"(?<!\\)([&%#_])")


def author_summary(
    authors: list[str], author_count: int, shown: int = SHOWN_AUTHORS
) -> tuple[list[str], int]:
    """The first few names and how many more there are: (["Ada", "Alan"], 12)."""
    total = max(author_count, len(authors))
    names = list(authors[:shown])
    return names, total - len(names)


def hf_url(paper) -> str:
    """The paper's Hugging Face page (with its discussion), for papers Hugging Face listed."""
    if paper.source == "hf" and paper.id_kind == "arxiv":
        return f"https://huggingface.co/papers/{paper.paper_id}"
    return ""


def pdf_url(paper) -> str:
    return f"https://arxiv.org/pdf/{paper.paper_id}" if paper.id_kind == "arxiv" else ""


def bibtex_text(value: str) -> str:
    """One line, special characters escaped, braces balanced (unbalanced ones dropped)."""
    value = BIBTEX_SPECIAL.sub(r"\\\1", " ".join(value.split()))
    if value.count("{") != value.count("}"):
        value = value.replace("{", "").replace("}", "")
    return value


def cite_key(paper) -> str:
    family = paper.authors[0].split()[-1] if paper.authors else "paper"
    word = next((w for w in re.findall(r"[A-Za-z]{4,}", to_text(paper.title))), "")
    year = paper.published_at.year if paper.published_at else paper.listed_on.year
    ascii_key = unicodedata.normalize("NFKD", f"{family}{year}{word}").encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]", "", ascii_key).lower() or "paper"


def bibtex(paper) -> str:
    year = paper.published_at.year if paper.published_at else paper.listed_on.year
    fields = [("title", "{" + bibtex_text(paper.title) + "}")]
    if paper.authors:
        fields.append(("author", " and ".join(bibtex_text(name) for name in paper.authors)))
    fields.append(("year", str(year)))
    if paper.id_kind == "arxiv":
        fields += [("eprint", paper.paper_id), ("archivePrefix", "arXiv")]
        if paper.primary_category:
            fields.append(("primaryClass", paper.primary_category))
        fields.append(("url", f"https://arxiv.org/abs/{paper.paper_id}"))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@misc{{{cite_key(paper)},\n{body}\n}}"
