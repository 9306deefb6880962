"""The provider's webhook URLs of a call, reversed once per webhook and filled in per attempt."""

from __future__ import annotations

import pytest
from django.urls import clear_script_prefix, reverse, set_script_prefix

from clicktocall import calls
from clicktocall.models import CallAttempt


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["twilio-voice", "twilio-status"])
def test_a_webhook_url_is_the_reversed_one(settings, line, name):
    settings.CLICKTOCALL_PUBLIC_URL = "https://calls.example.org"
    for phone in ("+16175232338", "+16175232339"):
        attempt = CallAttempt.objects.create(line=line, phone=phone)
        expected = "https://calls.example.org" + reverse(f"clicktocall:{name}", kwargs={"token": attempt.token})
        assert calls.webhook_url(name, attempt) == expected and attempt.token in expected
    set_script_prefix("/under/")
    try:
        assert calls.webhook_url(name, attempt).startswith("https://calls.example.org/under/")
    finally:
        clear_script_prefix()
