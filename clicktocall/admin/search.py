"""Searching by phone number in the admin."""

from __future__ import annotations

from .. import phone


class PhoneSearchMixin:
    """A number typed in any human format finds the E.164 value it stands for."""

    def get_search_results(self, request, queryset, search_term):
        try:
            search_term = phone.normalize(search_term)
        except phone.InvalidNumber:
            pass
        return super().get_search_results(request, queryset, search_term)  # type: ignore[misc]
