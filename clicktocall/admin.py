"""What campaign staff see and edit in the Django admin."""

from __future__ import annotations

from django.contrib import admin

from .models import CallAttempt, CampaignLine


@admin.register(CampaignLine)
class CampaignLineAdmin(admin.ModelAdmin):
    list_display = ["phone_number", "name", "is_active", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["phone_number", "name"]
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["phone_number", "name", "is_active"]}),
        ("Redirects", {"fields": ["redirect_hosts"]}),
        ("History", {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]


@admin.register(CallAttempt)
class CallAttemptAdmin(admin.ModelAdmin):
    list_display = ["created_at", "line", "phone", "name", "outcome", "status", "duration"]
    list_filter = ["outcome", "status", "line", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["=phone", "name", "email"]
    date_hierarchy = "created_at"
    list_select_related = ["line"]
    show_full_result_count = False
    readonly_fields = [f.name for f in CallAttempt._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
