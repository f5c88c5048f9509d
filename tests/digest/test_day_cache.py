"""The day's paper index is reused between chunks, and rebuilt as soon as anything it is built
from changes: papers, their topic links, the topics' phrases, an editor's fix."""

import pytest
from django.urls import reverse
from django.utils import timezone

from newsletter import day_index
from papers.models import PaperTopic, Topic
from tests.factories import make_new_paper, make_topic, unlearning_topic

pytestmark = pytest.mark.django_db


@pytest.fixture
def day():
    topic = unlearning_topic()
    paper = make_new_paper(topic)
    now = timezone.now()
    return topic, paper, now, day_index.day_papers(now)


def test_the_index_is_reused_while_nothing_changes(day):
    _, _, now, built = day
    assert day_index.day_papers(now) is built


def test_an_edited_topic_reaches_the_next_chunk_at_once(day):
    topic, _, now, built = day
    Topic.objects.filter(pk=topic.pk).update(keywords=["forgetting"])
    assert day_index.day_papers(now) is not built


def test_a_topic_an_editor_removes_from_a_paper_reaches_the_next_chunk_at_once(day):
    _, paper, now, built = day
    PaperTopic.objects.filter(paper=paper).update(origin=PaperTopic.Origin.EDITOR_REMOVED)
    assert day_index.day_papers(now) is not built


def test_a_new_tag_reaches_the_next_chunk_at_once(day):
    _, paper, now, built = day
    PaperTopic.objects.create(paper=paper, topic=make_topic("Robotics", ("robot",)))
    assert day_index.day_papers(now) is not built


def test_a_title_an_editor_fixes_in_the_admin_reaches_the_next_chunk_at_once(day, client, django_user_model):
    _, paper, now, built = day
    client.force_login(django_user_model.objects.create_superuser("editor", "editor@example.com", "pw"))
    form = {
        "paper_id": paper.paper_id, "title": "Forgetting, fixed", "abstract": paper.abstract,
        "authors": "[]", "author_count": 0, "categories": "[]", "keywords": "[]",
        "listed_on": paper.listed_on.isoformat(), "upvotes": paper.upvotes, "comment_count": 0,
        "topic_links-TOTAL_FORMS": 0, "topic_links-INITIAL_FORMS": 0,
    }  # fmt: skip
    response = client.post(reverse("admin:papers_paper_change", args=[paper.pk]), form)
    assert response.status_code == 302, response.context["adminform"].form.errors
    index, _ = day_index.day_papers(now)
    assert [doc.title for doc in index.papers] == ["Forgetting, fixed"]
