"""Tracking events received before webhook timestamps were range-checked may carry a time
Python cannot represent (year 10000 after a "-14:00" offset, or before year 1), which broke the
sending dashboard, the reader's history and their data export. Such an event is dated when it
arrived, and a digest it marked delivered keeps the time of that change instead."""

from datetime import UTC, datetime, timedelta

from django.db import migrations
from django.db.models import F, Q
from django.utils import timezone

# As newsletter.payloads.event_time (copied: a migration must not change with the code).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


def clear_out_of_range_times(apps, schema_editor):
    latest = timezone.now() + timedelta(days=1)
    DeliveryEvent = apps.get_model("newsletter", "DeliveryEvent")
    DigestDelivery = apps.get_model("newsletter", "DigestDelivery")
    # Updates compare in the database: the bad values are never loaded into Python.
    bad_events = Q(occurred_at__lt=EARLIEST) | Q(occurred_at__gt=latest)
    DeliveryEvent.objects.filter(bad_events).update(occurred_at=F("received_at"))
    bad_sends = Q(sent_at__lt=EARLIEST) | Q(sent_at__gt=latest)
    DigestDelivery.objects.filter(bad_sends).update(sent_at=F("updated_at"))


class Migration(migrations.Migration):
    dependencies = [("newsletter", "0008_subscription_email_outbox")]

    operations = [migrations.RunPython(clear_out_of_range_times, migrations.RunPython.noop)]
