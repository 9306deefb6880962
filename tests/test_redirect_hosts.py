"""Which hosts revmsghtml may send a browser to: compared as browsers resolve them, never
a public suffix, the same rule in the admin, the command, the system check and /outgoing."""

from __future__ import annotations

import io
from urllib.parse import urlencode

import pytest
from django.core.management import CommandError, call_command

from clicktocall.checks import check_settings
from clicktocall.models import CampaignLine

from .conftest import line_form
from .contract import VALID

pytestmark = pytest.mark.django_db

BROWSER_ACCEPT = "text/html,application/xhtml+xml,*/*;q=0.8"
ELSEWHERE = "https://campaign.test"  # the submitting page, never the redirect's host here
PUBLIC_SUFFIXES = [".org", "org", ".co.uk", "co.uk", ".com", ".github.io"]


def form_post(client, url: str, origin: str = ELSEWHERE):
    body = urlencode({**VALID, "revmsghtml": url})
    return client.generic(
        "POST",
        "/outgoing/",
        body,
        content_type="application/x-www-form-urlencoded",
        HTTP_ACCEPT=BROWSER_ACCEPT,
        HTTP_ORIGIN=origin,
    )


def redirected(response) -> bool:
    return response.status_code == 302


def allow_on_line(line, hosts: str) -> None:
    line.redirect_hosts = hosts
    line.full_clean()
    line.save()


# Browsers' UTS #46 non-transitional processing: ß and ς are letters of their own.


@pytest.mark.parametrize("url", ["https://maßaction.org/x", "https://MAẞACTION.org/x", "https://ma%C3%9Faction.org/x"])
def test_sharp_s_is_another_domain_than_ss(client, line, outbox, settings, url):
    """A browser goes to xn--maaction-rya.org, not massaction.org."""
    settings.CLICKTOCALL_REDIRECT_HOSTS = ["massaction.org"]
    allow_on_line(line, ".massaction.org")
    assert not redirected(form_post(client, url))
    assert not redirected(form_post(client, url, origin="https://massaction.org"))
    assert redirected(form_post(client, "https://massaction.org/x"))


def test_final_sigma_is_another_domain_than_sigma(client, line, outbox, settings):
    """Python lowercases ΑΣ to ας; a browser maps it to ασ."""
    settings.CLICKTOCALL_REDIRECT_HOSTS = ["ας.example", "ας-1.example"]
    assert not redirected(form_post(client, "https://ΑΣ.example/"))
    assert not redirected(form_post(client, "https://ΑΣ-1.example/"))
    assert redirected(form_post(client, "https://ας.example/"))
    assert redirected(form_post(client, "https://ας-1.example/"))


@pytest.mark.parametrize(
    "url", ["https://xn--maaction-rya.org/x", "https://maßaction.org/x", "https://XN--MAACTION-RYA.org./x"]
)
def test_an_allowed_international_host_matches_its_ascii_form(client, line, outbox, settings, url):
    allow_on_line(line, "maßaction.org")
    assert redirected(form_post(client, url))
    line.redirect_hosts = ""
    line.save()
    assert not redirected(form_post(client, url))
    settings.CLICKTOCALL_REDIRECT_HOSTS = ["xn--maaction-rya.org"]
    assert redirected(form_post(client, url))


@pytest.mark.parametrize(
    "url",
    [
        "https://xn--zz.example/",  # not a valid A-label
        "https://a%FFb.example/",  # not UTF-8 once decoded
        "https://www.example%2Eorg%2F@evil.test/",
    ],
)
def test_hosts_a_browser_would_not_resolve_as_written_are_refused(client, line, outbox, settings, url):
    settings.CLICKTOCALL_REDIRECT_HOSTS = [".example", ".example.org", "xn--zz.example"]
    assert not redirected(form_post(client, url))


def test_the_submitting_pages_international_host_is_allowed(client, line, outbox):
    r = form_post(client, "https://maßaction.org/danke", origin="https://xn--maaction-rya.org")
    assert redirected(r) and r["Location"] == "https://ma%C3%9Faction.org/danke"
    assert not redirected(form_post(client, "https://maßaction.org/danke", origin="https://massaction.org"))


# Public suffixes: refused by the admin, the command and the system check; ignored when stored before.


@pytest.mark.parametrize("host", PUBLIC_SUFFIXES)
def test_the_admin_refuses_a_public_suffix(admin_client, line, host):
    r = admin_client.post(
        f"/admin/clicktocall/campaignline/{line.pk}/change/",
        line_form(phone_number=line.phone_number, redirect_hosts=f"www.example.org\n{host}"),
    )
    assert r.status_code == 200 and "is a public suffix" in r.content.decode()
    line.refresh_from_db()
    assert line.redirect_hosts == ""


def test_the_admin_accepts_an_international_host_and_a_registrable_domain(admin_client, line):
    r = admin_client.post(
        f"/admin/clicktocall/campaignline/{line.pk}/change/",
        line_form(phone_number=line.phone_number, redirect_hosts="maßaction.org\n.example.co.uk\nme.github.io"),
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    line.refresh_from_db()
    assert line.redirect_host_list == ["maßaction.org", ".example.co.uk", "me.github.io"]


@pytest.mark.parametrize("host", PUBLIC_SUFFIXES)
def test_the_command_refuses_a_public_suffix(host):
    with pytest.raises(CommandError, match="is a public suffix"):
        call_command("clicktocall_line", "8559299898", "--redirect-host", host, stdout=io.StringIO())
    assert not CampaignLine.objects.exists()


@pytest.mark.parametrize("host", PUBLIC_SUFFIXES)
def test_the_system_check_refuses_a_public_suffix(settings, host):
    settings.CLICKTOCALL_REDIRECT_HOSTS = ["www.example.org", host]
    errors = [e for e in check_settings() if e.id.startswith("clicktocall.E00")]
    assert [e.id for e in errors] == ["clicktocall.E007"]
    assert host in errors[0].msg and "public suffix" in errors[0].msg


def test_the_system_check_refuses_what_is_not_a_host_name(settings):
    settings.CLICKTOCALL_REDIRECT_HOSTS = ["https://www.example.org/", "xn--zz.example", "www.example.org"]
    assert [e.id for e in check_settings()] == ["clicktocall.E007", "clicktocall.E007"]


@pytest.mark.parametrize("host", PUBLIC_SUFFIXES)
def test_a_public_suffix_set_anyway_allows_nothing(client, line, outbox, settings, host):
    settings.CLICKTOCALL_REDIRECT_HOSTS = [host]
    CampaignLine.objects.filter(pk=line.pk).update(redirect_hosts=host)  # written before the rule
    for url in ["https://evil.org/", "https://evil.co.uk/", "https://evil.com/", "https://evil.github.io/"]:
        assert not redirected(form_post(client, url))


def test_an_allowed_host_written_in_capitals_means_what_a_browser_makes_of_it(client, line, outbox, settings):
    """ΑΣ-1 is ασ-1 for a browser; Python's lower() makes it ας-1, another domain."""
    allow_on_line(line, "ΑΣ-1.example")
    assert redirected(form_post(client, "https://ασ-1.example/"))
    assert not redirected(form_post(client, "https://ας-1.example/"))
    line.redirect_hosts = ""
    line.save()
    settings.CLICKTOCALL_REDIRECT_HOSTS = ["ΑΣ-1.example"]
    assert redirected(form_post(client, "https://ασ-1.example/"))
    assert not redirected(form_post(client, "https://ας-1.example/"))
    assert redirected(form_post(client, "https://ΑΣ-1.example/"))
