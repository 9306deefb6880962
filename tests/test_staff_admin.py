"""Campaign staff's everyday work in the admin: the line form, test calls, status, groups, branding."""

from __future__ import annotations

import logging
import re

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from clicktocall import callflow, voices
from clicktocall.groups import CAMPAIGN_STAFF, VIEWERS
from clicktocall.models import CallAttempt, CampaignLine, StaffPhone, Target

from .conftest import line_form
from .contract import LINE, PHONE, VALID

pytestmark = pytest.mark.django_db

STAFF_PASSWORD = "a long and unguessable passphrase"


def member_of(group: str, client, username: str = "organizer"):
    user = User.objects.create_user(username, password=STAFF_PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    return user


def change_url(line: CampaignLine, view: str = "change") -> str:
    return reverse(f"admin:clicktocall_campaignline_{view}", args=[line.pk])


# The line form


def test_the_line_form_is_ordered_as_staff_think(admin_client, line):
    page = admin_client.get(change_url(line)).content.decode()
    marks = [
        'name="name"',
        "What the call says",
        'name="targets-TOTAL_FORMS"',
        "Human check",
        "Closing",
        "Preview",
        "Advanced",
    ]
    found = [page.index(mark) for mark in marks]
    assert found == sorted(found), dict(zip(marks, found, strict=True))
    advanced = re.search(r"<fieldset[^>]*>(?:(?!</fieldset>).)*?Advanced", page, re.S).group(0)
    assert "collapse" in advanced and "cooldown" not in page[: page.index("Advanced")].lower()


def test_the_limits_show_the_site_defaults_as_numbers_and_labels_speak_plainly(admin_client, line, settings):
    settings.CLICKTOCALL_COOLDOWN_SECONDS, settings.CLICKTOCALL_DAILY_CAP = 180, 2000
    page = admin_client.get(change_url(line)).content.decode()
    assert "Empty = 180 seconds, the site's default" in page and "Empty = 2000 calls a day" in page
    assert "CLICKTOCALL_" not in page
    labels = " ".join(re.findall(r"<label[^>]*>(.*?)</label>", page, re.S))
    for word in ("E.164", "revmsghtml", "Token", "Provider call id", "Redirect hosts"):
        assert word not in labels, word


def test_the_add_page_shows_no_empty_sections(admin_client):
    page = admin_client.get(reverse("admin:clicktocall_campaignline_add")).content.decode()
    for absent in ("Preview", "History", "Embed on a website", "Call me now", "Results &amp; charts"):
        assert absent not in page, absent
    assert 'name="targets-TOTAL_FORMS"' in page
    assert '<option value="Polly.Joanna" selected>' in page and '<option value="en-US" selected>' in page


@pytest.mark.parametrize(
    "voice,language,error",
    [
        ("Joanna", "en-US", "Polly.Joanna"),  # free text: refused, with a hint
        ("Polly.Hans", "en-US", "speaks German (de-DE)"),  # a voice of another language
        ("Polly.Joanna", "xx-XX", "not a language of the supported voices"),
        ("Google.en-US-Standard-C", "en-US", None),
        ("Polly.Lupe-Neural", "es-US", None),
        ("", "fr-FR", None),  # the account's default voice
    ],
)
def test_voices_are_chosen_from_the_providers_list(admin_client, line, voice, language, error):
    data = line_form(phone_number=line.phone_number, voice=voice, language=language)
    response = admin_client.post(change_url(line), data)
    if error is None:
        assert response.status_code == 302, response.content.decode()[:2000]
        line.refresh_from_db()
        assert (line.voice, line.language) == (voice, language)
    else:
        assert response.status_code == 200 and error in response.content.decode()
        line.refresh_from_db()
        assert line.voice == "Polly.Joanna"


def test_the_voice_table_names_voices_as_twilio_does():
    table = voices.voices()
    assert {"Polly.Joanna", "Polly.Joanna-Neural", "Google.en-US-Standard-C"} <= set(table)
    assert all(voice.language in voices.languages() for voice in table.values())
    assert table["Google.fr-CA-Standard-A"].language == "fr-CA"


def test_the_page_offers_a_listen_button_labelled_as_an_approximation(admin_client, line):
    page = admin_client.get(change_url(line)).content.decode()
    assert "clicktocall/admin/listen.js" in page and 'class="ctc-voice"' in page


def test_a_new_target_without_an_order_goes_last(admin_client, line):
    Target.objects.create(line=line, position=4, name="First", phone_number="+12025550100")
    data = line_form(
        phone_number=line.phone_number,
        **{
            "targets-TOTAL_FORMS": "1",
            "targets-0-position": "",
            "targets-0-name": "Second",
            "targets-0-phone_number": "(202) 555-0101",
            "targets-0-is_active": "on",
        },
    )
    response = admin_client.post(change_url(line), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert list(line.targets.values_list("name", "position")) == [("First", 4), ("Second", 5)]


# Variables with defaults


def test_a_placeholder_default_is_spoken_when_the_page_sends_no_value():
    text = 'Call about {{ park_name | "the park" }}, {{ name }}.'
    assert callflow.render(text, {"name": "Ann"}) == "Call about the park, Ann."
    assert callflow.render(text, {"name": "Ann", "park_name": "Boston Common"}) == "Call about Boston Common, Ann."
    assert callflow.render(text, {"park_name": ""}) == "Call about the park, ."
    assert callflow.defaults(text) == {"park_name": "the park", "name": None}
    assert callflow.silent_variables([text], {}) == ["name"]


def test_the_preview_warns_about_a_variable_spoken_as_nothing(admin_client, line):
    line.script = 'Save {{ park_name | "the park" }} in {{ city }}.'
    line.save()
    page = admin_client.get(change_url(line)).content.decode()
    assert "Spoken as nothing: city" in page and "park_name" not in page.split("Spoken as nothing")[1][:40]
    preview = admin_client.get(change_url(line, "call_preview")).content.decode()
    assert "Spoken as nothing: city" in preview
    assert (
        "Spoken as nothing"
        not in admin_client.get(change_url(line, "call_preview"), {"city": "Boston"}).content.decode()
    )


def test_the_embed_code_carries_every_variable_the_script_uses(admin_client, line):
    line.script = 'Hi {{ name }}, save {{ park_name | "the park" }} in {{ city }}.'
    line.save()
    page = admin_client.get(change_url(line)).content.decode()
    assert "&lt;input type=&quot;hidden&quot; name=&quot;park_name&quot; value=&quot;the park&quot;&gt;" in page
    assert "&lt;input type=&quot;hidden&quot; name=&quot;city&quot; value=&quot;&quot;&gt;" in page
    assert "data-data=&quot;{&amp;quot;park_name&amp;quot;: &amp;quot;the park&amp;quot;" in page
    assert "name=&quot;name&quot; value" not in page  # asked for in a field of its own


# Status


def test_a_paused_or_archived_line_answers_as_a_switched_off_line(line, client):
    for status in (CampaignLine.Status.PAUSED, CampaignLine.Status.ARCHIVED):
        CampaignLine.objects.filter(pk=line.pk).update(status=status)
        body = client.get("/outgoing", VALID).json()
        assert body == {"error": True, "message": "This phone number is not configured."}
    assert list(CallAttempt.objects.values_list("outcome", flat=True)) == ["inactive", "inactive"]


def test_archived_lines_are_hidden_from_the_list_by_default(admin_client, line):
    CampaignLine.objects.create(phone_number="+12025550143", name="Old campaign", status="archived")
    listed = admin_client.get(reverse("admin:clicktocall_campaignline_changelist")).content.decode()
    assert "Test campaign" in listed and "Old campaign" not in listed
    archived = admin_client.get(reverse("admin:clicktocall_campaignline_changelist"), {"status": "archived"})
    assert "Old campaign" in archived.content.decode() and "Test campaign" not in archived.content.decode()


def test_the_line_command_sets_the_status(line):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("clicktocall_line", LINE, "--status", "archived", stdout=out)
    assert "active=no status=archived" in out.getvalue()
    assert CampaignLine.objects.get().status == "archived"


def test_the_migration_maps_switched_off_lines_to_paused(transactional_db):
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    call_command("migrate", "clicktocall", "0002_stats_denormalized", verbosity=0)
    try:
        old = MigrationExecutor(connection).loader.project_state(("clicktocall", "0002_stats_denormalized")).apps
        Line = old.get_model("clicktocall", "CampaignLine")
        Line.objects.create(phone_number="+18559299898", is_active=True)
        Line.objects.create(phone_number="+12025550143", is_active=False)
        call_command("migrate", "clicktocall", "0009_staff_admin", verbosity=0)
        statuses = dict(CampaignLine.objects.values_list("phone_number", "status"))
        assert statuses == {"+18559299898": "live", "+12025550143": "paused"}
    finally:
        call_command("migrate", verbosity=0)


# Test calls


def test_call_me_now_with_the_console_backend_shows_the_transcript(admin_client, line, settings):
    settings.CLICKTOCALL_TELEPHONY_BACKEND = "console"
    line.script = 'Save {{ park_name | "the park" }}.'
    line.save()
    response = admin_client.post(change_url(line, "test_call"), {"phone": "(617) 523-2338"}, follow=True)
    attempt = CallAttempt.objects.get()
    assert (attempt.is_test, attempt.phone, attempt.outcome, attempt.status) == (True, PHONE, "placed", "simulated")
    assert 'Says: "Save the park."' in attempt.transcript
    page = response.content.decode()
    assert "Says: &quot;Save the park.&quot;" in page and "Simulated (not dialed)" in page
    assert f'value="{PHONE}"' in page  # remembered for the next one


def test_call_me_now_places_a_real_call_through_the_configured_backend(admin_client, line, outbox):
    admin_client.post(change_url(line, "test_call"), {"phone": "617-523-2338"})
    (call,) = outbox
    assert (call.to, call.from_) == (PHONE, LINE)
    assert CallAttempt.objects.get().is_test
    assert StaffPhone.objects.get().phone_number == PHONE


def test_a_queued_test_call_rings_on_a_paused_line(admin_client, line, outbox, settings):
    """Staff test a line before it goes live: the worker places a test call on a paused line."""
    settings.CLICKTOCALL_PLACEMENT = "queued"
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    CampaignLine.objects.filter(pk=line.pk).update(status="paused")
    admin_client.post(change_url(line, "test_call"), {"phone": "617-523-2338"})
    assert [call.to for call in outbox] == [PHONE]
    assert CallAttempt.objects.get().outcome == "placed"


def test_call_me_now_refuses_a_bad_number_with_a_message(admin_client, line, outbox):
    page = admin_client.post(change_url(line, "test_call"), {"phone": "12"}, follow=True).content.decode()
    assert "Enter your phone number with its area code" in page
    assert not outbox and not CallAttempt.objects.exists()
    assert admin_client.get(change_url(line, "test_call")).status_code == 405


def test_viewers_cannot_place_test_calls(client, line, outbox):
    member_of(VIEWERS, client)
    assert client.post(change_url(line, "test_call"), {"phone": "617-523-2338"}).status_code == 403
    assert "Call me now" not in client.get(change_url(line)).content.decode()
    assert not outbox


def test_test_calls_are_left_out_of_the_results_unless_asked_for(admin_client, line, client, outbox):
    client.get("/outgoing", VALID)
    admin_client.post(change_url(line, "test_call"), {"phone": "617-523-2339"})
    page = admin_client.get(change_url(line, "stats")).content.decode()
    assert re.search(r'id="ctc-total-requests">1<', page)
    page = admin_client.get(change_url(line, "stats"), {"tests": "1"}).content.decode()
    assert re.search(r'id="ctc-total-requests">2<', page)


def test_the_results_api_marks_test_calls_and_leaves_them_out_of_the_figures(admin_client, admin_user, line, client):
    from clicktocall.api.models import ApiToken

    admin_client.post(change_url(line, "test_call"), {"phone": "617-523-2339"})
    token = ApiToken(user=admin_user, name="CRM sync")
    key = token.issue()
    token.save()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    (attempt,) = client.get("/api/v1/attempts/", **headers).json()["results"]
    assert attempt["is_test"] is True
    results = client.get(f"/api/v1/lines/{line.pk}/results/", **headers).json()
    assert sum(day["requests"] for day in results["days"]) == 0


def test_webhook_events_say_whether_the_call_was_a_test(admin_client, line):
    from clicktocall.events.payloads import attempt_data

    admin_client.post(change_url(line, "test_call"), {"phone": "617-523-2339"})
    assert attempt_data(CallAttempt.objects.get())["is_test"] is True


def test_the_console_backend_logs_at_info(line, client, settings, caplog):
    settings.CLICKTOCALL_TELEPHONY_BACKEND = "console"
    with caplog.at_level(logging.INFO, logger="clicktocall.telephony.console"):
        client.get("/outgoing", VALID)
    records = [r for r in caplog.records if r.name == "clicktocall.telephony.console"]
    assert records and {r.levelno for r in records} == {logging.INFO}
    assert CallAttempt.objects.get().status == "simulated"


# Attempts


def test_the_attempts_list_shows_the_outcome_first_with_a_test_badge(admin_client, line, client, outbox):
    client.get("/outgoing", VALID)
    admin_client.post(change_url(line, "test_call"), {"phone": "617-523-2339"})
    page = admin_client.get(reverse("admin:clicktocall_callattempt_changelist")).content.decode()
    table = page[page.index('id="result_list"') :]
    headers = re.findall(r'<th scope="col"[^>]*>\s*(?:<div class="text">)?(?:<a [^>]*>|<span>)?([^<]*)', table)
    assert headers[1].strip() == "Outcome", headers  # first, after the checkbox
    assert page.count(">test</span>") == 1
    assert "field-line" not in page  # one line: no line column
    CampaignLine.objects.create(phone_number="+12025550143", name="Other")
    page = admin_client.get(reverse("admin:clicktocall_callattempt_changelist")).content.decode()
    assert "field-line" in page
    assert re.search(r"[A-Z][a-z]{2} \d\d, \d\d:\d\d UTC", page)  # times name their zone


@pytest.mark.parametrize("term", ["(855) 929-9898", "+1 855-929-9898", "2338", "523-2338"])
def test_attempts_are_found_by_the_line_number_as_displayed_and_by_last_digits(admin_client, line, client, term):
    client.get("/outgoing", VALID)
    other = CallAttempt.objects.create(line=line, phone="+16175550100")
    CallAttempt.objects.filter(pk=other.pk).update(line=CampaignLine.objects.create(phone_number="+12025550143"))
    response = admin_client.get(reverse("admin:clicktocall_callattempt_changelist"), {"q": term})
    found = [a.phone for a in response.context["cl"].result_list]
    assert found == [PHONE]


def test_a_simulated_attempt_shows_its_transcript_and_no_token(admin_client, line, client, settings):
    settings.CLICKTOCALL_TELEPHONY_BACKEND = "console"
    client.get("/outgoing", VALID)
    attempt = CallAttempt.objects.get()
    page = admin_client.get(reverse("admin:clicktocall_callattempt_change", args=[attempt.pk])).content.decode()
    assert "Transcript" in page and "Says:" in page and "Simulated (not dialed)" in page
    assert attempt.token not in page and "Token" not in page
    assert "Times are in the site's time zone, UTC." in page


# The admin as a product


def test_the_groups_exist_with_their_permissions(client, line):
    staff = set(Group.objects.get(name=CAMPAIGN_STAFF).permissions.values_list("codename", flat=True))
    viewers = set(Group.objects.get(name=VIEWERS).permissions.values_list("codename", flat=True))
    assert {"change_campaignline", "add_target", "add_blockentry", "view_callattempt"} <= staff
    assert viewers and all(codename.startswith("view_") for codename in viewers)
    member_of(VIEWERS, client)
    assert client.get(change_url(line)).status_code == 200
    assert client.post(change_url(line), line_form(phone_number=LINE, name="Changed")).status_code == 403
    export = reverse("admin:clicktocall_campaignline_export", args=[line.pk])
    assert client.get(export).status_code == 200


def test_campaign_staff_edit_lines_and_export(client, line):
    member_of(CAMPAIGN_STAFF, client)
    response = client.post(change_url(line), line_form(phone_number=LINE, name="Renamed"))
    assert response.status_code == 302
    assert client.get(reverse("admin:clicktocall_campaignline_export", args=[line.pk])).status_code == 200


def test_the_admin_is_branded_and_hides_technical_apps_from_staff(client, admin_client):
    member_of(CAMPAIGN_STAFF, client)
    User.objects.get(username="organizer").user_permissions.add(
        *__import__("django.contrib.auth.models", fromlist=["Permission"]).Permission.objects.filter(
            content_type__app_label__in=["axes", "django_tasks_db"]
        )
    )
    page = client.get(reverse("admin:index")).content.decode()
    assert "<title>Campaigns | Click-to-Call</title>" in page and ">Click-to-Call</a>" in page
    assert "Campaign lines" in page and "Axes" not in page and "/admin/django_tasks_db/" not in page
    admin_page = admin_client.get(reverse("admin:index")).content.decode()
    assert "/admin/axes/" in admin_page


def test_results_and_preview_breadcrumbs_use_djangos_markup(admin_client, line):
    for view in ("stats", "call_preview"):
        page = admin_client.get(change_url(line, view)).content.decode()
        assert '<ol class="breadcrumbs">' in page and 'div class="breadcrumbs"' not in page
        assert f'<li><a href="{change_url(line)}">Test campaign' in page


def test_the_results_page_names_the_time_zone(admin_client, line, settings):
    settings.TIME_ZONE = "America/New_York"
    page = admin_client.get(change_url(line, "stats")).content.decode()
    assert re.search(r'id="ctc-time-zone">America/New_York \(E[SD]T, UTC-0[45]00\)<', page)


def test_favicon_is_not_a_404(client):
    response = client.get("/favicon.ico", follow=True)
    assert response.status_code == 200 and "svg" in response["Content-Type"]


# Blocklist


def test_the_blocklist_counts_entries_in_plain_words(admin_client):
    from clicktocall.models import BlockEntry

    BlockEntry.objects.create(value="+16175232338")
    BlockEntry.objects.create(value="+16175232339")
    page = admin_client.get(reverse("admin:clicktocall_blockentry_changelist")).content.decode()
    assert "2 blocklist entries" in page


def test_a_blocklist_date_without_a_time_means_the_end_of_that_day(admin_client, settings):
    from clicktocall.models import BlockEntry

    settings.TIME_ZONE = "America/New_York"
    add = reverse("admin:clicktocall_blockentry_add")
    page = admin_client.get(add).content.decode()
    assert "Hits" not in page and "last hit" not in page.lower()
    data = {"kind": "phone", "value": "617-523-2338", "reason": "other", "note": "", "expires_at_0": "2026-12-24"}
    response = admin_client.post(add, {**data, "expires_at_1": ""})
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = BlockEntry.objects.get()
    from django.utils import timezone

    local = timezone.localtime(entry.expires_at)
    assert (local.date().isoformat(), local.hour, local.minute) == ("2026-12-24", 23, 59)


def test_a_csv_import_of_numbers_counts_added_updated_and_invalid(admin_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from clicktocall.models import BlockEntry

    BlockEntry.objects.create(value="+16175232338", reason="abuse")
    BlockEntry.objects.create(value="+16175232339", reason="opt-out")
    text = (
        "phone,name\n(617) 523-2338,Ann\n617.523.2339,Bob\n+1 202 555 0143,Cy\n"
        "not a number,Dee\n12,Ed\n202-555-0143,dup\n"
    )
    upload = SimpleUploadedFile("dnc.csv", text.encode(), content_type="text/csv")
    url = reverse("admin:clicktocall_blockentry_import")
    response = admin_client.post(url, {"file": upload, "reason": "other", "note": "DNC list"}, follow=True)
    page = response.content.decode()
    assert "1 added, 2 updated, 2 invalid" in page and "Row 5: not a number" in page
    entries = dict(BlockEntry.objects.values_list("value", "reason"))
    assert entries == {"+16175232338": "other", "+16175232339": "opt-out", "+12025550143": "other"}
    bad = SimpleUploadedFile("x.bin", b"\xff\xfe\x00" * 10, content_type="application/octet-stream")
    assert admin_client.post(url, {"file": bad, "reason": "other"}).status_code == 200
    huge = SimpleUploadedFile("huge.csv", b'"' + b"1" * 200_000 + b'"\n', content_type="text/csv")
    page = admin_client.post(url, {"file": huge, "reason": "other"}).content.decode()
    assert "This file cannot be read as CSV" in page
