"""Atom feeds, read back with a real feed parser: trending, per topic, and a reader's private picks."""

from datetime import date, timedelta

import feedparser
import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from newsletter import links, subscriptions
from newsletter.tokens import make_token
from tests.factories import make_paper, make_reader, make_topic

pytestmark = pytest.mark.django_db
DAY = date(2026, 11, 24)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel("2026-11-25 12:00Z", tick=False):
        yield


def parsed(client, path: str):
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.bozo_exception
    assert feed.version == "atom10"
    return feed


def test_the_trending_feed_lists_the_newest_day_s_papers_most_upvoted_first(client):
    robots = make_topic("Tiny robots", slug="tiny-robots")
    make_paper("Quiet <b>paper</b>", upvotes=3, listed_on=DAY, abstract="About $x^2$ & more.")
    make_paper("Popular paper", upvotes=90, listed_on=DAY, topics=[robots], authors=["Ada", "Alan"])
    make_paper("Secret paper", upvotes=500, listed_on=DAY, hidden=True)
    make_paper("Older paper", upvotes=900, listed_on=DAY - timedelta(days=1))
    feed = parsed(client, reverse("feed-trending"))
    assert [e.title for e in feed.entries] == ["Popular paper", "Quiet <b>paper</b>"]
    popular, quiet = feed.entries
    assert popular.link.startswith("http://testserver/papers/2611.")
    assert popular.author == "Ada, Alan"
    assert [t.term for t in popular.tags] == ["Tiny robots"]
    assert quiet.summary == "About $x^2$ & more."
    assert popular.published.startswith("2026-11-24")


def test_each_topic_has_a_feed_of_its_newest_papers_and_every_page_links_a_feed(client):
    robots = make_topic("Tiny robots", slug="tiny-robots")
    make_paper("Robot paper", topics=[robots], listed_on=DAY)
    make_paper("Other paper", listed_on=DAY)
    feed = parsed(client, reverse("feed-topic", args=["tiny-robots"]))
    assert feed.feed.title == "Research papers in Tiny robots"
    assert [e.title for e in feed.entries] == ["Robot paper"]
    assert client.get(reverse("feed-topic", args=["no-such-topic"])).status_code == 404
    topic_page = client.get(robots.get_absolute_url()).content.decode()
    assert 'type="application/atom+xml"' in topic_page
    assert reverse("feed-topic", args=["tiny-robots"]) in topic_page
    assert reverse("feed-trending") in client.get(reverse("home")).content.decode()


def test_a_reader_s_private_feed_holds_their_picks_and_is_linked_from_their_preferences(client):
    robots = make_topic("Tiny robots", slug="tiny-robots", keywords=["robot"])
    seen = timezone.now() - timedelta(hours=2)
    make_paper("A robot that folds laundry", topics=[robots], first_seen_at=seen, listed_on=DAY)
    make_paper("Protein folding", first_seen_at=seen, listed_on=DAY, abstract="Proteins.")
    reader = make_reader(topics=[robots])
    manage = client.get(links.path_for(reader, "manage")).content.decode()
    feed_url = links.link(reader, "feed")
    assert f'value="{feed_url}"' in manage
    feed = parsed(client, links.path_for(reader, "feed"))
    assert [e.title for e in feed.entries] == ["A robot that folds laundry"]


def test_a_tampered_or_borrowed_feed_link_finds_nothing(client):
    reader = make_reader()
    token = make_token(reader.key, "feed")
    assert client.get(reverse("feed", args=[token[:-2] + "xx"])).status_code == 404
    manage_token = make_token(reader.key, "manage")
    assert client.get(reverse("feed", args=[manage_token])).status_code == 404


def test_signing_out_all_links_revokes_the_private_feed(client):
    reader = make_reader()
    old = links.path_for(reader, "feed")
    assert client.get(old).status_code == 200
    subscriptions.sign_out_links(reader)
    assert client.get(old).status_code == 404
    assert client.get(links.path_for(reader, "feed")).status_code == 200
