"""The admin for delivery hand-overs: what is still to deliver, and what failed and why."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.utils import timezone

from inbox.changelists import CheckedChangelist

from .models import Handover

__all__ = ["HandoverAdmin"]


@admin.register(Handover)
class HandoverAdmin(CheckedChangelist):
    list_display = ["pk", "channel", "task", "message", "state", "attempts", "next_attempt_at", "reason"]
    list_filter = ["state", "channel"]
    list_select_related = ["message"]
    search_fields = ["last_error", "task_path"]
    date_hierarchy = "created"
    ordering = ["-pk"]
    readonly_fields = [field.name for field in Handover._meta.fields]
    actions = ["retry_now"]

    def get_changelist_instance(self, request):
        # No filter on the JSON arguments from the query string: SQLite has no JSON "contains"
        # (a 500); refused as the admin refuses a bad filter (?e=1).
        if any(key.split("__", 1)[0] in ("args", "kwargs") for key in request.GET):
            raise IncorrectLookupParameters("The task's arguments are not a filter.")
        return super().get_changelist_instance(request)

    @admin.display(description="task", ordering="task_path")
    def task(self, obj):
        return f"{obj.task_path.rsplit('.', 1)[-1]}{tuple(obj.args)}"

    @admin.display(description="reason")
    def reason(self, obj):
        """The last line of the error (the exception and its message), the traceback in the form."""
        lines = obj.last_error.strip().splitlines()
        return lines[-1] if lines else ""

    @admin.action(description="Retry the selected failed or pending deliveries now", permissions=["retry"])
    def retry_now(self, request, queryset):
        count = queryset.filter(state__in=[Handover.State.FAILED, Handover.State.PENDING]).update(
            state=Handover.State.PENDING, attempts=0, next_attempt_at=timezone.now()
        )
        self.message_user(
            request, f"{count} deliver{'y' if count == 1 else 'ies'} queued again.", messages.SUCCESS
        )

    def has_retry_permission(self, request):
        return request.user.has_perm(f"{Handover._meta.app_label}.change_handover")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # view and delete only; retry through the action
