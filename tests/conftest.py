"""Shared fixtures: the locmem telephony backend, a campaign line, an API client."""

from __future__ import annotations

import pytest
from asgiref.local import Local
from django.core.cache import caches
from django.core.signals import setting_changed
from django.dispatch import receiver
from rest_framework.test import APIClient

from clicktocall import telephony
from clicktocall.models import CampaignLine
from clicktocall.telephony.backends.locmem import LocmemBackend

from .contract import LINE


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


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Passwords hashed in a blink: the tests log staff in often, and none is about the hash."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


LIMIT_SETTINGS = (
    "CLICKTOCALL_COOLDOWN_SECONDS",
    "CLICKTOCALL_IP_RATE",
    "CLICKTOCALL_PHONE_RATE",
    "CLICKTOCALL_DAILY_CAP",
)


@pytest.fixture(autouse=True)
def _no_limits(settings):
    """Each test starts without rate limits; ``limits`` turns them on."""
    for name in LIMIT_SETTINGS:
        setattr(settings, name, 0 if name.endswith(("SECONDS", "CAP")) else "")
    settings.CLICKTOCALL_PROVIDER_CPS = 0  # no pacing; the pacing tests set a rate


@pytest.fixture
def limits(settings, monkeypatch):
    """The limits at their defaults (cooldown, rates per address and number, daily cap).

    The clock stands still at the start of an hour, so that a test's requests never
    straddle the edge of a rate's window (a test moves it on with ``monkeypatch``).
    """
    import time

    from clicktocall.conf import DEFAULTS

    for name in LIMIT_SETTINGS:
        setattr(settings, name, DEFAULTS[name])
    start = (int(time.time()) // 3600 + 1) * 3600 + 0.25
    monkeypatch.setattr(time, "time", lambda: start)
    return settings


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
def targets(line):
    """The line's two targets (see ``tests.stats_data.two_targets``)."""
    from .stats_data import two_targets

    return two_targets(line)


@pytest.fixture
def client():
    return APIClient()


def line_form(**fields) -> dict:
    """POST data for the campaign line admin form: the model's defaults, empty inlines, ``fields``."""
    data = {
        "phone_number": "",
        "name": "",
        "status": CampaignLine.Status.LIVE,
        "redirect_hosts": "",
        "voice": CampaignLine._meta.get_field("voice").default,
        "language": CampaignLine._meta.get_field("language").default,
        "closing_message": CampaignLine._meta.get_field("closing_message").default,
        "human_check": CampaignLine.HumanCheck.PRESS_ONE,
        "machine_action": CampaignLine.MachineAction.HANG_UP,
        **{
            name: CampaignLine._meta.get_field(name).default
            for name in (
                "target_source",
                "congress_chambers",
                "congress_order",
                "congress_custom",
                "congress_split",
                "congress_office",
                "caller_id",
                "outside_hours",
                "reminder_count",
            )
        },
        "hours_days": list("12345"),
        "hours_opens": "09:00",
        "hours_closes": "17:00",
        "hours_us_holidays": "on",
        "targets-TOTAL_FORMS": "0",
        "targets-INITIAL_FORMS": "0",
    }
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


@receiver(setting_changed)
def _reset_task_backends(setting, **kwargs):
    """``settings.TASKS = …`` in a test takes effect at once, like CACHES does."""
    if setting == "TASKS":
        from django.tasks import task_backends

        task_backends.__dict__.pop("settings", None)
        task_backends._settings = None
        task_backends._connections = Local()


@pytest.fixture(autouse=True)
def _cache_isolation(settings):
    """Each test starts with an empty cache.

    On Redis, which test processes share, a test gets a key prefix of its own and its keys
    are deleted afterwards: flushing the database would empty another process's cache.
    """
    import uuid

    config = settings.CACHES["default"]
    if config["BACKEND"].endswith("RedisCache"):
        prefix = f"test-{uuid.uuid4().hex[:12]}"
        settings.CACHES = {"default": {**config, "KEY_PREFIX": prefix}}
        client = caches["default"]._cache.get_client(write=True)
        yield
        keys = list(client.scan_iter(match=f"{prefix}:*", count=10_000))  # a few round trips, not one per ten keys
        if keys:
            client.delete(*keys)
        return
    for cache in caches.all(initialized_only=True):
        cache.clear()
    yield


@pytest.fixture(scope="session")
def _us_data_session(django_db_setup, django_db_blocker):
    """The shipped US Congress data, loaded once per test database (committed)."""
    from clicktocall.targets.us_congress import loader

    with django_db_blocker.unblock():
        loader.current()


@pytest.fixture
def us_data(_us_data_session, db):
    """The US Congress dataset (loaded again after a transactional test emptied the tables)."""
    from clicktocall.targets.us_congress import loader

    return loader.current()
