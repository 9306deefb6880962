"""The webhooks Twilio calls: signatures, the lifecycle, target legs, bad input."""

from __future__ import annotations

import datetime as dt
from email.utils import format_datetime

import pytest
from django.test import Client
from django.urls import reverse

from clicktocall import signals
from clicktocall.models import BlockEntry, CallAttempt, CallLeg, Target
from tests.twilio_signing import signed_post as twilio_signed_post

pytestmark = pytest.mark.django_db

PUBLIC = "https://calls.example.org"
TOKEN = "test-auth-token"


@pytest.fixture
def web():
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def attempt(line):
    Target.objects.create(line=line, position=0, name="Office A", phone_number="+12025550100")
    Target.objects.create(line=line, position=1, name="Office B", phone_number="+12025550101")
    return CallAttempt.objects.create(
        line=line, phone="+16175232338", outcome="placed", status="queued", provider_call_id="CA" + "a" * 32
    )


def url(name, attempt, **kwargs):
    return reverse(f"clicktocall:twilio-{name}", kwargs={"token": attempt.token, **kwargs})


def signed_post(web, path, params, token=TOKEN, public=PUBLIC):
    return twilio_signed_post(web, public + path, params, token)


def status(web, attempt, call_status, **extra):
    params = {"CallSid": attempt.provider_call_id, "CallStatus": call_status, **extra}
    return signed_post(web, url("status", attempt), params)


class TestSignatures:
    @pytest.mark.parametrize("debug", [False, True])
    @pytest.mark.parametrize("name", ["voice", "gather", "status", "dial", "remind"])
    def test_forged_or_unsigned_requests_change_nothing(self, web, attempt, settings, name, debug):
        settings.DEBUG = debug
        kwargs = {"position": 0} if name == "dial" else {}
        path = url(name, attempt, **kwargs)
        params = {"CallStatus": "completed", "CallDuration": "5", "Digits": "9", "DialCallStatus": "busy"}
        assert web.post(path, params).status_code == 403
        assert signed_post(web, path, params, token="wrong").status_code == 403
        assert signed_post(web, path, params, public="https://evil.example.org").status_code == 403
        assert web.post(path, params, HTTP_X_TWILIO_SIGNATURE="").status_code == 403
        attempt.refresh_from_db()
        assert attempt.status == "queued" and attempt.ended_at is None and attempt.duration is None
        assert not BlockEntry.objects.exists() and not CallLeg.objects.exists()

    def test_without_an_auth_token_nothing_is_accepted(self, web, attempt, settings):
        params = {"CallStatus": "completed"}
        settings.TWILIO_AUTH_TOKEN = ""
        assert signed_post(web, url("status", attempt), params, token="").status_code == 403

    def test_signed_url_is_the_public_url_behind_a_proxy(self, web, attempt, settings):
        settings.CLICKTOCALL_PUBLIC_URL = "https://proxy.example.net/"
        path = url("status", attempt)
        assert signed_post(web, path, {"CallStatus": "ringing"}).status_code == 403
        response = signed_post(web, path, {"CallStatus": "ringing"}, public="https://proxy.example.net")
        assert response.status_code == 204

    def test_only_post(self, web, attempt):
        assert web.get(url("voice", attempt)).status_code == 405

    @pytest.mark.parametrize("debug", [False, True])
    def test_a_url_without_its_trailing_slash_is_answered_not_redirected(self, web, attempt, settings, debug):
        settings.DEBUG = debug
        path = url("status", attempt).rstrip("/")
        assert web.post(path, {"CallStatus": "completed"}).status_code == 403
        assert signed_post(web, path, {"CallSid": attempt.provider_call_id, "CallStatus": "ringing"}).status_code == 204
        attempt.refresh_from_db()
        assert attempt.status == "ringing"
        dial = url("dial", attempt, position=0).rstrip("/")
        assert signed_post(web, dial, {"DialCallStatus": "busy"}).status_code == 200

    def test_unknown_token(self, web, attempt):
        path = reverse("clicktocall:twilio-status", kwargs={"token": "x" * 32})
        assert signed_post(web, path, {"CallStatus": "ringing"}).status_code == 404


class TestLifecycle:
    def test_forward_only_with_times_and_duration(self, web, attempt):
        changes = []

        def receiver(sender, attempt, old_status, new_status, **kwargs):
            changes.append((old_status, new_status))

        signals.call_status_changed.connect(receiver)
        try:
            start = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.UTC)
            assert status(web, attempt, "initiated").status_code == 204
            assert status(web, attempt, "ringing").status_code == 204
            stamp = format_datetime(start)
            assert status(web, attempt, "in-progress", Timestamp=stamp).status_code == 204
            end = format_datetime(start + dt.timedelta(seconds=75))
            assert status(web, attempt, "completed", Timestamp=end, CallDuration="75").status_code == 204
            # duplicates and stragglers
            assert status(web, attempt, "ringing").status_code == 204
            assert status(web, attempt, "in-progress").status_code == 204
            assert status(web, attempt, "completed", CallDuration="1").status_code == 204
            assert status(web, attempt, "failed").status_code == 204
        finally:
            signals.call_status_changed.disconnect(receiver)
        attempt.refresh_from_db()
        assert attempt.status == "completed"
        assert attempt.answered_at == start
        assert attempt.ended_at == start + dt.timedelta(seconds=75)
        assert attempt.duration == 75
        assert changes == [
            ("queued", "initiated"),
            ("initiated", "ringing"),
            ("ringing", "in-progress"),
            ("in-progress", "completed"),
        ]

    def test_end_before_answer_arrives(self, web, attempt):
        assert status(web, attempt, "completed", CallDuration="30").status_code == 204
        attempt.refresh_from_db()
        answered_guess = attempt.answered_at
        assert answered_guess == attempt.ended_at - dt.timedelta(seconds=30)
        assert status(web, attempt, "in-progress").status_code == 204
        attempt.refresh_from_db()
        assert attempt.status == "completed" and attempt.answered_at == answered_guess

    @pytest.mark.parametrize("end", ["busy", "no-answer", "failed", "canceled"])
    def test_unanswered_ends(self, web, attempt, end):
        assert status(web, attempt, "ringing").status_code == 204
        assert status(web, attempt, end, CallDuration="0").status_code == 204
        attempt.refresh_from_db()
        assert attempt.status == end and attempt.answered_at is None and attempt.ended_at is not None

    def test_an_ended_call_closes_its_open_leg(self, web, attempt):
        assert signed_post(web, url("gather", attempt), {"Digits": "1"}).status_code == 200
        assert CallLeg.objects.get().status == "dialing"
        assert status(web, attempt, "completed", CallDuration="12").status_code == 204
        leg = CallLeg.objects.get()
        assert leg.status == "canceled" and leg.ended_at is not None


class TestGarbage:
    @pytest.mark.parametrize(
        "params",
        [{}, {"CallStatus": "exploded"}, {"CallStatus": ""}, {"CallStatus": "x" * 10000}],
    )
    def test_status_without_a_known_status(self, web, attempt, params):
        assert signed_post(web, url("status", attempt), params).status_code == 400
        attempt.refresh_from_db()
        assert attempt.status == "queued"

    def test_status_for_another_call(self, web, attempt):
        response = signed_post(web, url("status", attempt), {"CallSid": "CA" + "b" * 32, "CallStatus": "completed"})
        assert response.status_code == 400

    def test_bad_numbers_are_ignored(self, web, attempt):
        response = status(web, attempt, "completed", CallDuration="-3", Timestamp="yesterday")
        assert response.status_code == 204
        attempt.refresh_from_db()
        assert attempt.status == "completed" and attempt.duration is None and attempt.ended_at is not None

    def test_dial_action_garbage(self, web, attempt):
        assert signed_post(web, url("dial", attempt, position=0), {}).status_code == 400
        assert signed_post(web, url("dial", attempt, position=0), {"DialCallStatus": "boom"}).status_code == 400
        response = signed_post(web, url("dial", attempt, position=7), {"DialCallStatus": "busy"})
        assert response.status_code == 200 and b"<Dial" not in response.content and b"<Hangup" in response.content
        assert not CallLeg.objects.exists()

    def test_odd_digits_repeat_the_prompt(self, web, attempt):
        for digits in ["", "5", "1" * 5000, "\x00"]:
            response = signed_post(web, url("gather", attempt), {"Digits": digits})
            assert response.status_code == 200
            assert b"Sorry, I didn't get that." in response.content
        assert not CallLeg.objects.exists()

    def test_an_unexpected_error_ends_the_call_politely(self, web, attempt, monkeypatch):
        from clicktocall import callflow

        def broken(*args, **kwargs):
            raise RuntimeError("boom")

        monkeypatch.setattr(callflow.CallFlow, "for_attempt", broken)
        response = signed_post(web, url("voice", attempt), {"CallStatus": "in-progress"})
        assert response.status_code == 200
        assert b"Sorry, an error occurred." in response.content and b"<Hangup" in response.content

    def test_refused_attempts_get_no_call_flow(self, web, attempt):
        attempt.outcome = "blocked"
        attempt.save()
        response = signed_post(web, url("voice", attempt), {"CallStatus": "in-progress"})
        assert response.status_code == 200 and b"<Say" not in response.content and b"<Hangup" in response.content


class TestLegs:
    def test_each_leg_recorded(self, web, attempt):
        response = signed_post(web, url("gather", attempt), {"Digits": "1"})
        assert b"Connecting you to Office A." in response.content
        dial = {"DialCallStatus": "no-answer", "DialCallSid": "CA" + "c" * 32, "CallStatus": "in-progress"}
        response = signed_post(web, url("dial", attempt, position=0), dial)
        assert b"Office A did not answer." in response.content and b"+12025550101" in response.content
        dial = {"DialCallStatus": "completed", "DialCallDuration": "61", "CallStatus": "in-progress"}
        response = signed_post(web, url("dial", attempt, position=1), dial)
        assert b"<Dial" not in response.content and b"<Hangup" in response.content
        legs = list(CallLeg.objects.order_by("position"))
        assert [(leg.target_name, leg.status, leg.duration) for leg in legs] == [
            ("Office A", "no-answer", None),
            ("Office B", "completed", 61),
        ]
        assert legs[0].provider_call_id == "CA" + "c" * 32

    def test_caller_gone_during_a_target_call(self, web, attempt):
        signed_post(web, url("gather", attempt), {"Digits": "1"})
        dial = {"DialCallStatus": "completed", "DialCallDuration": "8", "CallStatus": "completed"}
        response = signed_post(web, url("dial", attempt, position=0), dial)
        assert b"<Dial" not in response.content
        assert CallLeg.objects.count() == 1

    def test_a_target_switched_off_during_the_call_ends_it_politely(self, web, attempt):
        signed_post(web, url("gather", attempt), {"Digits": "1"})
        signed_post(web, url("dial", attempt, position=0), {"DialCallStatus": "busy", "CallStatus": "in-progress"})
        Target.objects.filter(name="Office A").update(is_active=False)  # staff, while Office B rings
        dial = {"DialCallStatus": "completed", "DialCallDuration": "30", "CallStatus": "in-progress"}
        response = signed_post(web, url("dial", attempt, position=1), dial)
        assert response.status_code == 200
        assert b"<Dial" not in response.content and b"<Hangup" in response.content
        assert b"error" not in response.content.lower()
        leg = CallLeg.objects.get(position=1)
        assert (leg.target_name, leg.status, leg.duration) == ("Office B", "completed", 30)

    def test_the_target_called_switched_off_meanwhile_the_next_one_is_still_called(self, web, attempt):
        signed_post(web, url("gather", attempt), {"Digits": "1"})
        Target.objects.filter(name="Office A").update(is_active=False)  # staff, while Office A rings
        response = signed_post(web, url("dial", attempt, position=0), {"DialCallStatus": "busy"})
        assert b"Office A is busy." in response.content and b"+12025550101" in response.content
        response = signed_post(web, url("dial", attempt, position=1), {"DialCallStatus": "completed"})
        assert b"<Dial" not in response.content and b"<Hangup" in response.content
        legs = CallLeg.objects.order_by("position").values_list("position", "target_name", "status")
        assert list(legs) == [(0, "Office A", "busy"), (1, "Office B", "completed")]

    def test_a_target_added_ahead_meanwhile_is_not_called_twice(self, web, attempt, line):
        signed_post(web, url("gather", attempt), {"Digits": "1"})
        Target.objects.filter(name="Office B").update(position=2)
        Target.objects.create(line=line, position=0, name="Office Z", phone_number="+12025550199")
        Target.objects.filter(name="Office A").update(position=1)  # now Z, A, B
        response = signed_post(web, url("dial", attempt, position=0), {"DialCallStatus": "completed"})
        assert b"Connecting you to Office B." in response.content and b"+12025550101" in response.content
        assert list(CallLeg.objects.values_list("position", "target_name")) == [(0, "Office A"), (1, "Office B")]

    def test_pressing_1_after_every_target_was_switched_off_closes_the_call(self, web, attempt):
        Target.objects.update(is_active=False)  # staff, while the person listens to the script
        response = signed_post(web, url("gather", attempt), {"Digits": "1"})
        assert b"didn't get that" not in response.content and b"Thank you" in response.content
        assert b"<Hangup" in response.content and not CallLeg.objects.exists()

    def test_repeated_actions_create_no_extra_legs(self, web, attempt):
        for _ in range(2):
            signed_post(web, url("gather", attempt), {"Digits": "1"})
        assert CallLeg.objects.count() == 1


def test_pressing_9_opts_out(web, attempt):
    response = signed_post(web, url("gather", attempt), {"Digits": "9"})
    assert response.status_code == 200
    assert b"You will not receive these calls again." in response.content
    entry = BlockEntry.objects.get()
    assert entry.value == "+16175232338" and entry.reason == "opt-out"


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded; charset=bogus", b"CallStatus=completed"),
        ("application/x-www-form-urlencoded", b"\xff\xfe%%%=&&"),
        ("multipart/form-data; boundary=x", b"--x\r\ngarbage"),
        ("multipart/form-data", b"junk"),
        ("application/json", b"{"),
        ("application/x-www-form-urlencoded", b"a=1&" * 2000),
    ],
)
def test_garbage_bodies_get_a_4xx(attempt, content_type, body):
    web = Client(raise_request_exception=False)
    for name in ["voice", "status", "gather"]:
        path = url(name, attempt)
        response = web.generic("POST", path, body, content_type=content_type, HTTP_X_TWILIO_SIGNATURE="abc")
        assert 400 <= response.status_code < 500, (name, response.status_code)
    attempt.refresh_from_db()
    assert attempt.status == "queued"
