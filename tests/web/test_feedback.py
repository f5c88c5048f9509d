"""👍 / 👎 / "add to my papers" links from digests: GET never changes anything, POST records once,
undo puts back what was there, and a link only ever acts for its own reader and paper."""

import pytest
from django.test import Client

from newsletter import links
from newsletter.models import Rating, SeedPaper
from tests.factories import make_paper, make_reader

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader():
    return make_reader()


@pytest.fixture
def paper():
    return make_paper("Sparse attention at scale", authors=["Jane Doe", "John Roe"])


def link(reader, paper, action: str = "") -> str:
    token = links.token_for(reader, "feedback", paper.pk)
    return f"/feedback/{token}/" + (f"{action}/" if action else "")


@pytest.mark.parametrize("action", ["more", "less", "save", ""])
def test_a_mail_scanner_opening_a_feedback_link_changes_nothing(client: Client, reader, paper, action):
    response = client.get(link(reader, paper, action))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Sparse attention at scale" in page
    assert '<form method="post"' in page
    assert "<script" not in page.split("</header>")[-1]
    assert not Rating.objects.exists()
    assert not SeedPaper.objects.exists()


def test_posting_more_like_this_records_one_rating_and_says_so_with_undo(client: Client, reader, paper):
    response = client.post(link(reader, paper, "more"))
    client.post(link(reader, paper, "more"))  # a double click

    assert response.status_code == 200
    page = response.content.decode()
    assert "Noted: more like this" in page
    assert "Undo" in page
    assert "/manage/" in page
    [rating] = Rating.objects.all()
    assert (rating.subscriber, rating.paper, rating.value) == (reader, paper, 1)


def test_a_later_thumbs_down_replaces_a_thumbs_up(client: Client, reader, paper):
    client.post(link(reader, paper, "more"))
    client.post(link(reader, paper, "less"))
    assert list(Rating.objects.values_list("value", flat=True)) == [-1]


def test_undo_puts_back_what_the_reader_had_before(client: Client, reader, paper):
    client.post(link(reader, paper, "more"))
    page = client.post(link(reader, paper, "less")).content.decode()
    assert 'name="previous" value="1"' in page

    client.post(link(reader, paper, "undo"), {"what": "rating", "previous": "1"})
    assert list(Rating.objects.values_list("value", flat=True)) == [1]
    client.post(link(reader, paper, "undo"), {"what": "rating", "previous": ""})
    assert not Rating.objects.exists()


def test_add_to_my_papers_from_a_digest_saves_a_seed_and_undo_removes_it(client: Client, reader, paper):
    page = client.post(link(reader, paper, "save")).content.decode()
    assert "Added to your papers" in page
    assert list(reader.seeds.values_list("arxiv_id", flat=True)) == [paper.paper_id]
    client.post(link(reader, paper, "undo"), {"what": "save"})
    assert not reader.seeds.exists()


@pytest.mark.parametrize(
    "mangle",
    [
        lambda url: url.replace("/more/", "x/more/"),  # forged signature
        lambda url: url[: len("/feedback/") + 20] + "/more/",  # truncated
    ],
)
def test_a_forged_or_truncated_link_changes_nothing_and_gets_the_friendly_page(client, reader, paper, mangle):
    response = client.post(mangle(link(reader, paper, "more")))
    assert response.status_code == 400
    assert "This link doesn’t work" in response.content.decode()
    assert not Rating.objects.exists()


def test_a_link_cannot_rate_for_another_reader_or_another_paper(client: Client, reader, paper):
    other_reader, other_paper = make_reader(), make_paper("Another paper")
    value, stamp, signature = links.token_for(reader, "feedback", paper.pk).split(":")
    key, link_key, paper_pk = value.split(".")
    assert (key, paper_pk) == (str(reader.key), str(paper.pk))
    for swapped in (f"{other_reader.key}.{link_key}.{paper_pk}", f"{key}.{link_key}.{other_paper.pk}"):
        assert client.post(f"/feedback/{swapped}:{stamp}:{signature}/more/").status_code == 400
    # The reader's other links (manage, unsubscribe) are no feedback links either.
    manage = links.token_for(reader, "manage")
    assert client.post(f"/feedback/{manage}/more/").status_code == 400
    assert not Rating.objects.exists()


def test_the_preferences_page_lists_rated_papers_newest_first_with_undo(client: Client, reader, paper):
    older = make_paper("An older favourite")
    client.post(link(reader, older, "more"))
    client.post(link(reader, paper, "less"))
    page = client.get(f"/manage/{links.token_for(reader, 'manage')}/").content.decode()
    assert page.index("Sparse attention at scale") < page.index("An older favourite")
    assert page.count(">Undo</button>") == 2


def test_an_unknown_action_is_not_found(client: Client, reader, paper):
    assert client.post(link(reader, paper, "delete")).status_code == 404
