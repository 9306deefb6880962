"""The blocklist (numbers, addresses and networks) and the limits of each line."""

from __future__ import annotations

import phonenumbers
from django import forms
from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .. import blocklist
from .. import phone as phones
from ..models import BlockEntry
from .search import PhoneSearchMixin


class BlockEntryForm(forms.ModelForm):
    """Numbers in any format are stored in E.164; networks in canonical CIDR form."""

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


@admin.register(BlockEntry)
class BlockEntryAdmin(PhoneSearchMixin, admin.ModelAdmin):
    form = BlockEntryForm
    list_display = ["value", "kind", "reason", "expires_at", "in_force", "hit_count", "last_hit_at", "created_at"]
    list_filter = ["kind", "reason", ActiveFilter]
    search_fields = ["value", "note"]
    readonly_fields = ["hit_count", "last_hit_at", "created_at"]
    fieldsets = [
        (None, {"fields": ["kind", "value", "reason", "note", "expires_at"]}),
        (_("Hits"), {"fields": ["hit_count", "last_hit_at", "created_at"]}),
    ]

    @admin.display(boolean=True, description=_("in force"))
    def in_force(self, obj: BlockEntry) -> bool:
        return obj.expires_at is None or obj.expires_at > timezone.now()



def _clean_countries(value: str) -> str:
    codes = phones.country_codes(value)
    unknown = [code for code in codes if code not in phonenumbers.SUPPORTED_REGIONS]
    if unknown:
        raise forms.ValidationError(_("Unknown country codes: %(codes)s."), params={"codes": ", ".join(unknown)})
    return ", ".join(codes)


class LineLimitsMixin:
    """Adds the line's limits (cooldown, daily cap, destination countries) to its admin."""

    limits_fieldset = (
        _("Limits"),
        {
            "fields": ["cooldown_seconds", "daily_cap", "allowed_countries"],
            "description": _(
                "Empty fields use the site's settings: CLICKTOCALL_COOLDOWN_SECONDS, CLICKTOCALL_DAILY_CAP, "
                "CLICKTOCALL_ALLOWED_COUNTRIES (else the line's own country). 0 turns a limit off."
            ),
        },
    )

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if not any(name == self.limits_fieldset[0] for name, _options in fieldsets):
            fieldsets.insert(max(len(fieldsets) - 1, 1), self.limits_fieldset)
        return fieldsets

    def get_form(self, request, obj=None, **kwargs):
        base = super().get_form(request, obj, **kwargs)

        class LimitsForm(base):
            def clean_allowed_countries(self) -> str:
                return _clean_countries(self.cleaned_data.get("allowed_countries", ""))

        return LimitsForm
