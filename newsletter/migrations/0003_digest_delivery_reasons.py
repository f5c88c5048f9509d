from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("newsletter", "0002_delivery_event_kind_engagement_counts"),
    ]

    operations = [
        migrations.AddField(
            model_name="digestdelivery",
            name="reasons",
            field=models.JSONField(blank=True, default=list),
        ),
    ]
