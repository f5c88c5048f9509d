"""Public pages: trending papers by day / week / month, one paper, one topic. Hidden papers never show."""

import calendar
from datetime import date, timedelta

from django.core.paginator import Paginator
from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from papers import cards, similar
from papers.ingestion.records import EARLIEST, LATEST
from papers.models import Paper, PaperTopic, Topic
from papers.pagecache import public_page
from papers.search import matching

PERIODS = ("day", "week", "month")
PER_PAGE = 30


# --- Pure date helpers -------------------------------------------------------------------------


def period_bounds(day: date, period: str) -> tuple[date, date]:
    """First and last day (inclusive) of the day / ISO week / calendar month containing `day`."""
    if period == "week":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=6)
    if period == "month":
        last = calendar.monthrange(day.year, day.month)[1]
        return day.replace(day=1), day.replace(day=last)
    return day, day


def step(day: date, period: str, direction: int) -> date:
    """The first day of the previous (-1) or next (+1) day / week / month."""
    start, end = period_bounds(day, period)
    if direction < 0:
        return period_bounds(start - timedelta(days=1), period)[0]
    return end + timedelta(days=1)


# The catalogue's dates (papers.ingestion.records): the pages step a month either side of these.
FIRST_DAY, LAST_DAY = EARLIEST.date(), LATEST.date()


def parse_day(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


# --- Queries ------------------------------------------------------------------------------------


def visible_papers() -> QuerySet[Paper]:
    """Papers readers may see, with organization and applied, active topics loaded in bulk."""
    applied = (
        PaperTopic.objects.applied()
        .filter(topic__active=True)
        .select_related("topic")
        .order_by("topic__position", "topic__name")
    )
    return (
        Paper.objects.filter(hidden=False)
        .select_related("organization")
        .prefetch_related(Prefetch("topic_links", queryset=applied, to_attr="applied_links"))
    )


def in_topic(papers: QuerySet[Paper], topic: Topic) -> QuerySet[Paper]:
    links = PaperTopic.objects.applied().filter(paper=OuterRef("pk"), topic=topic)
    return papers.filter(Exists(links))


def trending(papers: QuerySet[Paper]) -> QuerySet[Paper]:
    return papers.order_by("-featured", "-upvotes", "-listed_on", "id")


def visible_paper_count() -> Count:
    """A topic's papers as its page lists them: applied links to papers that are not hidden."""
    applied = ~Q(paper_links__origin=PaperTopic.Origin.EDITOR_REMOVED)
    return Count("paper_links", filter=applied & Q(paper_links__paper__hidden=False))


def latest_day(today: date) -> date:
    """The most recent day with visible papers, so the home page is never empty by default."""
    found = Paper.objects.filter(hidden=False, listed_on__lte=today).aggregate(day=Max("listed_on"))["day"]
    return found or today


# --- Views --------------------------------------------------------------------------------------


def bad_request(request, message: str):
    return render(request, "papers/bad_request.html", {"message": message}, status=400)


@public_page
def home(request):
    today = timezone.localdate()
    # PostgreSQL cannot compare text with a NUL character in it.
    if any("\x00" in value for value in request.GET.values()):
        return bad_request(request, "The address contains a NUL character.")
    period = request.GET.get("period", "day")
    if period not in PERIODS:
        return bad_request(request, "Choose a day, a week or a month.")
    day = parse_day(request.GET["date"]) if request.GET.get("date") else latest_day(today)
    if day is None:
        return bad_request(request, "That is not a date. Use the form YYYY-MM-DD, e.g. 2026-11-24.")
    if not FIRST_DAY <= day <= LAST_DAY:
        return bad_request(request, f"Pick a date from {FIRST_DAY.year} to {LAST_DAY.year}.")
    topic = None
    if request.GET.get("topic"):
        topic = get_object_or_404(Topic, slug=request.GET["topic"], active=True)
    query = " ".join(request.GET.get("q", "").split())[:200]

    papers = visible_papers()
    if topic:
        papers = in_topic(papers, topic)
    start, end = period_bounds(day, period)
    # A search covers every day; otherwise only the chosen day / week / month.
    papers = matching(papers, query) if query else papers.filter(listed_on__range=(start, end))
    page = Paginator(trending(papers), PER_PAGE).get_page(request.GET.get("page"))
    next_day = step(day, period, 1)
    context = {
        "page": page,
        "period": period,
        "day": day,
        "start": start,
        "end": end,
        "prev_day": step(day, period, -1),
        # Only towards days that have papers: past the newest one, "next" would lead nowhere.
        "next_day": next_day if next_day <= latest_day(today) else None,
        "topic": topic,
        "topics": Topic.objects.filter(active=True),
        "query": query,
    }
    return render(request, "papers/home.html", context)


@public_page
def paper_detail(request, paper_id: str):
    if "\x00" in paper_id:  # no id has one, and PostgreSQL cannot compare it
        raise Http404
    paper = get_object_or_404(visible_papers(), paper_id=paper_id)
    nearest = similar.nearest(paper, visible_papers())
    context = {"paper": paper, "bibtex": cards.bibtex(paper), "similar": nearest}
    return render(request, "papers/paper.html", context)


@public_page
def topic_detail(request, slug: str):
    topic = get_object_or_404(Topic, slug=slug, active=True)
    papers = in_topic(visible_papers(), topic).order_by("-listed_on", "-featured", "-upvotes", "id")
    page = Paginator(papers, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "papers/topic.html", {"topic": topic, "page": page})


@public_page
def topic_list(request):
    topics = Topic.objects.filter(active=True).annotate(paper_count=visible_paper_count())
    return render(request, "papers/topics.html", {"topics": topics})
