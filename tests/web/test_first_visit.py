"""What a newcomer hit on a first visit, each fixed: sign-up errors, link pages, admin, dashboard."""

import re

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from newsletter.models import Heartbeat
from tests.factories import make_paper, make_topic, signup_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    client.force_login(get_user_model().objects.create_superuser("editor", "editor@example.org", "pw"))
    return client


def test_an_empty_sign_up_lists_every_missing_answer_at_once(client):
    make_topic("Tiny robots")
    response = client.post(reverse("subscribe"), signup_data(email="", topics=[]))
    assert response.status_code == 400
    page = response.content.decode()
    assert "This field is required." in page
    assert "Pick at least one topic, describe an interest or name a paper you like." in page


def test_a_tampered_unsubscribe_link_does_not_talk_about_confirmation_links(client):
    page = client.get(reverse("unsubscribe", args=["tampered"])).content.decode()
    assert "This link doesn’t work" in page
    assert "7 days" not in page
    assert "confirmation" not in page


def test_the_weekday_sits_in_a_block_that_daily_readers_do_not_see(client):
    page = client.get(reverse("subscribe")).content.decode()
    assert '<div class="weekly-only"><div class="field">\n  <label for="id_delivery_weekday">' in page


def test_the_admin_names_the_site_and_links_the_sending_dashboard(staff):
    page = staff.get(reverse("admin:index")).content.decode()
    assert "Paperboy administration" in page
    assert "Django administration" not in page
    assert f'href="{reverse("tracking-dashboard")}">Sending dashboard</a>' in page


def test_the_paper_list_shortens_long_titles_and_topic_lists(staff):
    topics = [make_topic(f"Topic {n}") for n in range(5)]
    make_paper("A very long title " * 12, topics=topics)
    page = staff.get(reverse("admin:papers_paper_changelist")).content.decode()
    [cell] = re.findall(r'<th class="field-short_title"><a [^>]+>([^<]+)</a>', page)
    assert len(cell) <= 90
    assert cell.endswith("…")
    assert "Topic 0, Topic 1, Topic 2 +2" in page


@time_machine.travel("2026-11-25 12:00Z", tick=False)
def test_the_dashboard_says_what_is_alive_in_a_readable_green(staff):
    Heartbeat.objects.create(name="beat", last_seen_at=timezone.now())
    page = staff.get(reverse("tracking-dashboard")).content.decode()
    assert "Celery beat and worker (a scheduled heartbeat ran): last heartbeat" in page
    assert "css/dashboard.css" in page
    css = (settings.BASE_DIR / "static" / "css" / "dashboard.css").read_text()
    assert ".sending .ok { color: #1e6b2a;" in css  # 6.9:1 on white
