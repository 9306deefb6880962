"""Webhook endpoints and their deliveries: register, pause or resume, see failures, resend.

The signing secret is shown once, on a page of its own after the endpoint is created or
its secret replaced; the endpoint's page shows only its last characters. A paused
endpoint (it failed for the whole retry period) is announced on both lists.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.tasks import task_backends
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from ..events import delivery as events
from ..events.models import Event, WebhookDelivery, WebhookEndpoint, new_secret
from .large_tables import LargeTablePaginator


class WebhookEndpointForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        label=_("Events"), choices=Event.choices, widget=forms.CheckboxSelectMultiple, required=True
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "url",
            "description",
            "events",
            "lines",
            "is_active",
            "include_personal_data",
            "timeout",
            "max_concurrent",
        ]


def announce_paused(request: HttpRequest) -> None:
    """A warning for each paused endpoint, and one when failed deliveries cannot be retried."""
    for endpoint in WebhookEndpoint.objects.filter(paused_at__isnull=False):
        messages.warning(
            request,
            format_html(
                'The webhook endpoint <a href="{}">{}</a> is paused: it has failed since {}. '
                "Check it, then resume it and resend what failed.",
                reverse("admin:clicktocall_webhookendpoint_change", args=[endpoint.pk]),
                endpoint,
                endpoint.failing_since or endpoint.paused_at,
            ),
        )
    if not task_backends["default"].supports_defer and WebhookEndpoint.objects.filter(is_active=True).exists():
        messages.warning(
            request,
            _(
                "The task backend runs tasks at once: webhooks are not sent (that would be during visitors' "
                "requests) but wait as pending deliveries. Use the database task backend with a worker "
                "(manage.py db_worker), then resend them."
            ),
        )


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["url", "description", "is_active", "state", "failing_since", "created_at"]
    list_filter = ["is_active", ("paused_at", admin.EmptyFieldListFilter)]
    search_fields = ["url", "description"]
    filter_horizontal = ["lines"]
    readonly_fields = ["secret_hint", "failing_since", "paused_at", "created_at", "updated_at"]
    actions = ["resume"]
    fieldsets = [
        (None, {"fields": ["url", "description", "events", "lines", "is_active"]}),
        (_("Personal data"), {"fields": ["include_personal_data"]}),
        (_("Limits"), {"fields": ["timeout", "max_concurrent"]}),
        (_("State"), {"fields": ["secret_hint", "failing_since", "paused_at", "created_at", "updated_at"]}),
    ]

    @admin.display(description=_("state"))
    def state(self, obj: WebhookEndpoint) -> str:
        if obj.paused_at:
            return _("Paused (failing)")
        if obj.failing_since:
            return _("Failing")
        return _("OK") if obj.is_active else _("Inactive")

    @admin.display(description=_("signing secret"))
    def secret_hint(self, obj: WebhookEndpoint) -> str:
        return obj.secret_hint if obj.pk else _("Shown once, when the endpoint is saved.")

    @admin.action(description=_("Resume the selected endpoints"), permissions=["change"])
    def resume(self, request: HttpRequest, queryset) -> None:
        for endpoint in queryset:
            events.resume(endpoint)
        self.message_user(request, _("Resumed. Resend the deliveries that failed from the deliveries list."))

    def changelist_view(self, request, extra_context=None):
        if request.method == "GET":
            announce_paused(request)
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        endpoint = self.get_object(request, unquote(object_id))
        if request.method == "GET" and endpoint is not None and endpoint.paused_at:
            messages.warning(request, _("This endpoint is paused: it failed for a whole day. Resume it from the list."))
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        view = self.admin_site.admin_view(require_POST(self.replace_secret))
        return [path("<path:object_id>/secret/", view, name="clicktocall_webhookendpoint_secret"), *super().get_urls()]

    def replace_secret(self, request: HttpRequest, object_id: str) -> HttpResponse:
        endpoint = self.get_object(request, unquote(object_id))
        if endpoint is None or not self.has_change_permission(request, endpoint):
            raise PermissionDenied
        endpoint.secret = new_secret()
        endpoint.save(update_fields=["secret", "updated_at"])
        return self.show_secret(request, endpoint)

    def show_secret(self, request: HttpRequest, endpoint: WebhookEndpoint) -> HttpResponse:
        response = TemplateResponse(
            request,
            "admin/clicktocall/webhookendpoint/secret.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Signing secret"),
                "endpoint": endpoint,
                "opts": self.opts,
                "changelist_url": reverse("admin:clicktocall_webhookendpoint_changelist"),
                "change_url": reverse("admin:clicktocall_webhookendpoint_change", args=[endpoint.pk]),
            },
        )
        response["Cache-Control"] = "no-store"
        return response

    def response_add(self, request, obj, post_url_continue=None):
        return self.show_secret(request, obj)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "event",
        "endpoint",
        "state",
        "tries",
        "response_status",
        "last_tried_at",
        "last_error",
    ]
    list_filter = ["state", "event", "endpoint"]
    search_fields = ["=message_id"]
    list_select_related = ["endpoint"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    paginator = LargeTablePaginator  # one row per event and endpoint: the log grows like the attempts
    show_full_result_count = False
    actions = ["resend"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_resend_permission(self, request) -> bool:
        return request.user.has_perm("clicktocall.change_webhookendpoint")

    @admin.action(description=_("Resend the selected deliveries (same webhook-id)"), permissions=["resend"])
    def resend(self, request: HttpRequest, queryset) -> None:
        sent = sum(events.resend(delivery) for delivery in queryset.select_related("endpoint"))
        self.message_user(request, _("%(n)d deliveries queued again.") % {"n": sent})

    def changelist_view(self, request, extra_context=None):
        if request.method == "GET":
            announce_paused(request)
        return super().changelist_view(request, extra_context)
