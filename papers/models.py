"""The paper catalog: every paper a digest can contain, its topics, and what editors decided."""

from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone

from papers import cards

MAX_PINS_PER_DAY = 2  # "From the editors" stays a short section


class PinLimitError(ValueError):
    """More papers pinned for one day than a digest shows."""


class Organization(models.Model):
    """A lab or company a paper is attributed to (Hugging Face's `organization`)."""

    name = models.CharField(max_length=200, unique=True)  # the source's handle, e.g. "facebook"
    display_name = models.CharField(max_length=300, blank=True)  # e.g. "AI at Meta"
    avatar_url = models.URLField(max_length=500, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.display_name or self.name


class Topic(models.Model):
    """A subject readers follow. Defined by phrases and arXiv categories; editors can change it."""

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=120, unique=True)
    description = models.CharField(max_length=300, blank=True)
    # Words and phrases that define the topic, e.g. ["machine unlearning", "unlearning"].
    keywords = models.JSONField(default=list, blank=True)
    # arXiv categories whose papers belong to the topic, e.g. ["cs.RO"].
    categories = models.JSONField(default=list, blank=True)
    active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0, help_text="Display order, smallest first.")

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("topic", args=[self.slug])


class Paper(models.Model):
    class IdKind(models.TextChoices):
        ARXIV = "arxiv", "arXiv id"
        SOURCE = "source", "Source id"
        DERIVED = "derived", "Derived (no source id)"

    class Source(models.TextChoices):
        HF = "hf", "Hugging Face Daily Papers"
        ARXIV = "arxiv", "arXiv"
        FILE = "file", "File"
        EDITOR = "editor", "Editor"

    # Canonical id: an arXiv id without version ("2509.12345", "solv-int/9901001"), else a
    # source id, else a deterministic derived id; `id_kind` says which.
    paper_id = models.CharField(max_length=100, unique=True)
    id_kind = models.CharField(max_length=10, choices=IdKind.choices, default=IdKind.ARXIV)
    version = models.PositiveSmallIntegerField(null=True, blank=True)

    title = models.CharField(max_length=1000)
    abstract = models.TextField(blank=True)
    authors = models.JSONField(default=list, blank=True)  # ordered list of names
    author_count = models.PositiveIntegerField(default=0)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="papers"
    )
    categories = models.JSONField(default=list, blank=True)  # arXiv categories, primary first
    primary_category = models.CharField(max_length=40, blank=True, db_index=True)

    published_at = models.DateTimeField(null=True, blank=True)  # first public version
    listed_on = models.DateField(db_index=True)  # the day a source listed it (HF day, arXiv day)
    first_seen_at = models.DateTimeField(default=timezone.now, db_index=True)

    # Popularity grows for days after listing: refreshed by later imports.
    upvotes = models.PositiveIntegerField(default=0, db_index=True)
    comment_count = models.PositiveIntegerField(default=0)
    popularity_updated_at = models.DateTimeField(null=True, blank=True)

    code_url = models.URLField(max_length=500, blank=True)
    code_stars = models.PositiveIntegerField(null=True, blank=True)
    project_url = models.URLField(max_length=500, blank=True)
    thumbnail_url = models.URLField(max_length=500, blank=True)
    summary = models.TextField(blank=True)  # the source's one-line summary
    keywords = models.JSONField(default=list, blank=True)
    withdrawn = models.BooleanField(default=False)

    # Editor fields: imports never touch these.
    featured = models.BooleanField(default=False, help_text="Editor's pick.", db_index=True)
    hidden = models.BooleanField(default=False, help_text="Never shown or sent.", db_index=True)
    editor_note = models.TextField(blank=True)
    pinned_on = models.DateField(
        null=True,
        blank=True,
        db_index=True,
        help_text="Shown to every reader (except 'only what matches me') in that day's digest, "
        "with the editor's note. At most 2 papers per day.",
    )

    # Provenance.
    source = models.CharField(max_length=10, choices=Source.choices)
    source_raw_id = models.CharField(max_length=200, blank=True)
    imported_at = models.DateTimeField(default=timezone.now)
    last_imported_at = models.DateTimeField(default=timezone.now)

    topics = models.ManyToManyField(Topic, through="PaperTopic", related_name="papers", blank=True)

    class Meta:
        ordering = ["-listed_on", "-upvotes", "id"]
        indexes = [models.Index(fields=["listed_on", "upvotes"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("paper", args=[self.paper_id])

    @classmethod
    @transaction.atomic
    def pin(cls, paper_pks: list[int], day) -> None:
        """Pin these papers to `day`'s digests, or raise PinLimitError and change nothing."""
        already = cls.objects.select_for_update().filter(pinned_on=day).exclude(pk__in=paper_pks)
        total = len(set(paper_pks)) + already.count()
        if total > MAX_PINS_PER_DAY:
            raise PinLimitError(
                f"At most {MAX_PINS_PER_DAY} papers can be pinned for {day:%Y-%m-%d}; "
                f"{already.count()} already are. Unpin one first."
            )
        cls.objects.filter(pk__in=paper_pks).update(pinned_on=day)

    @property
    def arxiv_url(self) -> str:
        return f"https://arxiv.org/abs/{self.paper_id}" if self.id_kind == self.IdKind.ARXIV else ""

    @property
    def pdf_url(self) -> str:
        return cards.pdf_url(self)

    @property
    def hf_url(self) -> str:
        return cards.hf_url(self)


class PaperTopicQuerySet(models.QuerySet):
    def applied(self):
        """Links that count: automatic or editor-added, not editor-removed."""
        return self.exclude(origin=PaperTopic.Origin.EDITOR_REMOVED)


class PaperTopic(models.Model):
    class Origin(models.TextChoices):
        AUTO = "auto", "Automatic"
        EDITOR_ADDED = "editor_added", "Added by editor"
        # Kept (not deleted) so that re-tagging does not bring the topic back.
        EDITOR_REMOVED = "editor_removed", "Removed by editor"

    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="topic_links")
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="paper_links")
    score = models.FloatField(default=0.0)
    origin = models.CharField(max_length=20, choices=Origin.choices, default=Origin.AUTO)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PaperTopicQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["paper", "topic"], name="unique_paper_topic")]

    def __str__(self) -> str:
        return f"{self.paper_id} → {self.topic_id} ({self.origin})"
