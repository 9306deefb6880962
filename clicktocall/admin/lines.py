"""Campaign lines: editable, with search and filters."""

from __future__ import annotations

from django.contrib import admin

from ..models import CampaignLine
from .blocklist import LineLimitsMixin
from .callflow import CallFlowLineAdminMixin
from .export import LineExportMixin
from .hours import OfficeHoursLineAdminMixin
from .queue import LineQueueMixin
from .stats import LineStatsMixin
from .targets import TargetSourceLineAdminMixin


@admin.register(CampaignLine)
class CampaignLineAdmin(
    LineQueueMixin,
    OfficeHoursLineAdminMixin,
    TargetSourceLineAdminMixin,
    LineStatsMixin,
    LineExportMixin,
    CallFlowLineAdminMixin,
    LineLimitsMixin,
    admin.ModelAdmin,
):
    list_display = ["phone_number", "name", "is_active", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["phone_number", "name"]
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["phone_number", "name", "is_active"]}),
        ("Redirects", {"fields": ["redirect_hosts"]}),
        ("History", {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]
