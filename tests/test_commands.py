"""Operator commands (``clicktocall_line``, ``clicktocall_demo``) and the demo page at ``/``."""

from __future__ import annotations

import html
import io
import logging
import re
from urllib.parse import urlencode

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

from clicktocall.models import CallAttempt, CampaignLine

from .contract import LINE, PLACED

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip()


# clicktocall_line


def test_line_is_created_in_e164_and_printed():
    out = run("clicktocall_line", "8559299898", "--name", "Save the park")
    assert out == "Created line +18559299898 name='Save the park' active=yes status=live redirect_hosts=-"
    line = CampaignLine.objects.get()
    assert (line.phone_number, line.name, line.is_active, line.redirect_hosts) == (LINE, "Save the park", True, "")


@pytest.mark.parametrize("written", ["8559299898", "18559299898", "+18559299898", "(855) 929-9898", "855.929.9898"])
def test_any_human_format_names_the_same_line(written):
    run("clicktocall_line", "+1 855 929 9898", "--name", "Original")
    out = run("clicktocall_line", written)
    assert out.startswith("Updated line +18559299898 name='Original'")
    assert CampaignLine.objects.count() == 1


def test_update_changes_only_what_is_given():
    run("clicktocall_line", "8559299898", "--name", "Old", "--redirect-host", "www.example.org")
    run("clicktocall_line", "8559299898", "--name", "New")
    line = CampaignLine.objects.get()
    assert (line.name, line.is_active, line.redirect_host_list) == ("New", True, ["www.example.org"])


def test_inactive_and_active():
    out = run("clicktocall_line", "8559299898", "--inactive")
    assert "active=no" in out and CampaignLine.objects.get().is_active is False
    out = run("clicktocall_line", "8559299898", "--active")
    assert "active=yes" in out and CampaignLine.objects.get().is_active is True


def test_redirect_hosts_replace_the_list():
    out = run("clicktocall_line", "8559299898", "--redirect-host", "WWW.Example.org", "--redirect-host", ".example.net")
    assert out.endswith("redirect_hosts=www.example.org, .example.net")
    line = CampaignLine.objects.get()
    assert line.allows_redirect_to("www.example.org") and line.allows_redirect_to("thanks.example.net")
    assert not line.allows_redirect_to("evil.test")
    run("clicktocall_line", "8559299898", "--redirect-host", "thanks.example.com")
    assert CampaignLine.objects.get().redirect_host_list == ["thanks.example.com"]


@pytest.mark.parametrize("host", ["*", "https://www.example.org/", "www.example.org:8080", "a b"])
def test_bad_redirect_host_is_refused(host):
    with pytest.raises(CommandError):
        run("clicktocall_line", "8559299898", "--redirect-host", host)
    assert not CampaignLine.objects.exists()


@pytest.mark.parametrize("number", ["12", "not a number", "+1 000 000 0000"])
def test_invalid_number_is_an_error(number):
    with pytest.raises(CommandError, match="is not a valid phone number"):
        run("clicktocall_line", number)
    assert not CampaignLine.objects.exists()


def test_invalid_name_is_an_error_and_creates_nothing():
    with pytest.raises(CommandError, match="name"):
        run("clicktocall_line", "8559299898", "--name", "n" * 300)
    assert not CampaignLine.objects.exists()


def test_created_line_answers_outgoing(outbox):
    run("clicktocall_line", "855-929-9898", "--name", "Campaign")
    r = Client().get("/outgoing", {"phone": "617.523.2338", "campaign_line": "8559299898"})
    assert r.json()["message"] == PLACED and len(outbox) == 1


# clicktocall_demo


def test_demo_creates_the_line_and_an_admin_it_prints(monkeypatch):
    monkeypatch.delenv("DJANGO_SUPERUSER_USERNAME", raising=False)
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)
    out = run("clicktocall_demo")
    line = CampaignLine.objects.get()
    assert line.phone_number == LINE and line.is_active
    username, password = re.search(r"Admin login: (\S+) / (\S+)", out).groups()
    assert username == "admin" and len(password) >= 12
    client = Client()
    assert client.login(username=username, password=password)
    assert client.get("/admin/clicktocall/callattempt/").status_code == 200


def test_demo_takes_the_login_from_the_environment_and_is_idempotent(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "staff")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "correct horse battery staple")
    assert "Admin login: staff / correct horse battery staple" in run("clicktocall_demo")
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD")
    assert "Admin login: staff / (unchanged; set DJANGO_SUPERUSER_PASSWORD to reset it)" in run("clicktocall_demo")
    assert CampaignLine.objects.count() == 1 and get_user_model().objects.count() == 1
    assert Client().login(username="staff", password="correct horse battery staple")


# The demo page


def test_demo_page_form_places_a_console_call(settings, caplog):
    settings.CLICKTOCALL_LOG_FULL_NUMBERS = True
    settings.CLICKTOCALL_TELEPHONY_BACKEND = "console"
    run("clicktocall_demo")
    client = Client()
    page = client.get("/").content.decode()
    action = re.search(r'<form method="post" action="([^"]+)">', page).group(1)
    assert action in ("/outgoing", "/outgoing/")
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page))
    assert fields == {"campaign_line": LINE}
    for name in ("phone", "name", "zip"):
        assert f'name="{name}"' in page

    with caplog.at_level(logging.INFO, logger="clicktocall.telephony.console"):
        r = client.post(
            action,
            urlencode({**fields, "phone": "(617) 523-2338", "name": "Newcomer", "zip": "02113"}),
            content_type="application/x-www-form-urlencoded",
            HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8",
            HTTP_ORIGIN="http://testserver",
        )
    assert r.status_code == 200 and PLACED in html.unescape(r.content.decode())
    attempt = CallAttempt.objects.get()
    assert (attempt.outcome, attempt.name, attempt.variables) == ("placed", "Newcomer", {"zip": "02113"})
    assert f"would call +16175232338 from {LINE}" in caplog.text


def test_demo_page_without_a_line_explains_how_to_create_one():
    page = Client().get("/").content.decode()
    assert "<form" not in page and "clicktocall_line" in page
