"""The paper list's reader side: 👍/👎 counts and a filter; pinning papers for the day's digests."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.urls import reverse

from newsletter.models import Rating
from papers.models import Paper
from tests.factories import make_paper, make_reader

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:papers_paper_changelist")
TODAY = date(2026, 11, 24)


@pytest.fixture
def editor(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("editor", "editor@example.com", "pw"))
    with time_machine.travel(datetime(2026, 11, 24, 10, 0, tzinfo=UTC), tick=False):
        yield client


def act(client, action: str, papers):
    data = {"action": action, "_selected_action": [p.pk for p in papers]}
    return client.post(CHANGELIST, data, follow=True)


def test_the_paper_list_counts_thumbs_and_filters_by_them(editor):
    liked, disliked = make_paper("Liked one"), make_paper("Disliked one")
    make_paper("Plain one")
    for _ in range(3):
        Rating.objects.create(subscriber=make_reader(), paper=liked, value=1)
    Rating.objects.create(subscriber=make_reader(), paper=liked, value=-1)
    Rating.objects.create(subscriber=make_reader(), paper=disliked, value=-1)

    html = editor.get(CHANGELIST).content.decode()
    assert "3 / 1" in html
    assert "0 / 1" in html
    html = editor.get(CHANGELIST + "?rated=disliked").content.decode()
    assert "Liked one" in html
    assert "Disliked one" in html
    assert "Plain one" not in html
    assert "Disliked one" not in editor.get(CHANGELIST + "?rated=liked").content.decode()


def test_editors_pin_at_most_two_papers_a_day_with_a_clear_error(editor):
    first, second, third = make_paper("First"), make_paper("Second"), make_paper("Third")
    act(editor, "pin_today", [first, second])
    assert set(Paper.objects.filter(pinned_on=TODAY).values_list("title", flat=True)) == {"First", "Second"}

    page = act(editor, "pin_today", [third]).content.decode()
    assert "Nothing pinned. At most 2 papers can be pinned for 2026-11-24; 2 already are." in page
    assert Paper.objects.get(pk=third.pk).pinned_on is None

    act(editor, "unpin", [first])
    act(editor, "pin_today", [third])
    assert set(Paper.objects.filter(pinned_on=TODAY).values_list("title", flat=True)) == {"Second", "Third"}


def test_the_change_form_refuses_a_third_pin_for_a_day(editor):
    make_paper("First", pinned_on=TODAY)
    make_paper("Second", pinned_on=TODAY)
    third = make_paper("Third")
    url = reverse("admin:papers_paper_change", args=[third.pk])
    form = editor.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and not isinstance(v, list | dict)}
    data.update(
        pinned_on="2026-11-24", authors="[]", categories="[]", keywords="[]", author_count="0", upvotes="0",
        comment_count="0", title="Third", listed_on="2026-11-24",
    )  # fmt: skip
    data.update({"topic_links-TOTAL_FORMS": "0", "topic_links-INITIAL_FORMS": "0"})
    response = editor.post(url, data)
    assert response.status_code == 200
    assert "At most 2 papers can be pinned for 2026-11-24; 2 already are." in response.content.decode()
    assert Paper.objects.get(pk=third.pk).pinned_on is None
