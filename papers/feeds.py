"""Atom feeds: the newest day's trending papers, each topic's recent papers, and one reader's picks.

The reader's feed lives behind a signed "feed" link (newsletter/tokens.py) shown on their
preferences page; it lists what their next digest would hold, ranked by the digest's matching.
"""

from datetime import datetime, time

from django.contrib.syndication.views import Feed
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed

from newsletter import digests, links
from newsletter.tokens import BadToken
from papers import views
from papers.models import Paper, Topic

FEED_SIZE = 30


class PaperFeed(Feed):
    feed_type = Atom1Feed

    def item_title(self, paper: Paper) -> str:
        return paper.title

    def item_description(self, paper: Paper) -> str:
        return paper.abstract

    def item_link(self, paper: Paper) -> str:
        return paper.get_absolute_url()

    def item_pubdate(self, paper: Paper) -> datetime:
        return timezone.make_aware(datetime.combine(paper.listed_on, time()))

    def item_updateddate(self, paper: Paper) -> datetime:
        return paper.popularity_updated_at or paper.last_imported_at

    def item_author_name(self, paper: Paper) -> str:
        return str(paper.organization or "") or ", ".join(paper.authors[:3])

    def item_categories(self, paper: Paper) -> list[str]:
        return [link.topic.name for link in getattr(paper, "applied_links", [])]


class TrendingFeed(PaperFeed):
    public_page = True
    title = "Trending research papers"
    subtitle = "The most upvoted papers of the newest day."

    def link(self) -> str:
        return reverse("home")

    def items(self) -> list[Paper]:
        day = views.latest_day(timezone.localdate())
        return list(views.trending(views.visible_papers().filter(listed_on=day))[:FEED_SIZE])


class TopicFeed(PaperFeed):
    public_page = True

    def get_object(self, request, slug: str) -> Topic:
        return get_object_or_404(Topic, slug=slug, active=True)

    def title(self, topic: Topic) -> str:
        return f"Research papers in {topic.name}"

    def subtitle(self, topic: Topic) -> str:
        return topic.description or f"The newest papers in {topic.name}."

    def link(self, topic: Topic) -> str:
        return topic.get_absolute_url()

    def items(self, topic: Topic) -> list[Paper]:
        papers = views.in_topic(views.visible_papers(), topic)
        return list(papers.order_by("-listed_on", "-featured", "-upvotes", "id")[:FEED_SIZE])


class ReaderFeed(PaperFeed):
    title = "Your research paper picks"
    subtitle = "The papers your next digest would hold, best match first."

    def get_object(self, request, token: str):
        try:
            return links.find_subscriber(token, "feed")
        except BadToken as exc:
            raise Http404("This feed link is not valid (any more).") from exc

    def link(self, subscriber) -> str:
        return reverse("home")

    def items(self, subscriber) -> list[Paper]:
        picks, _ = digests.preview(subscriber, timezone.now())
        order = [pick.paper_id for pick in picks]
        papers = views.visible_papers().in_bulk(order)
        return [papers[pk] for pk in order if pk in papers]
