"""Seed papers, follows, mutes and the trending dial on the sign-up and preferences forms, and
"add to my papers" / "follow" from the public paper pages."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from newsletter import links
from newsletter.models import Follow, Rating, SeedPaper, Subscriber
from papers.models import Organization
from papers.tasks import import_arxiv_ids
from tests.factories import make_paper, make_reader, make_topic, manage_data, signup_data

pytestmark = pytest.mark.django_db


def manage_prefs(**overrides) -> dict:
    return manage_data(**{"trending": "balanced", **overrides})


def imports_queued(sent_tasks) -> list[list[str]]:
    return [args[0] for name, args in sent_tasks if name == import_arxiv_ids.name]


@pytest.fixture
def reader():
    return make_reader("reader@example.org", topics=[make_topic("Tiny robots")])


def manage_url(reader) -> str:
    return links.path_for(reader, "manage")


def test_a_reader_with_only_seed_papers_can_sign_up_and_unknown_ids_are_fetched_after_commit(
    client, django_capture_on_commit_callbacks, sent_tasks
):
    known = make_paper("Known paper", paper_id="2509.25760")
    seeds = "https://huggingface.co/papers/2509.25760\narXiv:2510.01001v2, https://arxiv.org/pdf/2510.01002v1"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post("/subscribe/", signup_data(seed_papers=seeds, trending="top"))
    assert response.status_code == 200
    assert imports_queued(sent_tasks) == []  # nothing before the commit
    for callback in callbacks:
        callback()
    reader = Subscriber.objects.get()
    assert reader.status == "pending"
    assert reader.trending == "top"
    assert sorted(reader.seeds.values_list("arxiv_id", flat=True)) == [
        known.paper_id,
        "2510.01001",
        "2510.01002",
    ]
    assert imports_queued(sent_tasks) == [["2510.01001", "2510.01002"]]
    assert reader.consents.get().choices["seed_papers"] == ["2509.25760", "2510.01001", "2510.01002"]


def test_a_bad_seed_line_gets_one_error_naming_it_and_nothing_is_saved(
    client, reader, django_capture_on_commit_callbacks
):
    data = manage_prefs(seed_papers="2510.01001\nmy favourite paper\n2510.01002", followed_authors="Jane Doe")
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(manage_url(reader), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert page.count("Line 2: “my favourite paper” is not an arXiv id") == 1
    assert not SeedPaper.objects.exists()
    assert not Follow.objects.exists()
    assert reader.topics.exists()  # the old choices stay
    assert callbacks == []


def test_more_than_fifty_seed_papers_are_refused(client, reader):
    seeds = ", ".join(f"2510.{n:05d}" for n in range(51))
    response = client.post(manage_url(reader), manage_prefs(seed_papers=seeds))
    assert response.status_code == 400
    assert "Up to 50 papers, please: this list has 51." in response.content.decode()
    assert not SeedPaper.objects.exists()


def test_follows_mutes_and_the_trending_dial_are_saved_and_listed_as_changes(client, reader):
    Organization.objects.create(name="google", display_name="Google DeepMind")
    data = manage_prefs(
        followed_authors="Jane Doe\n  John   Roe ",
        followed_orgs="google deepmind",
        muted="crypto, LLM agents",
        trending="top",
    )
    page = client.post(manage_url(reader), data).content.decode()
    assert "Authors you follow: none → Jane Doe, John Roe" in page
    assert "Organizations you follow: none → google" in page
    assert "Muted words: none → crypto, llm agents" in page
    assert "How much trending: Balanced → Also the day&#x27;s top papers" in page
    reader.refresh_from_db()
    assert sorted(reader.follows.values_list("kind", "name")) == [
        ("author", "Jane Doe"),
        ("author", "John Roe"),
        ("org", "google"),
    ]
    assert (reader.muted, reader.trending) == ("crypto\nllm agents", "top")
    # The form shows them back, and saving it again changes nothing.
    again = client.post(manage_url(reader), {**data, "followed_orgs": "google"}).content.decode()
    assert "Nothing changed." in again


def test_an_organization_nobody_publishes_as_gets_an_error_naming_the_line(client, reader):
    response = client.post(manage_url(reader), manage_prefs(followed_orgs="\nNo Such Lab"))
    assert response.status_code == 400
    assert "Line 2: no organization called “No Such Lab” has papers here yet." in response.content.decode()


def test_download_my_data_has_what_the_reader_taught_and_delete_me_removes_it(client, reader):
    paper = make_paper("Rated paper")
    Rating.objects.create(subscriber=reader, paper=paper, value=-1)
    SeedPaper.objects.create(subscriber=reader, arxiv_id="2510.01001")
    Follow.objects.create(subscriber=reader, kind="author", name="Jane Doe")
    Subscriber.objects.filter(pk=reader.pk).update(muted="crypto", trending="matches")
    export = links.token_for(reader, "export")

    data = json.loads(client.get(reverse("export", args=[export])).content)["taught"]
    assert [(r["paper"], r["title"], r["rating"]) for r in data["ratings"]] == [
        (paper.paper_id, "Rated paper", "👎 Less like this")
    ]
    assert [s["arxiv_id"] for s in data["seed_papers"]] == ["2510.01001"]
    assert [(f["kind"], f["name"]) for f in data["follows"]] == [("author", "Jane Doe")]
    assert (data["muted"], data["trending"]) == ("crypto", "matches")

    client.post(reverse("erase", args=[links.token_for(reader, "erase")]))
    assert not Rating.objects.exists()
    assert not SeedPaper.objects.exists()
    assert not Follow.objects.exists()


# --- From a paper page: the browser remembers the reader who opened one of their links ----------


@pytest.fixture
def paper():
    org = Organization.objects.create(name="deepmind", display_name="Google DeepMind")
    return make_paper("Sparse attention", paper_id="2510.01001", authors=["Jane Doe"], organization=org)


def test_a_paper_page_without_a_known_reader_explains_and_changes_nothing(client: Client, paper):
    page = client.get(paper.get_absolute_url()).content.decode()
    assert "open any link from your digest email on this browser" in page
    assert "Follow Google DeepMind" not in page
    response = client.post(reverse("paper-action", args=[paper.paper_id]), {"action": "save"})
    assert response.status_code == 400
    assert "We don’t know who you are on this browser" in response.content.decode()
    assert not SeedPaper.objects.exists()


def test_after_opening_their_link_a_reader_adds_and_follows_from_a_paper_page(client: Client, reader, paper):
    client.get(manage_url(reader))  # any reader link remembers them on this browser
    page = client.get(paper.get_absolute_url()).content.decode()
    assert "Follow Google DeepMind" in page
    assert "Add to my papers" in page

    url = reverse("paper-action", args=[paper.paper_id])
    assert client.post(url, {"action": "save"}).status_code == 200
    assert (
        "You follow Jane Doe" in client.post(url, {"action": "author", "name": "Jane Doe"}).content.decode()
    )
    client.post(url, {"action": "org"})
    assert list(reader.seeds.values_list("arxiv_id", flat=True)) == ["2510.01001"]
    assert sorted(reader.follows.values_list("kind", "name")) == [("author", "Jane Doe"), ("org", "deepmind")]


def test_a_paper_page_follows_only_the_papers_own_authors(client: Client, reader, paper):
    client.get(manage_url(reader))
    response = client.post(
        reverse("paper-action", args=[paper.paper_id]), {"action": "author", "name": "Mallory"}
    )
    assert response.status_code == 400
    assert not Follow.objects.exists()


def test_forget_me_on_this_browser_drops_the_reader(client: Client, reader, paper):
    client.get(manage_url(reader))
    client.post(reverse("forget-reader"), {"next": paper.get_absolute_url()})
    assert "Follow Google DeepMind" not in client.get(paper.get_absolute_url()).content.decode()
