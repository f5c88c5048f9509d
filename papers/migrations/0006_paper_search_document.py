"""Full-text search reads a stored tsvector column instead of an expression index, on PostgreSQL
only (SQLite searches by substring; see papers/search.py).

With only the expression index, PostgreSQL estimated to_tsvector() as cheap and ran each search as
a sequential scan that parsed every abstract again: about 5 s per search over 4,600 papers, and
phrase searches re-parsed every candidate row even through the index. The generated column is
parsed once per write and both the index and any recheck read it. It is not a model field, so
no ordinary query ever loads it.
"""

from django.db import migrations

# The expression of papers.search.SEARCH_VECTOR, which the old index was built on.
DOCUMENT = "to_tsvector('english'::regconfig, COALESCE(title, '') || ' ' || COALESCE(abstract, ''))"
ADD = [
    f"ALTER TABLE papers_paper ADD COLUMN search_document tsvector GENERATED ALWAYS AS ({DOCUMENT}) STORED",
    "CREATE INDEX paper_search_document ON papers_paper USING gin (search_document)",
    "DROP INDEX paper_search",
]
REMOVE = [
    f"CREATE INDEX paper_search ON papers_paper USING gin (({DOCUMENT}))",
    "ALTER TABLE papers_paper DROP COLUMN search_document",
]


def add(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in ADD:
            schema_editor.execute(statement)


def remove(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in REMOVE:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("papers", "0005_paper_search_index")]

    operations = [migrations.RunPython(add, remove, elidable=False)]
