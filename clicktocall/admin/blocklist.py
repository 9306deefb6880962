"""The blocklist (numbers, addresses and networks) and the limits of each line."""

from __future__ import annotations

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
