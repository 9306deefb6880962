"""API tokens: created for a staff user (the token is shown once) and revoked by deleting them.

A token reads what its user may view, so only a superuser may create one for someone
else; other staff create and see their own.
"""

from __future__ import annotations

from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from ..api.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "hint", "created_at", "last_used_at"]
    list_filter = ["user"]
    search_fields = ["name", "user__username"]
    list_select_related = ["user"]
    fields = ["name", "user", "hint", "created_at", "last_used_at"]
    readonly_fields = ["hint", "created_at", "last_used_at"]
    raw_id_fields = ["user"]

    def get_readonly_fields(self, request, obj=None):
        if obj or not request.user.is_superuser:
            return [*self.readonly_fields, "user"]
        return self.readonly_fields

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if request.user.is_superuser else queryset.filter(user=request.user)

    def save_model(self, request, obj, form, change):
        if not change:
            if not request.user.is_superuser:
                obj.user = request.user
            request._api_token_key = obj.issue()
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        return TemplateResponse(
            request,
            "admin/clicktocall/apitoken/key.html",
            {
                **self.admin_site.each_context(request),
                "title": _("API token"),
                "token": obj,
                "key": getattr(request, "_api_token_key", ""),
                "opts": self.opts,
                "changelist_url": reverse("admin:clicktocall_apitoken_changelist"),
            },
        )
