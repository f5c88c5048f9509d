"""Curation: editors scan a day's papers, feature or hide them, and fix their topics.

Everything shown comes through Django's autoescaping (no mark_safe): titles, notes and topic
names are untrusted text.
"""

from django import forms
from django.contrib import admin, messages
from django.db import models, transaction
from django.db.models import Count, Prefetch, Q
from django.template.response import TemplateResponse
from django.utils.text import Truncator

from newsletter.semantic import embed_after_commit
from papers import tasks
from papers.admin_signals import RatingFilter, ReaderSignalsAdmin
from papers.ingestion.upsert import sync_auto_topics
from papers.models import Organization, Paper, PaperTopic, Topic
from papers.pagecache import bump_catalogue_version

APPLIED = ~Q(origin=PaperTopic.Origin.EDITOR_REMOVED)
# Links typed without a scheme are https (Django 6 default; silences its deprecation warning).
HTTPS_URLS = {models.URLField: {"assume_scheme": "https"}}
# A changed topic definition is applied to the papers first seen this many days back.
RETAG_DAYS = 30


class ChangesPublicPages:
    """Any editor POST here (a save, a delete, an action) may change what the public pages show."""

    def changeform_view(self, request, *args, **kwargs):
        return self.bumped(request, super().changeform_view(request, *args, **kwargs))

    def changelist_view(self, request, *args, **kwargs):
        return self.bumped(request, super().changelist_view(request, *args, **kwargs))

    def delete_view(self, request, *args, **kwargs):
        return self.bumped(request, super().delete_view(request, *args, **kwargs))

    def bumped(self, request, response):
        # The admin view's own transaction has committed by the time it returns.
        if request.method == "POST":
            bump_catalogue_version()
        return response


class PaperTopicInline(admin.TabularInline):
    model = PaperTopic
    extra = 1
    fields = ["topic", "origin", "score"]
    readonly_fields = ["score"]
    autocomplete_fields = ["topic"]
    verbose_name = "topic"
    verbose_name_plural = "topics (set origin to “Removed by editor” to keep a topic off for good)"


class TopicFilter(admin.SimpleListFilter):
    title = "topic"
    parameter_name = "topic"

    def lookups(self, request, model_admin):
        return [(t.pk, t.name) for t in Topic.objects.all()]

    def queryset(self, request, queryset):
        if self.value():
            links = PaperTopic.objects.filter(APPLIED, topic_id=self.value())
            return queryset.filter(pk__in=links.values("paper_id"))
        return queryset


class TopicChoiceForm(forms.Form):
    topic = forms.ModelChoiceField(queryset=Topic.objects.all())


@admin.register(Paper)
class PaperAdmin(ChangesPublicPages, ReaderSignalsAdmin, admin.ModelAdmin):
    list_display = [
        "short_title", "organization", "listed_on", "upvotes", "topic_names", "featured", "hidden",
        "pinned_on", "ratings",
    ]  # fmt: skip
    list_display_links = ["short_title"]
    list_filter = [
        ("listed_on", admin.DateFieldListFilter),
        TopicFilter,
        ("organization", admin.RelatedOnlyFieldListFilter),
        "source",
        "featured",
        "hidden",
        "withdrawn",
        RatingFilter,
        ("pinned_on", admin.DateFieldListFilter),
    ]
    search_fields = ["title", "abstract", "authors", "paper_id"]
    date_hierarchy = "listed_on"
    list_per_page = 100
    list_select_related = ["organization"]
    inlines = [PaperTopicInline]
    formfield_overrides = HTTPS_URLS
    actions = [
        "feature", "unfeature", "hide", "unhide", "add_topic", "remove_topic", "retag", "refresh_from_source",
        "pin_today", "unpin",
    ]  # fmt: skip
    provenance = ["source", "source_raw_id", "id_kind", "imported_at", "last_imported_at", "first_seen_at"]
    readonly_fields = [*provenance, "popularity_updated_at", "withdrawn"]
    fieldsets = [
        ("Editor", {"fields": ["featured", "hidden", "editor_note", "pinned_on"]}),
        (None, {"fields": ["paper_id", "version", "title", "abstract", "authors", "author_count",
                           "organization"]}),
        ("Details", {"fields": ["categories", "primary_category", "published_at", "listed_on", "code_url",
                                "code_stars", "project_url", "thumbnail_url", "summary", "keywords"]}),
        ("Popularity", {"fields": ["upvotes", "comment_count", "popularity_updated_at", "withdrawn"]}),
        ("Provenance", {"fields": provenance}),
    ]  # fmt: skip

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if {"title", "abstract"} & set(form.changed_data):
            embed_after_commit([obj.pk])  # the semantic model reads the text the editor fixed

    def get_queryset(self, request):
        applied = PaperTopic.objects.filter(APPLIED).select_related("topic").order_by("topic__position")
        return (
            super().get_queryset(request).prefetch_related(Prefetch("topic_links", applied, "applied_links"))
        )

    # Long titles and topic lists pushed the Featured and Hidden columns off a 1280 px screen.
    @admin.display(description="title", ordering="title")
    def short_title(self, paper: Paper) -> str:
        return Truncator(paper.title).chars(90)

    @admin.display(description="topics")
    def topic_names(self, paper: Paper) -> str:
        names = [link.topic.name for link in paper.applied_links]
        return ", ".join(names[:3]) + (f" +{len(names) - 3}" if len(names) > 3 else "")

    @admin.action(description="Feature selected papers (editor's pick)")
    def feature(self, request, queryset):
        self.flag(request, queryset, featured=True)

    @admin.action(description="Unfeature selected papers")
    def unfeature(self, request, queryset):
        self.flag(request, queryset, featured=False)

    @admin.action(description="Hide selected papers (never shown or sent)")
    def hide(self, request, queryset):
        self.flag(request, queryset, hidden=True)

    @admin.action(description="Unhide selected papers")
    def unhide(self, request, queryset):
        self.flag(request, queryset, hidden=False)

    def flag(self, request, queryset, **values):
        count = queryset.update(**values)
        name, value = next(iter(values.items()))
        self.message_user(
            request, f"{count} paper(s) {'' if value else 'no longer '}{name}.", messages.SUCCESS
        )

    @admin.action(description="Add a topic to selected papers…")
    def add_topic(self, request, queryset):
        return self.choose_topic(request, queryset, "add_topic", add_topic_to_papers)

    @admin.action(description="Remove a topic from selected papers…")
    def remove_topic(self, request, queryset):
        return self.choose_topic(request, queryset, "remove_topic", remove_topic_from_papers)

    def choose_topic(self, request, queryset, action: str, apply):
        """First POST shows a topic chooser; its POST (with `apply`) changes the papers."""
        form = TopicChoiceForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            topic = form.cleaned_data["topic"]
            count = apply(list(queryset.values_list("pk", flat=True)), topic)
            verb = "added to" if action == "add_topic" else "removed from"
            self.message_user(request, f"Topic “{topic}” {verb} {count} paper(s).", messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Choose a topic",
            "opts": self.model._meta,
            "papers": queryset,
            "form": form,
            "action": action,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/papers/paper/choose_topic.html", context)

    @admin.action(description="Re-tag selected papers from the current topic definitions")
    def retag(self, request, queryset):
        with transaction.atomic():
            sync_auto_topics(list(queryset))
        self.message_user(request, f"Re-tagged {queryset.count()} paper(s); editor choices kept.")

    @admin.action(description="Refresh selected papers from their sources")
    def refresh_from_source(self, request, queryset):
        pks = list(queryset.values_list("pk", flat=True))
        transaction.on_commit(lambda: tasks.refresh_papers.delay(pks))
        self.message_user(
            request,
            f"Refresh of {len(pks)} paper(s) queued: version, abstract and categories from arXiv; "
            "upvotes, comments and code links from Hugging Face. Papers loaded from a file have "
            "no source to ask.",
            messages.SUCCESS,
        )

    def save_formset(self, request, form, formset, change):
        """Editor edits to topics stick: new links are the editor's, deleted ones become
        "removed by editor" so that automatic tagging does not bring them back."""
        links = formset.save(commit=False)
        for link in links:
            if link.pk is None:
                link.origin, link.score = PaperTopic.Origin.EDITOR_ADDED, 1.0
            link.save()
        for link in formset.deleted_objects:
            link.origin = PaperTopic.Origin.EDITOR_REMOVED
            link.save(update_fields=["origin"])


@transaction.atomic
def add_topic_to_papers(paper_pks: list[int], topic: Topic) -> int:
    return set_origin(paper_pks, topic, PaperTopic.Origin.EDITOR_ADDED, score=1.0)


@transaction.atomic
def remove_topic_from_papers(paper_pks: list[int], topic: Topic) -> int:
    return set_origin(paper_pks, topic, PaperTopic.Origin.EDITOR_REMOVED, score=0.0)


def set_origin(paper_pks: list[int], topic: Topic, origin: str, score: float) -> int:
    links = PaperTopic.objects.filter(topic=topic, paper_id__in=paper_pks)
    have = set(links.values_list("paper_id", flat=True))
    links.update(origin=origin, score=score)
    PaperTopic.objects.bulk_create(
        [
            PaperTopic(paper_id=pk, topic=topic, origin=origin, score=score)
            for pk in paper_pks
            if pk not in have
        ]
    )
    return len(paper_pks)


@admin.register(Topic)
class TopicAdmin(ChangesPublicPages, admin.ModelAdmin):
    list_display = ["name", "slug", "paper_count", "active", "position"]
    list_editable = ["active", "position"]
    list_filter = ["active"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    fields = ["name", "slug", "description", "keywords", "categories", "active", "position"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                paper_count=Count(
                    "paper_links", filter=~Q(paper_links__origin=PaperTopic.Origin.EDITOR_REMOVED)
                )
            )
        )

    @admin.display(description="papers", ordering="paper_count")
    def paper_count(self, topic: Topic) -> int:
        return topic.paper_count

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change or {"keywords", "categories", "active"} & set(form.changed_data):
            # Imports tag new papers; recent ones are re-tagged in the background.
            transaction.on_commit(lambda: tasks.retag_recent_papers.delay(RETAG_DAYS))
            self.message_user(request, f"Papers from the last {RETAG_DAYS} days are being re-tagged.")


@admin.register(Organization)
class OrganizationAdmin(ChangesPublicPages, admin.ModelAdmin):
    list_display = ["name", "display_name", "paper_count"]
    formfield_overrides = HTTPS_URLS
    search_fields = ["name", "display_name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(paper_count=Count("papers"))

    @admin.display(description="papers", ordering="paper_count")
    def paper_count(self, org: Organization) -> int:
        return org.paper_count
