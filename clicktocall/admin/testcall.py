"""The *Call me now* box on a line's page: a test call to the staff member's own phone."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse

from .. import testcalls


class TestCallMixin:
    """Adds ``<line id>/test-call/`` (POST) and the box that posts to it on the change page."""

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        view = self.admin_site.admin_view(self.test_call_view)
        return [path("<path:object_id>/test-call/", view, name=f"{info[0]}_{info[1]}_test_call"), *super().get_urls()]

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        extra_context = dict(extra_context or {})
        line = self.get_object(request, unquote(object_id))
        if line is not None and self.has_change_permission(request, line):
            number = testcalls.remembered_number(request.user)
            extra_context["test_call"] = {
                "url": reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_test_call", args=[line.pk]),
                "number": number,
                "last": testcalls.last_test_call(line, number),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def test_call_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        line = self.get_object(request, unquote(object_id))
        if line is None:
            raise Http404("No such campaign line.")
        if not self.has_change_permission(request, line):
            raise PermissionDenied
        back = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[line.pk]) + "#ctc-test-call"
        try:
            attempt = testcalls.place_test_call(line, request.POST.get("phone", "")[:64], request.user)
        except testcalls.TestCallRefused as exc:
            messages.error(request, str(exc))
            return HttpResponseRedirect(back)
        if attempt.outcome == attempt.Outcome.ERROR:
            messages.error(request, f"The test call failed: {attempt.error_detail}")
        elif attempt.status == attempt.Status.SIMULATED:
            messages.success(
                request, "Test call simulated (the console backend dials no one): see its transcript below."
            )
        else:
            messages.success(request, f"Test call placed to {attempt.phone}: your phone should ring shortly.")
        return HttpResponseRedirect(back)
