"""The app's settings (``clicktocall.conf``), the site's day for the daily cap, and the
ranking of an Accept header: each kept, and each current when what it comes from changes."""

from __future__ import annotations

import zoneinfo
from datetime import datetime

from django.test import RequestFactory, override_settings
from django.utils import timezone

from clicktocall import limits
from clicktocall.conf import conf
from clicktocall.outgoing import negotiation


def test_a_setting_is_current_after_it_changes():
    with override_settings(CLICKTOCALL_IP_RATE="5/m"):
        assert conf.IP_RATE == "5/m"
        with override_settings(CLICKTOCALL_IP_RATE="7/h"):
            assert conf.IP_RATE == "7/h"
        assert conf.IP_RATE == "5/m"


def test_a_kept_list_is_given_as_a_copy():
    with override_settings(CLICKTOCALL_REDIRECT_HOSTS=["Example.org"]):
        hosts = conf.REDIRECT_HOSTS
        hosts.append("evil.example")
        assert conf.REDIRECT_HOSTS == ["example.org"]


def test_the_days_of_the_daily_cap_follow_the_site_time_zone_and_the_clock():
    new_york = zoneinfo.ZoneInfo("America/New_York")
    with timezone.override(new_york):
        evening = datetime(2026, 3, 7, 23, 0, tzinfo=new_york)
        assert limits.seconds_until_tomorrow(evening) == 3600
        past_midnight = datetime(2026, 3, 8, 0, 30, tzinfo=new_york)  # the next day: kept day left
        assert limits.today_key("line", 1, past_midnight) != limits.today_key("line", 1, evening)
        # 8 March 2026 is 23 hours long there (summer time begins at 2:00).
        assert limits.seconds_until_tomorrow(past_midnight) == 22 * 3600 + 1800
    with timezone.override(zoneinfo.ZoneInfo("Europe/Berlin")):  # 9:30 UTC is 10:30 in Berlin
        assert limits.seconds_until_tomorrow(datetime(2026, 3, 8, 5, 30, tzinfo=new_york)) == 13 * 3600 + 1800


def test_an_accept_header_too_long_to_keep_is_ranked_all_the_same():
    long_html_first = "text/html," + ",".join(f"application/x-{n}" for n in range(200)) + ",application/json;q=0.5"
    assert len(long_html_first) > negotiation.RANKINGS_KEPT_UP_TO
    factory = RequestFactory()
    assert negotiation.json_over_html(factory.get("/", HTTP_ACCEPT=long_html_first)) == -1
    assert negotiation.json_over_html(factory.get("/", HTTP_ACCEPT="application/json, text/html;q=0.9")) == 1
    assert negotiation.json_over_html(factory.get("/", HTTP_ACCEPT="text/html, application/json;q=0.9")) == -1
    assert negotiation.json_over_html(factory.get("/")) == 0  # none sent: */*
