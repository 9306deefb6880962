"""In a real browser: staff register a webhook endpoint and see its secret once, under the CSP."""

from __future__ import annotations

import pytest

from clicktocall.events.models import WebhookEndpoint

from .conftest import csp_violations, log_in_to_the_admin

pytestmark = pytest.mark.django_db(transaction=True)


def test_staff_register_an_endpoint_for_one_line_and_copy_its_secret(page, live_server, line):
    violations = csp_violations(page)
    log_in_to_the_admin(page, live_server)

    page.goto(f"{live_server.url}/admin/clicktocall/webhookendpoint/add/")
    page.fill("#id_url", "https://crm.example.org/hooks/calls")
    page.check("input[name=events][value='call.completed']")
    page.check("input[name=events][value='caller.opted_out']")
    page.select_option("#id_lines_from", label=str(line))  # the admin's two-list widget: its JavaScript runs
    page.click("#id_lines_add")
    page.click("input[name=_save]")

    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["call.completed", "caller.opted_out"]
    assert list(endpoint.lines.all()) == [line]
    assert page.input_value("input[aria-label='Signing secret']") == endpoint.secret
    page.click("text=Continue")
    assert endpoint.secret not in page.content()
    assert violations == []
