"""The reader's private feed link, for the preferences page."""

from django import template

from newsletter import links
from newsletter.models import Subscriber

register = template.Library()


@register.simple_tag
def picks_feed_url(subscriber: Subscriber) -> str:
    return links.link(subscriber, "feed")
