"""In a real browser: the admin works under the Content-Security-Policy and the login throttle."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from clicktocall.models import BlockEntry

from .conftest import STAFF_PASSWORD, csp_violations, log_in_to_the_admin

pytestmark = pytest.mark.django_db(transaction=True)


def test_staff_blocks_a_number_in_the_admin_without_csp_violations(page, live_server, line, outbox):
    violations = csp_violations(page)

    log_in_to_the_admin(page, live_server)

    page.goto(f"{live_server.url}/admin/clicktocall/blockentry/add/")
    page.select_option("#id_kind", "phone")
    page.fill("#id_value", "(617) 523-2338")
    page.select_option("#id_reason", "abuse")
    page.click("text=Today")  # the admin's calendar shortcut: its JavaScript must run under the policy
    page.fill("#id_expires_at_1", "23:59:59")
    page.click("input[name=_save]")
    page.wait_for_url(f"{live_server.url}/admin/clicktocall/blockentry/")
    assert "+16175232338" in page.inner_text("#result_list")

    entry = BlockEntry.objects.get()
    assert entry.value == "+16175232338" and entry.expires_at is not None
    assert violations == []


def test_admin_login_locks_out_after_repeated_failures(page, live_server, settings):
    settings.AXES_FAILURE_LIMIT = 3
    User.objects.create_superuser("staff", "staff@example.org", STAFF_PASSWORD)
    for _ in range(3):
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", "staff")
        page.fill("#id_password", "not the password")
        page.click("input[type=submit]")
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "staff")
    page.fill("#id_password", STAFF_PASSWORD)
    response_status = []
    page.on("response", lambda r: response_status.append(r.status) if r.url.endswith("/admin/login/") else None)
    page.click("input[type=submit]")
    page.wait_for_load_state()
    assert 429 in response_status
    assert "Account locked" in page.content()
    page.goto(f"{live_server.url}/admin/")
    assert "/admin/login/" in page.url  # not logged in
