"""Reader snippets included in other pages: the paper page's follow / add buttons (for the reader
this browser remembers) and the preferences page's list of rated papers."""

from django import template

from newsletter import links
from newsletter.links import remembered_reader
from newsletter.models import Rating, Subscriber

register = template.Library()


@register.inclusion_tag("newsletter/_reader_actions.html", takes_context=True)
def reader_actions(context, paper) -> dict:
    request = context.get("request")
    reader = remembered_reader(request) if request is not None else None
    return {"paper": paper, "reader": reader, "csrf_token": context.get("csrf_token"), "request": request}


@register.inclusion_tag("newsletter/_rated_papers.html", takes_context=True)
def rated_papers(context, subscriber: Subscriber) -> dict:
    """Newest first, each with an undo that goes through the paper's own feedback link."""
    ratings = Rating.objects.filter(subscriber=subscriber, paper__hidden=False).select_related("paper")[:100]
    rows = [(r, links.token_for(subscriber, "feedback", r.paper_id)) for r in ratings]
    return {"rows": rows, "csrf_token": context.get("csrf_token")}


@register.inclusion_tag("newsletter/_reader_taught.html")
def reader_taught(subscriber: Subscriber) -> dict:
    """Staff reader history: everything the reader taught their digest."""
    return {
        "reader": subscriber,
        "ratings": Rating.objects.filter(subscriber=subscriber).select_related("paper")[:200],
        "seeds": list(subscriber.seeds.all()),
        "follows": list(subscriber.follows.all()),
    }
