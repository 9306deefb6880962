"""Shared fixtures: the locmem telephony backend, a campaign line, an API client."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from clicktocall import telephony
from clicktocall.models import CampaignLine
from clicktocall.telephony.backends.locmem import LocmemBackend

LINE = "+18559299898"
PHONE = "+16175232338"


@pytest.fixture(autouse=True)
def _telephony(settings):
    settings.CLICKTOCALL_TELEPHONY_BACKEND = "locmem"
    settings.CLICKTOCALL_PUBLIC_URL = "https://calls.example.org"
    settings.TWILIO_ACCOUNT_SID = "AC" + "0" * 32
    settings.TWILIO_AUTH_TOKEN = "test-auth-token"
    telephony.outbox.clear()
    LocmemBackend.failures.clear()
    yield
    telephony.outbox.clear()
    LocmemBackend.failures.clear()


@pytest.fixture
def outbox():
    return telephony.outbox


@pytest.fixture
def failures():
    return LocmemBackend.failures


@pytest.fixture
def line(db):
    return CampaignLine.objects.create(phone_number=LINE, name="Test campaign")


@pytest.fixture
def client():
    return APIClient()
