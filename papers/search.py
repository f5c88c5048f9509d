"""Search of the catalogue: PostgreSQL full-text search in production, substring matching on SQLite.

PostgreSQL answers from a GIN index on the same expression as SEARCH_VECTOR (migration
0003_paper_search_index), so a search costs the same whether the catalogue holds a thousand papers
or a million. Its `websearch` syntax is what readers type elsewhere: words, "a phrase", -excluded.
"""

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import Q, QuerySet

from papers.models import Paper

MAX_SEARCH_TERMS = 8
SEARCH_CONFIG = "english"
# Must stay the expression the GIN index was built on, or PostgreSQL scans every paper.
SEARCH_VECTOR = SearchVector("title", "abstract", config=SEARCH_CONFIG)


def matching(papers: QuerySet[Paper], query: str) -> QuerySet[Paper]:
    """Papers whose title or abstract match every word of `query`, or whose id it is."""
    if connection.vendor == "postgresql":
        return full_text(papers, query)
    return substring(papers, query)


def full_text(papers: QuerySet[Paper], query: str) -> QuerySet[Paper]:
    words = SearchQuery(query, search_type="websearch", config=SEARCH_CONFIG)
    return papers.annotate(search=SEARCH_VECTOR).filter(Q(search=words) | Q(paper_id=query))


def substring(papers: QuerySet[Paper], query: str) -> QuerySet[Paper]:
    for term in query.split()[:MAX_SEARCH_TERMS]:
        papers = papers.filter(Q(title__icontains=term) | Q(abstract__icontains=term) | Q(paper_id=term))
    return papers
