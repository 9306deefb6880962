"""The read-only results API: staff tokens, the admin's view permissions, cursors, incremental sync."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission, User
from django.utils import timezone

from clicktocall import lifecycle
from clicktocall.api.models import ApiToken
from clicktocall.models import CallAttempt, CampaignLine
from clicktocall.stats import line_stats

from .contract import PHONE
from .stats_data import Leg, attempt

pytestmark = pytest.mark.django_db

ATTEMPTS = "/api/v1/attempts/"
LINES = "/api/v1/lines/"


def token_for(user: User, name: str = "CRM sync") -> str:
    token = ApiToken(user=user, name=name)
    key = token.issue()
    token.save()
    return key


def staff_user(*codenames: str, username: str = "staff", **fields) -> User:
    user = User.objects.create_user(username, password="pw", is_staff=True, **fields)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


def auth(key: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


@pytest.fixture
def reader(db):
    return token_for(staff_user("view_callattempt", "view_campaignline"))


def test_a_token_is_required(client, line):
    for url in (ATTEMPTS, LINES, f"{LINES}{line.pk}/", f"{LINES}{line.pk}/results/"):
        r = client.get(url)
        assert r.status_code == 401 and r["WWW-Authenticate"] == "Bearer", url
    assert client.get(ATTEMPTS, **auth("ctc_not-a-token")).status_code == 401
    assert client.get(ATTEMPTS, HTTP_AUTHORIZATION="Bearer").status_code == 401


def test_a_non_staff_or_inactive_users_token_is_refused(client, line):
    plain = User.objects.create_user("plain", password="pw", is_superuser=True)
    gone = staff_user("view_callattempt", username="gone", is_active=False)
    for user in (plain, gone):
        assert client.get(ATTEMPTS, **auth(token_for(user))).status_code == 401


def test_permissions_follow_the_admins_view_permissions(client, line):
    attempts_only = token_for(staff_user("view_callattempt"))
    nothing = token_for(staff_user(username="other"))
    changer = token_for(staff_user("change_campaignline", username="changer"))
    admin = token_for(User.objects.create_superuser("root", password="pw"))

    assert client.get(ATTEMPTS, **auth(attempts_only)).status_code == 200
    assert client.get(LINES, **auth(attempts_only)).status_code == 403
    assert client.get(f"{LINES}{line.pk}/results/", **auth(attempts_only)).status_code == 403
    assert client.get(ATTEMPTS, **auth(nothing)).status_code == 403
    assert client.get(LINES, **auth(changer)).status_code == 200  # change implies view, as in the admin
    assert client.get(ATTEMPTS, **auth(admin)).status_code == 200
    assert client.get(LINES, **auth(admin)).status_code == 200


def test_writing_is_not_allowed(client, line, reader):
    for method in ("post", "put", "patch", "delete"):
        url = LINES if method == "post" else f"{LINES}{line.pk}/"
        assert getattr(client, method)(url, {}, **auth(reader)).status_code == 405


def test_a_deleted_token_is_revoked(client, line):
    user = staff_user("view_callattempt")
    key = token_for(user)
    assert client.get(ATTEMPTS, **auth(key)).status_code == 200
    ApiToken.objects.filter(user=user).delete()
    assert client.get(ATTEMPTS, **auth(key)).status_code == 401


def test_only_a_digest_of_the_token_is_stored(line):
    key = token_for(staff_user("view_callattempt"))
    stored = ApiToken.objects.get()
    assert key not in (stored.key_hash, stored.hint) and key.endswith(stored.hint)


def collect(client, key: str, url: str, params: dict) -> tuple[list[dict], list[str]]:
    """Every row of every page, following ``next``; and the pages' URLs."""
    rows, pages = [], []
    response = client.get(url, params, **auth(key))
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        rows.extend(body["results"])
        pages.append(body["next"])
        if not body["next"]:
            return rows, pages
        response = client.get(body["next"], **auth(key))


def test_pagination_is_stable_under_inserts(client, line, reader):
    first = [CallAttempt.objects.create(line=line, phone=PHONE, outcome="placed") for _ in range(5)]
    r = client.get(ATTEMPTS, {"page_size": 2}, **auth(reader))
    seen = [row["id"] for row in r.json()["results"]]
    following = r.json()["next"]
    for _ in range(3):  # new requests arrive while the client pages
        CallAttempt.objects.create(line=line, phone=PHONE, outcome="placed")
    while following:
        body = client.get(following, **auth(reader)).json()
        seen.extend(row["id"] for row in body["results"])
        following = body["next"]

    assert seen == sorted((a.pk for a in first), reverse=True)  # each once, newest first, no newcomer


def test_updated_since_returns_each_change_once(client, line, reader):
    attempts = [CallAttempt.objects.create(line=line, phone=PHONE, outcome="placed") for _ in range(4)]
    since = "2000-01-01T00:00:00Z"
    rows, _ = collect(client, reader, ATTEMPTS, {"updated_since": since, "page_size": 3})
    assert sorted(row["id"] for row in rows) == sorted(a.pk for a in attempts)
    since = rows[-1]["updated_at"]

    assert collect(client, reader, ATTEMPTS, {"updated_since": since})[0] == []
    lifecycle.advance(attempts[1], "ringing")
    lifecycle.advance(attempts[3], "ringing")
    changed, _ = collect(client, reader, ATTEMPTS, {"updated_since": since, "page_size": 1})
    assert [row["id"] for row in changed] == [attempts[1].pk, attempts[3].pk]
    assert [row["status"] for row in changed] == ["ringing", "ringing"]
    assert collect(client, reader, ATTEMPTS, {"updated_since": changed[-1]["updated_at"]})[0] == []


def test_attempts_filter_by_line_outcome_status_and_dates(client, line, reader):
    other = CampaignLine.objects.create(phone_number="+18005550100", name="Other")
    now = timezone.now()
    placed = attempt(line, now - dt.timedelta(days=1), answered=True, duration=60)
    CallAttempt.objects.filter(pk=placed.pk).update(status="completed")
    refused = attempt(line, now - dt.timedelta(days=3), outcome="throttled")
    elsewhere = attempt(other, now)

    def ids(**params) -> list[int]:
        r = client.get(ATTEMPTS, params, **auth(reader))
        assert r.status_code == 200, r.content
        return [row["id"] for row in r.json()["results"]]

    assert ids(line=line.pk) == [placed.pk, refused.pk]
    assert ids(outcome="throttled") == [refused.pk]
    assert ids(status="completed") == [placed.pk]
    assert ids(created_after=(now - dt.timedelta(days=2)).isoformat()) == [elsewhere.pk, placed.pk]
    assert ids(created_before=(now - dt.timedelta(days=2)).isoformat()) == [refused.pk]
    for bad in ({"outcome": "exploded"}, {"line": "x"}, {"created_after": "yesterday"}, {"line": 999}):
        r = client.get(ATTEMPTS, bad, **auth(reader))
        assert r.status_code == 400 and set(r.json()) == set(bad), bad


def test_an_attempt_carries_its_legs_and_personal_fields(client, line, targets, reader):
    made = attempt(line, timezone.now(), answered=True, duration=80, legs=(Leg(targets[0], duration=50),))
    CallAttempt.objects.filter(pk=made.pk).update(name="Ada", email="ada@example.org", variables={"zip": "02113"})

    body = client.get(f"{ATTEMPTS}{made.pk}/", **auth(reader)).json()

    assert body["name"] == "Ada" and body["email"] == "ada@example.org" and body["phone"] == PHONE
    assert body["variables"] == {"zip": "02113"} and body["line"] == line.pk
    assert [(leg["target_name"], leg["status"], leg["duration"]) for leg in body["legs"]] == [
        ("Sen. Warren", "completed", 50)
    ]


def test_results_are_the_results_pages_figures(client, line, targets, reader):
    today = timezone.localdate()
    noon = dt.datetime.combine(today, dt.time(12), tzinfo=timezone.get_current_timezone())
    attempt(line, noon, answered=True, duration=90, legs=(Leg(targets[0], duration=60), Leg(targets[1], "busy")))
    attempt(line, noon - dt.timedelta(days=1), outcome="blocked")
    start = today - dt.timedelta(days=6)

    r = client.get(f"{LINES}{line.pk}/results/", {"start": start.isoformat(), "end": today.isoformat()}, **auth(reader))

    assert r.status_code == 200, r.content
    body = r.json()
    stats = line_stats(line, start, today)
    assert (
        (body["requests"], body["placed"], body["answered"], body["connected"], body["call_seconds"])
        == (stats.requests, stats.placed, stats.answered, stats.connected, stats.call_seconds)
        == (2, 1, 1, 1, 90)
    )
    assert body["refused"]["blocked"] == 1 and body["refused"]["throttled"] == 0
    assert len(body["days"]) == 7 and body["days"][-1] == {
        "date": today.isoformat(),
        "requests": 1,
        "placed": 1,
        "refused": 0,
    }
    assert [(t["name"], t["legs"], t["connected"], t["total_duration"]) for t in body["targets"]] == [
        ("Sen. Warren", 1, 1, 60),
        ("Rep. Pressley", 1, 0, 0),
    ]
    default = client.get(f"{LINES}{line.pk}/results/", **auth(reader)).json()
    assert default["end"] == today.isoformat() and len(default["days"]) == 30


@pytest.mark.parametrize(
    "params",
    [
        {"start": "2026-02-30", "end": "2026-03-01"},
        {"start": "2026-03-02", "end": "2026-03-01"},
        {"start": "2020-01-01", "end": "2026-01-01"},
        {"start": "x"},
    ],
)
def test_a_bad_results_range_is_a_400(client, line, reader, params):
    r = client.get(f"{LINES}{line.pk}/results/", params, **auth(reader))
    assert r.status_code == 400 and isinstance(r.json(), dict)


def test_tokens_are_created_in_the_admin_and_shown_once(admin_client, client, admin_user, line):
    r = admin_client.post("/admin/clicktocall/apitoken/add/", {"name": "CRM sync", "user": admin_user.pk})
    assert r.status_code == 200, r.content.decode()[:2000]
    key = r.context["key"]
    assert key.startswith("ctc_") and key in r.content.decode()
    token = ApiToken.objects.get()
    assert key not in admin_client.get(f"/admin/clicktocall/apitoken/{token.pk}/change/").content.decode()
    assert client.get(ATTEMPTS, **auth(key)).status_code == 200


def test_staff_create_tokens_for_themselves_only(client, line):
    user = staff_user("add_apitoken", "view_apitoken", "view_callattempt")
    root = User.objects.create_superuser("root", password="pw")
    client.force_login(user)

    r = client.post("/admin/clicktocall/apitoken/add/", {"name": "mine", "user": root.pk})

    assert r.status_code == 200, r.content.decode()[:2000]
    assert ApiToken.objects.get().user == user


@pytest.mark.parametrize(
    "params", [{"start": "9999-12-30", "end": "9999-12-31"}, {"start": "0001-01-01", "end": "0001-01-02"}]
)
def test_a_range_at_the_ends_of_the_calendar_is_a_400(client, line, reader, params):
    r = client.get(f"{LINES}{line.pk}/results/", params, **auth(reader))
    assert r.status_code == 400 and r.json() == {"non_field_errors": ["Choose dates from 1970-01-01 to 9998-12-31."]}


@pytest.mark.parametrize("url", [LINES, ATTEMPTS])
@pytest.mark.parametrize("position", ["99999999999999999999", "9999-99-99", "x"])
def test_a_forged_cursor_is_a_404(client, line, reader, url, position):
    import base64

    cursor = base64.b64encode(f"p={position}".encode()).decode()
    r = client.get(url, {"cursor": cursor}, **auth(reader))
    assert r.status_code == 404 and r.json() == {"detail": "Invalid cursor"}


@pytest.mark.parametrize("when, status", [("2000-04-28T19:14:47.9+18:56", 200), ("0001-01-01T00:00:00+01:00", 400)])
def test_times_with_any_offset_are_read_in_utc(client, line, reader, when, status):
    r = client.get(ATTEMPTS, {"updated_since": when}, **auth(reader))
    assert r.status_code == status, r.content


def test_the_api_mounted_elsewhere_is_described_where_it_is(settings, client, line, reader):
    settings.ROOT_URLCONF = "tests.urls_api_elsewhere"
    document = client.get("/calls/api/schema/", {"format": "json"}).json()
    assert sorted(document["paths"]) == [
        "/calls/api/v1/attempts/",
        "/calls/api/v1/attempts/{id}/",
        "/calls/api/v1/lines/",
        "/calls/api/v1/lines/{id}/",
        "/calls/api/v1/lines/{id}/results/",
        "/outgoing",
    ]
    assert set(document["x-webhooks"]) == {
        "attempt.created",
        "call.placed",
        "call.status_changed",
        "call.completed",
        "caller.opted_out",
    }
    assert document["paths"]["/calls/api/v1/attempts/"]["get"]["security"] == [{"tokenAuth": []}]
    assert client.get("/calls/api/v1/lines/", **auth(reader)).json()["results"][0]["id"] == line.pk
