"""Admin for the confirmation outbox: which sign-up emails failed or are still waiting, and why."""

from django.contrib import admin

from newsletter.models import SubscriptionEmail


@admin.register(SubscriptionEmail)
class SubscriptionEmailAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "kind",
        "status",
        "subscriber",
        "attempts",
        "created_at",
        "next_attempt_at",
        "error",
    ]
    list_filter = ["status", "kind"]
    search_fields = ["=id", "=subscriber__id", "subscriber__email"]
    list_select_related = ["subscriber"]
    show_full_result_count = False

    # Written only by the sign-up and the worker: staff read it, "resend confirmation" queues anew.
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
