"""The blocklist (numbers, addresses and networks) and the limits of each line."""

from __future__ import annotations

import csv
from datetime import datetime, time

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .. import blocklist
from .. import phone as phones
from ..models import BlockEntry
from .search import PhoneSearchMixin

MAX_IMPORT_BYTES = 5_000_000


class ExpiryField(forms.SplitDateTimeField):
    """A date with an optional time: a date alone means the end of that day (site's time zone)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", AdminSplitDateTime)
        super().__init__(require_all_fields=False, required=False, **kwargs)
        self.fields[1].required = False

    def compress(self, data_list):
        if not data_list or data_list[0] in self.empty_values:
            if data_list and data_list[1] not in self.empty_values:
                raise forms.ValidationError(_("Enter a date."), code="invalid_date")
            return None
        day, moment = data_list[0], data_list[1]
        if moment in self.empty_values:
            moment = time(23, 59, 59, 999999)
        return timezone.make_aware(datetime.combine(day, moment))


class BlockEntryForm(forms.ModelForm):
    """Numbers in any format are stored in E.164; networks in canonical CIDR form."""

    expires_at = ExpiryField(
        label=_("expires"),
        help_text=_("Empty: never. A date without a time means the end of that day."),
    )

    class Meta:
        model = BlockEntry
        fields = ["kind", "value", "reason", "note", "expires_at"]

    def clean(self) -> dict:
        data = super().clean()
        kind, value = data.get("kind"), (data.get("value") or "").strip()
        if not value:
            return data
        if kind == BlockEntry.Kind.PHONE:
            try:
                data["value"] = phones.normalize(value)
            except phones.InvalidNumber:
                self.add_error("value", _("Enter a valid phone number."))
        elif kind == BlockEntry.Kind.NETWORK:
            try:
                data["value"] = blocklist.normalize_network(value)
            except ValueError:
                self.add_error("value", _("Enter an IP address or a network such as 203.0.113.0/24."))
        if "value" in data and not self.has_error("value"):
            clash = BlockEntry.objects.filter(kind=kind, value=data["value"]).exclude(pk=self.instance.pk)
            if clash.exists():
                self.add_error("value", _("This entry is already on the blocklist."))
        return data


class ActiveFilter(admin.SimpleListFilter):
    title = _("in force")
    parameter_name = "active"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("Expired"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return blocklist.active(queryset)
        if self.value() == "no":
            return queryset.filter(expires_at__lte=timezone.now())
        return queryset


class ImportForm(forms.Form):
    """A CSV file (or a list, one number a line) of numbers to block, and what to record for them."""

    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "One number per row, in the first column, in any format, e.g. (617) 523-2338 or +16175232338. "
            "A header row is skipped. At most %(mb)s MB."
        )
        % {"mb": MAX_IMPORT_BYTES // 1_000_000},
    )
    reason = forms.ChoiceField(label=_("reason"), choices=BlockEntry.Reason.choices, initial=BlockEntry.Reason.OPT_OUT)
    note = forms.CharField(
        label=_("note"), required=False, max_length=500, help_text=_("e.g. the list's name and date.")
    )
    expires_at = ExpiryField(label=_("expires"), help_text=_("Empty: never. A date alone means the end of that day."))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(mb)s MB."), params={"mb": MAX_IMPORT_BYTES // 1_000_000}
            )
        raw = upload.read()
        for encoding in ("utf-8-sig", "cp1252"):
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError:
                continue
        raise forms.ValidationError(_("The file is not text (CSV)."))


@admin.register(BlockEntry)
class BlockEntryAdmin(PhoneSearchMixin, admin.ModelAdmin):
    form = BlockEntryForm
    change_list_template = "admin/clicktocall/blockentry/change_list.html"
    list_display = ["value", "kind", "reason", "expires_at", "in_force", "hit_count", "last_hit_at", "created_at"]
    list_filter = ["kind", "reason", ActiveFilter]
    search_fields = ["value", "note"]
    readonly_fields = ["hit_count", "last_hit_at", "created_at"]
    fieldsets = [
        (None, {"fields": ["kind", "value", "reason", "note", "expires_at"]}),
        (_("Hits"), {"fields": ["hit_count", "last_hit_at", "created_at"]}),
    ]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        return fieldsets if obj is not None else fieldsets[:1]

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        view = self.admin_site.admin_view(self.import_view)
        return [path("import/", view, name=f"{info[0]}_{info[1]}_import"), *super().get_urls()]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request) or not self.has_change_permission(request):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        result = None
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                rows = list(blocklist.read_numbers(data["file"]))
            except csv.Error as exc:
                form.add_error("file", _("This file cannot be read as CSV: %(error)s.") % {"error": exc})
            else:
                result = blocklist.import_numbers(
                    rows, reason=data["reason"], note=data["note"], expires_at=data["expires_at"]
                )
                messages.success(
                    request,
                    f"Imported: {result.added} added, {result.updated} updated, {result.invalid} invalid.",
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Import numbers to block"),
            "form": form,
            "result": result,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/clicktocall/blockentry/import.html", context)

    @admin.display(boolean=True, description=_("in force"))
    def in_force(self, obj: BlockEntry) -> bool:
        return obj.expires_at is None or obj.expires_at > timezone.now()
