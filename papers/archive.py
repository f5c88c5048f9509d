"""The public archive: every month and day that has papers, with how many, newest first."""

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count
from django.shortcuts import render

from papers.models import Paper
from papers.pagecache import public_page


@dataclass
class Month:
    first: date
    days: list[tuple[date, int]] = field(default_factory=list)

    @property
    def paper_count(self) -> int:
        return sum(count for _, count in self.days)


def by_month(day_counts: list[tuple[date, int]]) -> list[Month]:
    """Groups (day, count) pairs, newest first, into months, newest first."""
    months: list[Month] = []
    for day, count in sorted(day_counts, reverse=True):
        first = day.replace(day=1)
        if not months or months[-1].first != first:
            months.append(Month(first))
        months[-1].days.append((day, count))
    return months


@public_page
def archive(request):
    # One row per listing day (a few hundred a year) from the (listed_on, upvotes) index.
    rows = Paper.objects.filter(hidden=False).values_list("listed_on").annotate(n=Count("id")).order_by()
    return render(request, "papers/archive.html", {"months": by_month(list(rows))})
