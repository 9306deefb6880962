"""A POST to a URL without its trailing slash is redirected, never a 500, whatever DEBUG says."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("path", ["/api", "/api/schema", "/admin"])
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_unsafe_method_without_the_slash(client, settings, debug, path, method):
    settings.DEBUG = debug
    response = getattr(client, method)(f"{path}?next=x", data="a=1", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 301 and response["Location"] == f"{path}/?next=x"


def test_outgoing_is_answered_without_the_slash(client, settings, line):
    settings.DEBUG = True
    response = client.post("/outgoing", {"campaign_line": "8559299898"})
    assert response.status_code == 400 and response.json()["error"] is True
