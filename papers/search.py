"""Search of the catalogue: PostgreSQL full-text search in production, substring matching on SQLite.

PostgreSQL answers from a GIN index on the stored `search_document` column (migration
0006_paper_search_document): the title and abstract parsed once when a paper is written, so a
search neither parses abstracts again nor costs more with a larger catalogue. Its `websearch`
syntax is what readers type elsewhere: words, "a phrase", -excluded.
"""

from django.contrib.postgres.search import SearchQuery, SearchVector, SearchVectorField
from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

from papers.models import Paper

MAX_SEARCH_TERMS = 8
SEARCH_CONFIG = "english"
# The expression the first index was built on (migration 0005); the stored column holds its value.
SEARCH_VECTOR = SearchVector("title", "abstract", config=SEARCH_CONFIG)
# A PostgreSQL-only column outside the model, so that no other query ever loads its tsvector.
SEARCH_DOCUMENT = RawSQL('"papers_paper"."search_document"', [], output_field=SearchVectorField())


def matching(papers: QuerySet[Paper], query: str) -> QuerySet[Paper]:
    """Papers whose title or abstract match every word of `query`, or whose id it is."""
    if connection.vendor == "postgresql":
        return full_text(papers, query)
    return substring(papers, query)


def full_text(papers: QuerySet[Paper], query: str) -> QuerySet[Paper]:
    words = SearchQuery(query, search_type="websearch", config=SEARCH_CONFIG)
    return papers.alias(document=SEARCH_DOCUMENT).filter(Q(document=words) | Q(paper_id=query))


def substring(papers: QuerySet[Paper], query: str) -> QuerySet[Paper]:
    for term in query.split()[:MAX_SEARCH_TERMS]:
        papers = papers.filter(Q(title__icontains=term) | Q(abstract__icontains=term) | Q(paper_id=term))
    return papers
