"""Call attempts: read-only, filterable by line, outcome, status and date."""

from __future__ import annotations

from django.contrib import admin

from .. import phone
from ..models import CallAttempt
from .callflow import CallFlowAttemptAdminMixin
from .export import AttemptExportMixin
from .large_tables import LargeTableMixin


@admin.register(CallAttempt)
class CallAttemptAdmin(CallFlowAttemptAdminMixin, AttemptExportMixin, LargeTableMixin, admin.ModelAdmin):
    list_display = ["created_at", "line", "phone", "name", "outcome", "status", "duration"]
    list_filter = ["outcome", "status", "line", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["=phone", "name", "email"]
    date_hierarchy = "created_at"
    list_select_related = ["line"]
    show_full_result_count = False
    readonly_fields = [f.name for f in CallAttempt._meta.fields]

    def get_search_results(self, request, queryset, search_term):
        """A number typed in any human format finds the E.164 phone it stands for."""
        try:
            search_term = phone.normalize(search_term)
        except phone.InvalidNumber:
            pass
        return super().get_search_results(request, queryset, search_term)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
