"""System checks name the wrong setting and say how to fix it."""

from __future__ import annotations

import pytest
from django.core import checks
from django.test import override_settings

from clicktocall.checks import check_installation


def ids(**overrides) -> dict[str, checks.CheckMessage]:
    with override_settings(**overrides):
        return {message.id: message for message in check_installation()}


def test_the_project_passes():
    assert ids() == {}


@pytest.mark.django_db
def test_whole_suite_of_checks_passes():
    messages = checks.run_checks()
    assert [m for m in messages if m.id and m.id.startswith("clicktocall.")] == []


def test_missing_apps_are_named_with_the_fix(settings):
    apps = [a for a in settings.INSTALLED_APPS if a not in ("rest_framework", "corsheaders")]
    found = ids(INSTALLED_APPS=apps)
    assert "'rest_framework' is not in INSTALLED_APPS" in found["clicktocall.E020"].msg
    assert found["clicktocall.E020"].hint == "Add 'rest_framework' to INSTALLED_APPS (before 'clicktocall')."
    assert "'corsheaders' is not in INSTALLED_APPS" in found["clicktocall.E021"].msg


def test_missing_cors_middleware(settings):
    middleware = [m for m in settings.MIDDLEWARE if "corsheaders" not in m]
    found = ids(MIDDLEWARE=middleware)
    assert "CorsMiddleware' is not in MIDDLEWARE" in found["clicktocall.E022"].msg
    assert "above 'django.middleware.common.CommonMiddleware'" in found["clicktocall.E022"].hint


@pytest.mark.parametrize("regex", [r"^/api/.*$", r"^/outgoing$", r"^/outgoing/$"])
def test_cors_regex_must_cover_both_outgoing_paths(regex):
    found = ids(CORS_URLS_REGEX=regex)
    assert set(found) == {"clicktocall.E024"}
    assert "CORS_URLS_REGEX" in found["clicktocall.E024"].msg
    assert found["clicktocall.E024"].hint == 'Set CORS_URLS_REGEX = r"^/outgoing/?$" (or add that path to it).'


def test_cors_regex_invalid_or_too_wide():
    assert set(ids(CORS_URLS_REGEX="^(/outgoing")) == {"clicktocall.E023"}
    assert set(ids(CORS_URLS_REGEX=r"^.*$")) == {"clicktocall.W020"}


def test_no_origin_allowed():
    found = ids(CORS_ALLOW_ALL_ORIGINS=False, CORS_ALLOWED_ORIGINS=[])
    assert set(found) == {"clicktocall.W021"}
    assert ids(CORS_ALLOW_ALL_ORIGINS=False, CORS_ALLOWED_ORIGINS=["https://www.example.org"]) == {}


@pytest.mark.parametrize(
    ("name", "value", "check_id"),
    [
        ("CLICKTOCALL_PUBLIC_URL", ["https://x"], "clicktocall.E025"),
        ("TWILIO_AUTH_TOKEN", 12345, "clicktocall.E025"),
        ("CLICKTOCALL_TELEPHONY_BACKEND", None, "clicktocall.E025"),
        ("CLICKTOCALL_PUBLIC_URL", "calls.example.org", "clicktocall.E026"),
        ("CLICKTOCALL_PUBLIC_URL", "ftp://calls.example.org", "clicktocall.E026"),
        ("CLICKTOCALL_PUBLIC_URL", "", "clicktocall.W022"),
        ("CLICKTOCALL_RING_TIMEOUT", "30", "clicktocall.E027"),
        ("CLICKTOCALL_RING_TIMEOUT", 2, "clicktocall.E027"),
        ("CLICKTOCALL_RING_TIMEOUT", True, "clicktocall.E027"),
    ],
)
def test_bad_types_name_the_setting(name, value, check_id):
    found = ids(**{name: value})
    assert set(found) == {check_id}
    assert name in found[check_id].msg and found[check_id].hint


def test_good_values_pass():
    assert (
        ids(
            CLICKTOCALL_PUBLIC_URL="https://calls.example.org",
            CLICKTOCALL_RING_TIMEOUT=45,
            CLICKTOCALL_DEFAULT_REGION="gb",
            CLICKTOCALL_REDIRECT_HOSTS=("www.example.org",),
        )
        == {}
    )


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["CLICKTOCALL_TELEPHONY_BACKEND", "CLICKTOCALL_DEFAULT_REGION"])
@pytest.mark.parametrize("value", [None, 5, ["twilio"]])
def test_a_setting_of_the_wrong_type_is_reported_once(name, value):
    with override_settings(**{name: value}):
        found = [m for m in checks.run_checks() if m.id and m.id.startswith("clicktocall.")]
    assert [m.id for m in found] == ["clicktocall.E025"] and name in found[0].msg
