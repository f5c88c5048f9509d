"""The importers' default schedules and their environment overrides."""

import os
import subprocess
import sys

import pytest
from django_celery_beat.models import PeriodicTask

from config.schedules import install_schedules
from papers import tasks
from tests.conftest import ROOT

pytestmark = pytest.mark.django_db


def test_the_importers_are_scheduled_in_utc():
    install_schedules()
    hf = PeriodicTask.objects.get(name="import-hf-daily")
    assert hf.task == "papers.tasks.import_hf_previous_day"
    assert (hf.crontab.minute, hf.crontab.hour, str(hf.crontab.timezone)) == ("15", "6", "UTC")
    arxiv = PeriodicTask.objects.get(name="import-arxiv")
    assert arxiv.crontab.day_of_week == "1-5"
    assert PeriodicTask.objects.get(name="refresh-hf-upvotes").task == "papers.tasks.refresh_hf_recent_days"
    for name in ["import-hf-daily", "import-arxiv", "refresh-hf-upvotes"]:
        task_name = PeriodicTask.objects.get(name=name).task
        assert getattr(tasks, task_name.rsplit(".", 1)[1]).name == task_name


def test_schedules_and_sources_are_configurable_by_env():
    probe = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.PAPERBOY_SCHEDULES['import-arxiv']['crontab'], s.PAPERS_HF_BASE_URL, s.HF_TOKEN, "
        "s.PAPERS_ARXIV_MIN_INTERVAL)"
    )
    env = {"SCHEDULE_IMPORT_ARXIV": "0 7 * * 1-5", "PAPERS_HF_BASE_URL": "http://mirror/", "HF_TOKEN": "t"}
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.split() == ["0", "7", "*", "*", "1-5", "http://mirror", "t", "3.0"]
