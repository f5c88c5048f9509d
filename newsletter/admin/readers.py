"""Admin for readers: their status, consents and choices, address changes, CSV export, and
sending a confirmation again."""

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponse
from django.urls import reverse
from django.utils.html import format_html

from newsletter import ratelimit
from newsletter.forms import EmailInput
from newsletter.models import ConsentRecord, Subscriber
from newsletter.spreadsheets import SafeWriter
from newsletter.subscriptions import address_changed, change_status, enqueue_email


class ConsentInline(admin.TabularInline):
    """The consent history is evidence: shown, never edited."""

    model = ConsentRecord
    extra = 0
    can_delete = False
    fields = ["action", "created_at", "ip_address", "user_agent", "consent_version", "choices"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class SubscriberForm(forms.ModelForm):
    email = EmailInput(
        max_length=254,
        help_text="Changing it mails a confirmation to the new address: until its owner confirms, the "
        "reader is pending and gets no digests (an unsubscribed or suppressed reader stays so and "
        "nothing is sent). Links sent to the old address stop working.",
    )

    class Meta:
        model = Subscriber
        fields = "__all__"  # noqa: DJ007 -- every editable field, like ModelAdmin's default form


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    form = SubscriberForm
    list_display = [
        "email",
        "status",
        "frequency",
        "digest_size",
        "delivery_hour",
        "time_zone",
        "confirmed_at",
    ]
    list_filter = ["status", "frequency", "topics", ("confirmed_at", admin.DateFieldListFilter)]
    search_fields = ["email"]
    filter_horizontal = ["topics"]
    readonly_fields = [
        "staff_pages",
        "key",
        "status",
        "created_at",
        "confirmed_at",
        "unsubscribed_at",
        "status_changed_at",
        "last_digest_at",
    ]
    inlines = [ConsentInline]
    actions = ["unsubscribe", "resend_confirmation", "export_csv"]
    date_hierarchy = "created_at"

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if change and "email" in form.changed_data:
            if address_changed(obj):
                note = "The new address gets a confirmation email; no digests until it is confirmed."
            else:
                status = obj.get_status_display().lower()
                note = f"The reader stays {status}: nothing is sent to the new address."
            self.message_user(request, note, messages.WARNING)

    @admin.display(description="Staff pages")
    def staff_pages(self, subscriber: Subscriber) -> str:
        if subscriber.pk is None:
            return "-"
        return format_html(
            '<a href="{}">Sending history</a> · <a href="{}">Preview the next digest</a>',
            reverse("tracking-reader-history", args=[subscriber.pk]),
            reverse("digest-preview", args=[subscriber.pk]),
        )

    @admin.action(description="Unsubscribe selected readers")
    def unsubscribe(self, request, queryset):
        changed = sum(change_status(s, "unsubscribe", user_agent="admin") for s in queryset)
        self.message_user(request, f"Unsubscribed {changed} reader(s).", messages.SUCCESS)

    @admin.action(description="Resend the confirmation email (pending readers only)")
    def resend_confirmation(self, request, queryset):
        pending = queryset.filter(status=Subscriber.Status.PENDING).values_list("pk", "email")
        # Staff clicks count against the same daily cap per address as the public forms.
        queued = [pk for pk, email in pending if ratelimit.allow_email_to(email)]
        for subscriber_id in queued:
            enqueue_email(subscriber_id, "confirm")
        skipped = queryset.count() - len(queued)
        self.message_user(
            request,
            f"Queued {len(queued)} confirmation email(s); skipped {skipped} "
            "not pending or already emailed the most allowed today.",
        )

    @admin.action(description="Export selected readers as CSV")
    def export_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="subscribers.csv"'
        writer = SafeWriter(response)
        columns = ["email", "status", "frequency", "digest_size", "delivery_hour", "time_zone", "interests"]
        writer.writerow([*columns, "topics", "created_at", "confirmed_at"])
        for subscriber in queryset.prefetch_related("topics"):
            topics = " ".join(topic.slug for topic in subscriber.topics.all())
            row = [getattr(subscriber, name) for name in columns]
            writer.writerow([*row, topics, subscriber.created_at.isoformat(), subscriber.confirmed_at or ""])
        return response
