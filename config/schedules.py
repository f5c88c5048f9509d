"""Write the default periodic tasks (settings.PAPERBOY_SCHEDULES) into django-celery-beat."""

import json

from django.conf import settings
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, PeriodicTask


def parse_crontab(expression: str) -> dict[str, str]:
    """'m h dom mon dow' (UTC) -> CrontabSchedule fields. Raises ValueError on a bad expression."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"crontab {expression!r} needs 5 fields: minute hour day month weekday")
    keys = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")
    return dict(zip(keys, fields, strict=True))


@transaction.atomic
def install_schedules(reset: bool = False) -> list[tuple[str, str]]:
    """Create missing periodic tasks; with reset, also put edited ones back to the defaults.

    Returns (name, "created" | "reset" | "kept") for each default schedule.
    """
    results = []
    for name, spec in settings.PAPERBOY_SCHEDULES.items():
        crontab, _ = CrontabSchedule.objects.get_or_create(timezone="UTC", **parse_crontab(spec["crontab"]))
        defaults = {
            "task": spec["task"],
            "crontab": crontab,
            "interval": None,
            "kwargs": json.dumps(spec.get("kwargs", {})),
            "enabled": True,
        }
        task, created = PeriodicTask.objects.get_or_create(name=name, defaults=defaults)
        if not created and reset:
            for field, value in defaults.items():
                setattr(task, field, value)
            task.save()
        results.append((name, "created" if created else "reset" if reset else "kept"))
    return results
