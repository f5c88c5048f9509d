"""What readers teach their digest: 👍/👎 ratings, seed papers and follows."""

from django.db import models
from django.utils import timezone


class RatingQuerySet(models.QuerySet):
    def rate(self, subscriber_id: int, paper_id: int, value: int) -> int | None:
        """One rating per (reader, paper): a later one replaces an earlier one. Returns the value
        it replaced (None when there was none), so the reader can undo."""
        previous = self.filter(subscriber_id=subscriber_id, paper_id=paper_id).values_list("value", flat=True)
        before = previous.first()
        self.update_or_create(
            subscriber_id=subscriber_id,
            paper_id=paper_id,
            defaults={"value": value, "created_at": timezone.now()},
        )
        return before

    def restore(self, subscriber_id: int, paper_id: int, value: int | None) -> None:
        """Undo: put back what was there before (a rating, or nothing)."""
        if value is None:
            self.filter(subscriber_id=subscriber_id, paper_id=paper_id).delete()
        else:
            self.rate(subscriber_id, paper_id, value)


class Rating(models.Model):
    class Value(models.IntegerChoices):
        MORE = 1, "👍 More like this"
        LESS = -1, "👎 Less like this"

    subscriber = models.ForeignKey("newsletter.Subscriber", on_delete=models.CASCADE, related_name="ratings")
    paper = models.ForeignKey("papers.Paper", on_delete=models.CASCADE, related_name="ratings")
    value = models.SmallIntegerField(choices=Value.choices)
    created_at = models.DateTimeField(default=timezone.now)

    objects = RatingQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "paper"], name="one_rating_per_reader_paper")
        ]

    def __str__(self) -> str:
        return f"{self.get_value_display()} (paper {self.paper_id})"


class SeedPaper(models.Model):
    """ "Papers like these": kept by canonical arXiv id, so a paper not yet in the catalogue can be
    named now and imported in the background; it joins Paper.paper_id once it arrives."""

    subscriber = models.ForeignKey("newsletter.Subscriber", on_delete=models.CASCADE, related_name="seeds")
    arxiv_id = models.CharField(max_length=40)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "arxiv_id"], name="one_seed_per_reader_id")
        ]

    def __str__(self) -> str:
        return self.arxiv_id


class Follow(models.Model):
    class Kind(models.TextChoices):
        AUTHOR = "author", "Author"
        ORGANIZATION = "org", "Organization"

    subscriber = models.ForeignKey("newsletter.Subscriber", on_delete=models.CASCADE, related_name="follows")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # An author's name as written on papers, or an Organization.name handle.
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "kind", "name"], name="one_follow_per_name")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name}"
