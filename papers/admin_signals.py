"""The paper list's reader side: 👍/👎 counts and a filter, and pinning papers to a day's digests
("From the editors", at most MAX_PINS_PER_DAY a day)."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.utils import timezone

from papers.models import MAX_PINS_PER_DAY, Paper, PinLimitError


class RatingFilter(admin.SimpleListFilter):
    title = "reader ratings"
    parameter_name = "rated"

    def lookups(self, request, model_admin):
        return [("liked", "👍 by a reader"), ("disliked", "👎 by a reader"), ("any", "Rated at all")]

    def queryset(self, request, queryset):
        value = {
            "liked": Q(ratings__value=1),
            "disliked": Q(ratings__value=-1),
            "any": Q(ratings__isnull=False),
        }
        if self.value() in value:
            return queryset.filter(pk__in=Paper.objects.filter(value[self.value()]).values("pk"))
        return queryset


class PaperForm(forms.ModelForm):
    def clean_pinned_on(self):
        day = self.cleaned_data.get("pinned_on")
        if day:
            others = Paper.objects.filter(pinned_on=day).exclude(pk=self.instance.pk).count()
            if others >= MAX_PINS_PER_DAY:
                raise forms.ValidationError(
                    f"At most {MAX_PINS_PER_DAY} papers can be pinned for {day:%Y-%m-%d}; "
                    f"{others} already are. Unpin one first."
                )
        return day


class ReaderSignalsAdmin(admin.ModelAdmin):
    """Mixed into PaperAdmin."""

    form = PaperForm

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                likes=Count("ratings", filter=Q(ratings__value=1)),
                dislikes=Count("ratings", filter=Q(ratings__value=-1)),
            )
        )

    @admin.display(description="👍 / 👎", ordering="-likes")
    def ratings(self, paper: Paper) -> str:
        return f"{paper.likes} / {paper.dislikes}"

    @admin.action(description="Pin selected papers to today's digests (From the editors, at most 2)")
    def pin_today(self, request, queryset):
        day = timezone.localdate()
        try:
            Paper.pin(list(queryset.values_list("pk", flat=True)), day)
        except PinLimitError as exc:
            self.message_user(request, f"Nothing pinned. {exc}", messages.ERROR)
            return
        self.message_user(request, f"Pinned {queryset.count()} paper(s) to the digests of {day:%Y-%m-%d}.")

    @admin.action(description="Unpin selected papers")
    def unpin(self, request, queryset):
        count = queryset.exclude(pinned_on=None).update(pinned_on=None)
        self.message_user(request, f"Unpinned {count} paper(s).", messages.SUCCESS)
