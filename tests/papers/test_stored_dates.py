"""A publication date outside the range Python can represent, stored before imports checked it."""

import datetime as dt
import importlib
import io

import pytest
import time_machine
from django.apps import apps
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import DataError, connection
from django.urls import reverse

from papers.models import Paper
from tests.factories import make_paper, make_reader

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="only PostgreSQL stores year 10000"),
]
migration = importlib.import_module("papers.migrations.0004_clear_out_of_range_dates")


def store_published_at(paper: Paper, value: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE papers_paper SET published_at = %s::timestamptz WHERE id = %s", [value, paper.pk]
        )


@pytest.mark.parametrize("value", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
@time_machine.travel(dt.datetime(2026, 11, 24, 12, tzinfo=dt.UTC), tick=False)
def test_the_migration_empties_an_unreadable_date_and_every_page_and_the_editor_work_again(client, value):
    paper = make_paper("Bad date", paper_id="2611.00001")
    good = make_paper("Good date", paper_id="2611.00002", published_at="2026-11-23T10:00:00Z")
    store_published_at(paper, value)
    with pytest.raises(DataError, match="timestamp too (large|small)"):
        Paper.objects.get(pk=paper.pk)

    migration.clear_out_of_range_dates(apps, None)

    paper.refresh_from_db()
    good.refresh_from_db()
    assert paper.published_at is None
    assert good.published_at.isoformat() == "2026-11-23T10:00:00+00:00"
    assert client.get(reverse("home"), {"date": "2026-11-24"}).status_code == 200
    assert client.get(paper.get_absolute_url()).status_code == 200
    client.force_login(User.objects.create_user("editor", password="pw", is_staff=True, is_superuser=True))
    assert client.get("/admin/papers/paper/").status_code == 200
    assert client.get(f"/admin/papers/paper/{paper.pk}/change/").status_code == 200
    make_reader(interests="bad date")
    out = io.StringIO()
    call_command("send_digests", "--dry-run", "--date", "2026-11-24", stdout=out)
    assert "Bad date" in out.getvalue()
