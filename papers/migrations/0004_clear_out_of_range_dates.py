"""Papers imported before dates were range-checked may carry a publication date outside
1900-2999 (e.g. "9999-12-31T23:59:59-14:00", stored by PostgreSQL as year 10000). Python cannot
represent such a value, so every page that loads the paper failed, the admin included. The
date is unknown in truth: it becomes empty, as for a paper whose source gave none."""

from datetime import UTC, datetime

from django.db import migrations
from django.db.models import Q

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2999, 12, 31, tzinfo=UTC)


def clear_out_of_range_dates(apps, schema_editor):
    Paper = apps.get_model("papers", "Paper")
    out_of_range = Q(published_at__lt=EARLIEST) | Q(published_at__gt=LATEST)
    # An update compares in the database: the values are never loaded into Python.
    Paper.objects.filter(out_of_range).update(published_at=None)


class Migration(migrations.Migration):
    dependencies = [("papers", "0003_paper_pinned_on")]

    operations = [migrations.RunPython(clear_out_of_range_dates, migrations.RunPython.noop)]
