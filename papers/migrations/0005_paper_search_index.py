"""A GIN index for full-text search of titles and abstracts, on PostgreSQL only (SQLite searches
by substring; see papers/search.py)."""

from django.contrib.postgres.indexes import GinIndex
from django.db import migrations

from papers.search import SEARCH_VECTOR

INDEX = GinIndex(SEARCH_VECTOR, name="paper_search")


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(apps.get_model("papers", "Paper"), INDEX)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_index(apps.get_model("papers", "Paper"), INDEX)


class Migration(migrations.Migration):
    dependencies = [("papers", "0004_clear_out_of_range_dates")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
