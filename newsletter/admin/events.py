"""Admin for tracking events and suppressions. A reader's full delivery history is a page of
its own (newsletter/dashboard.py, "tracking-reader-history"), linked from every event."""

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from newsletter.addresses import normalize_email
from newsletter.models import DeliveryEvent, Subscriber, Suppression, email_hash


def reader_link(subscriber_id: int | None) -> str:
    if not subscriber_id:
        return "–"
    url = reverse("tracking-reader-history", args=[subscriber_id])
    return format_html('<a href="{}">reader {}</a>', url, subscriber_id)


@admin.register(DeliveryEvent)
class DeliveryEventAdmin(admin.ModelAdmin):
    """What the ESPs reported, as received: evidence, so read-only."""

    list_display = ["occurred_at", "esp", "event_type", "kind", "reader", "delivery", "reject_reason"]
    list_display += ["details"]
    list_filter = ["kind", "event_type", "esp", "reject_reason", ("occurred_at", admin.DateFieldListFilter)]
    search_fields = ["message_id", "event_id", "=subscriber__email"]
    date_hierarchy = "occurred_at"
    list_select_related = ["delivery"]
    readonly_fields = [f.name for f in DeliveryEvent._meta.fields]

    @admin.display(description="Reader", ordering="subscriber")
    def reader(self, event: DeliveryEvent) -> str:
        return reader_link(event.subscriber_id)

    @admin.display(description="Details")
    def details(self, event: DeliveryEvent) -> str:
        return event.description[:100]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class SuppressionForm(forms.ModelForm):
    """Staff type an address; only its hash is stored."""

    email = forms.EmailField(help_text="Stored only as a hash.")

    class Meta:
        model = Suppression
        fields = ["email", "reason", "source"]

    def clean_email(self) -> str:
        address = normalize_email(self.cleaned_data["email"])
        if Suppression.objects.filter(email_hash=email_hash(address)).exists():
            raise forms.ValidationError("This address is already suppressed.")
        return address

    def save(self, commit: bool = True) -> Suppression:
        self.instance.email_hash = email_hash(self.cleaned_data["email"])
        return super().save(commit)


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    list_display = ["short_hash", "reason", "source", "created_at"]
    list_filter = ["reason", "source", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["email_hash"]
    search_help_text = "Type a full email address: it is hashed before searching."
    date_hierarchy = "created_at"

    @admin.display(description="Address hash")
    def short_hash(self, suppression: Suppression) -> str:
        return suppression.email_hash[:16] + "…"

    def get_search_results(self, request, queryset, search_term):
        if "@" in search_term:
            return queryset.filter(email_hash=email_hash(search_term)), False
        return super().get_search_results(request, queryset, search_term)

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = SuppressionForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return ["email_hash", "created_at"] if obj else []

    def get_changeform_initial_data(self, request) -> dict:
        return {"reason": Suppression.Reason.MANUAL, "source": "staff"}

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if not change:
            # Same effect as a complaint arriving by webhook: the reader stops getting mail now.
            reader = Subscriber.objects.filter(email=form.cleaned_data["email"]).first()
            if reader:
                reader.transition("suppress", {"user_agent": "admin", "choices": {"source": "staff"}})
