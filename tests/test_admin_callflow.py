"""The call flow in the admin: targets inline, the preview, target legs on the attempt."""

from __future__ import annotations

import pytest
from django.urls import reverse

from clicktocall.models import CallAttempt, CallLeg, Target

from .conftest import line_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def scripted(line):
    line.script = "Hello {{ name }} near {{ zip }}, about {{ bill }}. <script>alert(1)</script>"
    line.save()
    Target.objects.create(line=line, position=1, name="Office B", phone_number="+12025550101")
    Target.objects.create(line=line, position=0, name="Office A", phone_number="+12025550100", extension="55")
    return line


def test_line_page_has_script_fields_targets_and_preview(admin_client, scripted):
    response = admin_client.get(reverse("admin:clicktocall_campaignline_change", args=[scripted.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for field in ["script", "script_audio_url", "voice", "language", "closing_message", "human_check"]:
        assert f'name="{field}"' in html
    assert 'name="targets-TOTAL_FORMS"' in html
    assert html.index('value="Office A"') < html.index('value="Office B"')
    assert "Says: &quot;Hello Paul Revere near 02113, about . &lt;script&gt;alert(1)&lt;/script&gt;&quot;" in html
    assert "<script>alert(1)</script>" not in html
    assert "Dials +12025550100, then sends the digits 55" in html


def test_add_page_works_without_preview(admin_client):
    response = admin_client.get(reverse("admin:clicktocall_campaignline_add"))
    assert response.status_code == 200 and 'name="targets-TOTAL_FORMS"' in response.content.decode()


def test_targets_are_edited_inline(admin_client, line):
    url = reverse("admin:clicktocall_campaignline_change", args=[line.pk])
    data = line_form(
        phone_number=line.phone_number,
        name=line.name,
        script="Hi",
        script_audio_url="",
        closing_message="Bye",
    ) | {
        "targets-TOTAL_FORMS": "1",
        "targets-INITIAL_FORMS": "0",
        "targets-MIN_NUM_FORMS": "0",
        "targets-MAX_NUM_FORMS": "1000",
        "targets-0-position": "0",
        "targets-0-name": "Office A",
        "targets-0-phone_number": "+12025550100",
        "targets-0-extension": "ww12#",
        "targets-0-is_active": "on",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    target = line.targets.get()
    assert (target.name, target.phone_number, target.extension) == ("Office A", "+12025550100", "ww12#")


def test_preview_view_with_sample_variables(admin_client, scripted):
    url = reverse("admin:clicktocall_campaignline_call_preview", args=[scripted.pk])
    response = admin_client.get(url, {"name": "Ann", "bill": "H.R. 1", "other": "ignored"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="bill" value="H.R. 1"' in html and 'name="other"' not in html
    assert "Says: &quot;Hello Ann near 02113, about H.R. 1." in html
    assert "&lt;Dial action=" in html  # the TwiML itself
    assert html.index("Office A") < html.index("Office B")


def test_preview_needs_staff(client, scripted):
    url = reverse("admin:clicktocall_campaignline_call_preview", args=[scripted.pk])
    assert client.get(url).status_code == 302


def test_preview_of_unknown_line(admin_client):
    url = reverse("admin:clicktocall_campaignline_call_preview", args=[999999])
    assert admin_client.get(url).status_code == 404


def test_attempt_page_shows_lifecycle_and_legs(admin_client, line):
    attempt = CallAttempt.objects.create(
        line=line, phone="+16175232338", outcome="placed", status="completed", duration=99
    )
    CallLeg.objects.create(
        attempt=attempt, position=0, target_name="Office A", target_number="+12025550100", status="busy", duration=0
    )
    response = admin_client.get(reverse("admin:clicktocall_callattempt_change", args=[attempt.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for label in ["Answered", "Ended", "Duration (s)", "Call status"]:
        assert label in html
    assert "Office A" in html and "Busy" in html
