"""Call attempts: read-only, filterable by line, outcome, status and date."""

from __future__ import annotations

from django.contrib import admin

from ..models import CallAttempt
from .callflow import CallFlowAttemptAdminMixin
from .export import AttemptExportMixin
from .hours import ScheduledAttemptAdminMixin
from .large_tables import LargeTableMixin
from .search import PhoneSearchMixin


@admin.register(CallAttempt)
class CallAttemptAdmin(
    PhoneSearchMixin,
    CallFlowAttemptAdminMixin,
    ScheduledAttemptAdminMixin,
    AttemptExportMixin,
    LargeTableMixin,
    admin.ModelAdmin,
):
    list_display = ["created_at", "line", "phone", "name", "outcome", "scheduled_for", "status", "duration"]
    list_filter = ["outcome", "status", "line", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["=phone", "name", "email"]
    date_hierarchy = "created_at"
    list_select_related = ["line"]
    readonly_fields = [f.name for f in CallAttempt._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
