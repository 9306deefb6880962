"""The blocklist and line limits in the admin, and the throttled admin login."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from clicktocall.models import BlockEntry

from .conftest import line_form

pytestmark = pytest.mark.django_db

PASSWORD = "a long and unguessable passphrase"


@pytest.fixture
def staff(db):
    return User.objects.create_superuser("staff", "staff@example.org", PASSWORD)


@pytest.fixture
def admin_client(client, staff):
    client.force_login(staff)
    return client


def add_entry(admin_client, **fields):
    data = {"kind": "phone", "value": "", "reason": "abuse", "note": "", "expires_at_0": "", "expires_at_1": ""}
    data.update(fields)
    return admin_client.post(reverse("admin:clicktocall_blockentry_add"), data)


def test_blocklist_number_in_any_format_is_stored_in_e164(admin_client):
    r = add_entry(admin_client, kind="phone", value="(617) 523-2338", note="called us names")
    assert r.status_code == 302, r.content
    entry = BlockEntry.objects.get()
    assert (entry.kind, entry.value, entry.reason, entry.note) == ("phone", "+16175232338", "abuse", "called us names")


def test_blocklist_network_is_stored_in_cidr_form(admin_client):
    assert add_entry(admin_client, kind="network", value="203.0.113.77/24").status_code == 302
    assert add_entry(admin_client, kind="network", value="2001:DB8::1").status_code == 302
    assert sorted(BlockEntry.objects.values_list("value", flat=True)) == ["2001:db8::1/128", "203.0.113.0/24"]


@pytest.mark.parametrize(("kind", "value"), [("phone", "12"), ("network", "203.0.113.300"), ("network", "example.org")])
def test_blocklist_refuses_bad_values(admin_client, kind, value):
    r = add_entry(admin_client, kind=kind, value=value)
    assert r.status_code == 200 and b"errorlist" in r.content
    assert not BlockEntry.objects.exists()


def test_blocklist_refuses_a_duplicate_written_differently(admin_client):
    assert add_entry(admin_client, value="+16175232338").status_code == 302
    r = add_entry(admin_client, value="617.523.2338")
    assert r.status_code == 200 and b"already on the blocklist" in r.content
    assert BlockEntry.objects.count() == 1


def test_blocklist_expiry_and_hits_are_shown(admin_client, client, line, outbox):
    BlockEntry.objects.create(kind="phone", value="+16175232338", reason="abuse")
    client.post("/outgoing", {"phone": "6175232338", "campaign_line": "8559299898"})
    page = admin_client.get(reverse("admin:clicktocall_blockentry_changelist"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "+16175232338" in body and 'class="field-hit_count">1<' in body
    search = admin_client.get(reverse("admin:clicktocall_blockentry_changelist"), {"q": "(617) 523-2338"})
    assert "+16175232338" in search.content.decode()


def test_line_admin_edits_the_limits(admin_client, line):
    url = reverse("admin:clicktocall_campaignline_change", args=[line.pk])
    page = admin_client.get(url)
    assert page.status_code == 200 and b"cooldown_seconds" in page.content and b"allowed_countries" in page.content
    form = line_form(
        phone_number=line.phone_number,
        name=line.name,
        cooldown_seconds="60",
        daily_cap="100",
        allowed_countries="us, ca,US",
    )
    r = admin_client.post(url, form)
    assert r.status_code == 302, r.content.decode()[:3000]
    line.refresh_from_db()
    assert (line.cooldown_seconds, line.daily_cap, line.allowed_countries) == (60, 100, "US, CA")
    form["allowed_countries"] = "US, XX"
    r = admin_client.post(url, form)
    assert r.status_code == 200 and b"Unknown country codes: XX" in r.content


def test_admin_login_is_throttled(client, staff, settings):
    settings.AXES_FAILURE_LIMIT = 3
    login = reverse("admin:login")
    for _ in range(3):
        r = client.post(login, {"username": "staff", "password": "wrong"}, REMOTE_ADDR="198.51.100.5")
        assert r.status_code in (200, 429)
    r = client.post(login, {"username": "staff", "password": PASSWORD, "next": "/admin/"}, REMOTE_ADDR="198.51.100.5")
    assert r.status_code == 429
    assert "_auth_user_id" not in client.session
    # another address still logs in
    r = client.post(login, {"username": "staff", "password": PASSWORD, "next": "/admin/"}, REMOTE_ADDR="198.51.100.6")
    assert r.status_code == 302 and client.session["_auth_user_id"] == str(staff.pk)


def test_admin_login_failures_reset_on_success(client, staff, settings):
    settings.AXES_FAILURE_LIMIT = 3
    login = reverse("admin:login")
    for _ in range(2):
        client.post(login, {"username": "staff", "password": "wrong"}, REMOTE_ADDR="198.51.100.7")
    r = client.post(login, {"username": "staff", "password": PASSWORD, "next": "/admin/"}, REMOTE_ADDR="198.51.100.7")
    assert r.status_code == 302
    client.logout()
    for _ in range(2):
        client.post(login, {"username": "staff", "password": "wrong"}, REMOTE_ADDR="198.51.100.7")
    r = client.post(login, {"username": "staff", "password": PASSWORD, "next": "/admin/"}, REMOTE_ADDR="198.51.100.7")
    assert r.status_code == 302


def test_admin_login_throttle_reads_the_address_through_trusted_proxies_only(client, staff, settings):
    settings.AXES_FAILURE_LIMIT = 2
    login = reverse("admin:login")
    for n in range(2):  # a client rotating a forged X-Forwarded-For is still one address
        client.post(
            login,
            {"username": "staff", "password": "wrong"},
            REMOTE_ADDR="198.51.100.8",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}",
        )
    r = client.post(
        login,
        {"username": "staff", "password": PASSWORD},
        REMOTE_ADDR="198.51.100.8",
        HTTP_X_FORWARDED_FOR="192.0.2.99",
    )
    assert r.status_code == 429


def test_login_without_a_request_still_works(client, staff):
    """The shell and test clients log in without a request; nothing to throttle there."""
    assert client.login(username="staff", password=PASSWORD)
    assert not client.login(username="staff", password="wrong")


def test_admin_needs_a_login(client):
    r = client.get("/admin/clicktocall/blockentry/")
    assert r.status_code == 302 and r["Location"].startswith("/admin/login/")


def test_security_headers(client, line):
    for url in ("/", "/admin/login/", "/outgoing?phone=x"):
        r = client.get(url, HTTP_ACCEPT="text/html")
        assert r["X-Content-Type-Options"] == "nosniff", url
        assert r["Referrer-Policy"] == "strict-origin-when-cross-origin", url
        assert r["Cross-Origin-Opener-Policy"] == "same-origin", url
        csp = r["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, url
    assert client.get("/admin/login/")["X-Frame-Options"] == "DENY"
