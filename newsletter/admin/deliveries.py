"""Admin for digest deliveries: what was sent to whom, what failed and why, and re-queueing."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from newsletter import planning
from newsletter.models import DigestDelivery

Status = DigestDelivery.Status


@admin.register(DigestDelivery)
class DigestDeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "issue_date", "status", "reader", "attempts", "sent_at", "short_error", "preview"]
    list_filter = ["status", "issue_date"]
    search_fields = ["=id", "=subscriber__id", "subscriber__email", "=esp_message_id"]
    list_select_related = ["subscriber"]
    date_hierarchy = "issue_date"
    actions = ["requeue_failed", "resend_unknown"]
    show_full_result_count = False  # counting millions of rows on every page load is slow
    readonly_fields = [
        "subscriber",
        "issue_date",
        "status",
        "paper_ids",
        "reasons",
        "planned_at",
        "claimed_at",
        "sent_at",
        "attempts",
        "error",
        "esp_message_id",
        "updated_at",
    ]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # states change only through the claim-and-send path

    @admin.display(description="Reader", ordering="subscriber")
    def reader(self, obj: DigestDelivery) -> str:
        return f"Subscriber {obj.subscriber_id}" if obj.subscriber_id else "(deleted)"

    @admin.display(description="Error")
    def short_error(self, obj: DigestDelivery) -> str:
        return obj.error[:80] + ("…" if len(obj.error) > 80 else "")

    @admin.display(description="Next digest")
    def preview(self, obj: DigestDelivery) -> str:
        if not obj.subscriber_id:
            return "-"
        return format_html('<a href="{}">preview</a>', reverse("digest-preview", args=[obj.subscriber_id]))

    @admin.action(description="Re-queue failed deliveries (sent again once, through the usual claim)")
    def requeue_failed(self, request, queryset) -> None:
        count = planning.requeue(list(queryset.values_list("id", flat=True)), [Status.FAILED])
        messages.success(request, f"Re-queued {count} failed deliveries; other rows were left alone.")

    @admin.action(description="Resend 'unknown' deliveries (only after checking the ESP did not send them)")
    def resend_unknown(self, request, queryset) -> None:
        count = planning.requeue(list(queryset.values_list("id", flat=True)), [Status.UNKNOWN])
        messages.warning(
            request, f"Re-queued {count} unknown deliveries: readers who did get them get a second copy."
        )
