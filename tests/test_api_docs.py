"""The human-readable API page at /api/."""

from __future__ import annotations

import html

import pytest
from django.test import Client
from django.urls import reverse

from clicktocall.calls import Outcome

pytestmark = pytest.mark.django_db


def test_api_page_documents_every_outcome_and_example(settings):
    settings.CLICKTOCALL_PUBLIC_URL = "https://calls.example.org"
    assert reverse("clicktocall:api-docs") == "/api/"
    r = Client().get("/api/", HTTP_ORIGIN="https://www.example.org")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/html")
    assert "Access-Control-Allow-Origin" not in r  # CORS is for /outgoing only
    page = html.unescape(r.content.decode())
    for outcome in Outcome:
        assert outcome.message in page
    for name in ("phone", "campaign_line", "revmsghtml", "callback", "data", "CallerID"):
        assert f"<code>{name}</code>" in page or name in page
    assert '$.get("https://calls.example.org/outgoing/", {' in page
    assert '$.get("https://calls.example.org/outgoing/?callback=?"' in page
    assert '<form class="ctc-form" method="post" action="https://calls.example.org/outgoing/">' in page
    assert '<script src="https://calls.example.org/static/clicktocall/widget.js" async></script>' in page
    assert '<a href="/api/schema/">OpenAPI schema</a>' in page


def test_api_page_links_the_schema_when_installed(settings):
    settings.ROOT_URLCONF = "tests.urls_with_schema"
    r = Client().get("/api/")
    assert r.status_code == 200
    assert '<a href="/api/schema/">OpenAPI schema</a>' in r.content.decode()


def test_api_page_is_read_only():
    assert Client().post("/api/").status_code == 405


def test_readme_documents_every_setting_in_one_place():
    from pathlib import Path

    from clicktocall.conf import DEFAULTS

    operations = (Path(__file__).resolve().parents[1] / "docs" / "operations.md").read_text()
    section = operations.split("## Installing into your project", 1)[1].split("\n## ", 1)[0]
    for name in DEFAULTS:
        assert f"| `{name}` |" in section, f"{name} is not documented in docs/operations.md's install section"
    for name in ("INSTALLED_APPS", "CorsMiddleware", "CORS_URLS_REGEX", 'include("clicktocall.urls")'):
        assert name in section


def test_the_parts_mount_where_the_project_wants_and_the_schema_is_outgoings_alone(settings, line, outbox):
    settings.ROOT_URLCONF = "tests.urls_parts"
    assert Client().get("/api/").content == b"the project's own API"
    assert reverse("clicktocall:api-docs") == "/calls/api/"
    assert reverse("clicktocall:twilio-status", kwargs={"token": "t"}) == "/calls/twilio/status/t/"
    r = Client().get("/calls/api/schema/", {"format": "json"})
    assert r.status_code == 200
    assert list(r.json()["paths"]) == ["/outgoing"]
    r = Client().get("/outgoing", {"phone": "6175232338", "campaign_line": "8559299898"})
    assert r.json() == {"error": False, "message": Outcome.PLACED.message} and len(outbox) == 1


def test_the_line_admin_works_without_the_api_pages(settings, admin_client, line):
    settings.ROOT_URLCONF = "tests.urls_without_docs"
    r = admin_client.get(f"/admin/clicktocall/campaignline/{line.pk}/change/")
    assert r.status_code == 200 and "Embed on a website" in r.content.decode()
    assert "API documentation" not in r.content.decode()


@pytest.mark.parametrize(
    "urlconf, backend, expected",
    [
        ("tests.urls_without_docs", "twilio", []),
        ("tests.urls_parts", "twilio", []),
        ("tests.urls_outgoing_alone", "console", []),
        ("tests.urls_outgoing_alone", "twilio", ["clicktocall.E028"]),
        ("tests.urls_outgoing_without_namespace", "console", ["clicktocall.W023"]),
    ],
)
def test_the_checks_say_when_a_part_the_app_needs_is_not_mounted(settings, urlconf, backend, expected):
    from clicktocall.checks import check_urls

    settings.ROOT_URLCONF = urlconf
    settings.CLICKTOCALL_TELEPHONY_BACKEND = backend
    assert [e.id for e in check_urls()] == expected
