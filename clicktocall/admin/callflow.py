"""The call flow in the admin: script and targets on the line, a preview, target legs on the attempt.

The preview is built by ``clicktocall.callflow``, the code that answers Twilio, so it
shows exactly what a call says and does for the sample variables.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Max
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from .. import callflow
from ..models import CallLeg, CampaignLine, Target
from . import hours as hours_admin

SAMPLE_VARIABLES = {"name": "Paul Revere", "zip": "02113"}


class TargetForm(forms.ModelForm):
    position = forms.IntegerField(
        label="Order",
        required=False,
        min_value=0,
        widget=forms.NumberInput(attrs={"placeholder": "last"}),
        help_text="Targets are called from the lowest number up. Empty: after the others.",
    )

    class Meta:
        model = Target
        fields = ["position", "name", "phone_number", "extension", "is_active"]
        labels = {"phone_number": "Phone number", "extension": "Extension (digits)"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, label in (("hours_opens", "Opens"), ("hours_closes", "Closes")):
            if name in self.fields:  # short, to fit the table: "Opens 09:00"
                self.fields[name].label = label
                self.fields[name].widget.format = "%H:%M"
        days = self.fields.get("hours_days")
        if days is not None:  # a row of the table: the days as "Mo Tu We…"
            days.widget.choices = [(value, str(label)[:2]) for value, label in days.choices]


class TargetFormSet(BaseInlineFormSet):
    """A new target without a position comes after the line's others."""

    def save_new(self, form: forms.ModelForm, commit: bool = True) -> Target:
        target = form.save(commit=False)
        setattr(target, self.fk.name, self.instance)
        if form.cleaned_data.get("position") is None:
            top = Target.objects.filter(line=self.instance).aggregate(top=Max("position"))["top"]
            target.position = 0 if top is None else top + 1
        if commit:
            target.save()
        return target


class TargetInline(admin.TabularInline):
    """The people a caller is connected to, in order."""

    model = Target
    form = TargetForm
    formset = TargetFormSet
    fields = [
        "position",
        "name",
        "phone_number",
        "extension",
        "is_active",
        "time_zone",
        "hours_days",
        "hours_opens",
        "hours_closes",
    ]
    ordering = ["position", "pk"]
    extra = 1


class CallLegInline(admin.TabularInline):
    """How each connection to a target went (read-only)."""

    model = CallLeg
    fields = [
        "position",
        "target_name",
        "target_number",
        "member_id",
        "office_id",
        "status",
        "started_at",
        "ended_at",
        "duration",
    ]
    readonly_fields = fields
    ordering = ["position", "pk"]
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def sample_variables(line: CampaignLine, given: dict[str, str] | None = None) -> dict[str, str]:
    """Sample values for every variable the line's texts use (given ones win)."""
    names = callflow.placeholders(line.script) + callflow.placeholders(line.closing_message)
    values = {name: SAMPLE_VARIABLES.get(name, "") for name in ["name", "zip", *names]}
    values.update({k: v for k, v in (given or {}).items() if k in values})
    return values


def silent_warning(line: CampaignLine, variables: dict[str, str]) -> str:
    """A warning naming the variables the call would speak as nothing, or ""."""
    silent = callflow.silent_variables([line.script, line.closing_message], variables)
    if not silent:
        return ""
    example = silent[0]
    return format_html(
        "<p class='ctc-preview-warning' role='alert'>Spoken as nothing: {}. The page sends no value for {} and the "
        'script gives no default; give one like this: <code>{{{{ {} | "…" }}}}</code>, or have the page send it.</p>',
        ", ".join(silent),
        "it" if len(silent) == 1 else "them",
        example,
    )


def viewable_line(modeladmin: Any, request: HttpRequest, object_id: str) -> CampaignLine:
    """The line a page of its own is about, when the user may see it (else 404 or 403)."""
    line = modeladmin.get_object(request, object_id)
    if line is None:
        raise Http404("No such campaign line.")
    if not modeladmin.has_view_or_change_permission(request, line):
        raise PermissionDenied
    return line


class CallFlowLineAdminMixin:
    """Script fields, ordered targets inline and a preview on the campaign line page."""

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [*super().get_readonly_fields(request, obj), "call_preview"]  # type: ignore[misc]

    def get_inlines(self, request: HttpRequest, obj: Any) -> list[Any]:
        return [*super().get_inlines(request, obj), TargetInline]  # type: ignore[misc]

    def get_urls(self) -> list[Any]:
        opts = self.model._meta  # type: ignore[attr-defined]
        view = self.admin_site.admin_view(self.call_preview_view)  # type: ignore[attr-defined]
        name = f"{opts.app_label}_{opts.model_name}_call_preview"
        return [path("<path:object_id>/call-preview/", view, name=name), *super().get_urls()]  # type: ignore[misc]

    @admin.display(description="What the call says")
    def call_preview(self, obj: CampaignLine) -> str:
        if obj is None or obj.pk is None:
            return "Save the line to see a preview."
        variables = sample_variables(obj)
        stages = callflow.preview(obj, variables)
        url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_call_preview", args=[obj.pk])
        rows = format_html_join(
            "",
            "<p><strong>{}</strong></p><pre class='call-transcript' style='white-space: pre-wrap'>{}</pre>",
            ((stage.title, "\n".join(stage.transcript)) for stage in stages),
        )
        given = ", ".join(f"{k} = {v!r}" for k, v in variables.items())
        return format_html(
            "<div class='call-preview'><p>For {}. <a href='{}'>Try other values and see the TwiML</a>.</p>{}{}</div>",
            given,
            url,
            silent_warning(obj, variables),
            rows,
        )

    def call_preview_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        line = viewable_line(self, request, object_id)
        given = {k: str(v)[:200] for k, v in request.GET.items()}
        variables = sample_variables(line, given)
        at_text, at, at_error = hours_admin.preview_time(request.GET.get("at", ""))
        targets = callflow.CallFlow.for_line(line, variables, "preview").targets
        context = {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "opts": self.model._meta,  # type: ignore[attr-defined]
            "original": line,
            "title": f"Call preview: {line}",
            "variables": variables,
            "warning": silent_warning(line, variables),
            "stages": callflow.preview(line, variables, now=at),
            "targets": targets,
            "at": at_text,
            "at_error": at_error,
            "at_summary": hours_admin.preview_summary(line, targets, variables, at),
        }
        return TemplateResponse(request, "admin/clicktocall/call_preview.html", context)


class CallFlowAttemptAdminMixin:
    """The target legs of a call, inline on the attempt page."""

    def get_inlines(self, request: HttpRequest, obj: Any) -> list[Any]:
        return [*super().get_inlines(request, obj), CallLegInline]  # type: ignore[misc]
