"""The admin of webhooks: endpoints with a secret shown once, the paused notice, resending deliveries."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.utils import timezone

from clicktocall.events.models import WebhookDelivery, WebhookEndpoint

from .webhook_receiver import Receiver

pytestmark = pytest.mark.django_db

ADD = "/admin/clicktocall/webhookendpoint/add/"
ENDPOINTS = "/admin/clicktocall/webhookendpoint/"
DELIVERIES = "/admin/clicktocall/webhookdelivery/"


def endpoint_form(**fields) -> dict:
    data = {
        "url": "https://crm.example.org/hooks/calls",
        "description": "Action Network",
        "events": ["attempt.created", "call.completed"],
        "is_active": "on",
        "include_personal_data": "on",
        "timeout": "10",
        "max_concurrent": "4",
    }
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


def test_a_new_endpoints_secret_is_shown_once(admin_client):
    r = admin_client.post(ADD, endpoint_form())

    assert r.status_code == 200, r.content.decode()[:2000]
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["attempt.created", "call.completed"]
    assert endpoint.secret.startswith("whsec_") and endpoint.secret in r.content.decode()
    assert "no-store" in r["Cache-Control"]
    page = admin_client.get(f"{ENDPOINTS}{endpoint.pk}/change/").content.decode()
    assert endpoint.secret not in page and endpoint.secret[-4:] in page


def test_replacing_the_secret_shows_the_new_one_once(admin_client):
    endpoint = WebhookEndpoint.objects.create(url="https://crm.example.org/h", events=["call.placed"])
    old = endpoint.secret

    assert admin_client.get(f"{ENDPOINTS}{endpoint.pk}/secret/").status_code == 405
    r = admin_client.post(f"{ENDPOINTS}{endpoint.pk}/secret/")

    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.secret in r.content.decode()
    assert admin_client.post(f"{ENDPOINTS}nope/secret/").status_code in (302, 403, 404)


def test_an_endpoint_needs_https_and_known_events(admin_client, settings):
    settings.DEBUG = False
    r = admin_client.post(ADD, endpoint_form(url="http://crm.example.org/h", events=["call.exploded"]))

    assert r.status_code == 200
    errors = r.context["adminform"].form.errors
    assert "url" in errors and "events" in errors
    assert not WebhookEndpoint.objects.exists()


def test_a_paused_endpoint_is_announced_on_both_lists(admin_client):
    WebhookEndpoint.objects.create(
        url="https://crm.example.org/h",
        description="Our CRM",
        events=["call.placed"],
        failing_since=timezone.now() - timezone.timedelta(days=1),
        paused_at=timezone.now(),
    )
    for page in (ENDPOINTS, DELIVERIES):
        messages = [str(m) for m in admin_client.get(page).context["messages"]]
        assert any("Our CRM" in m and "is paused" in m for m in messages), messages


def test_resuming_an_endpoint(admin_client):
    endpoint = WebhookEndpoint.objects.create(
        url="https://crm.example.org/h", events=["call.placed"], failing_since=timezone.now(), paused_at=timezone.now()
    )
    admin_client.post(ENDPOINTS, {"action": "resume", "_selected_action": [endpoint.pk]})
    endpoint.refresh_from_db()
    assert endpoint.paused_at is None and endpoint.failing_since is None


def test_staff_resend_a_failed_delivery(admin_client, settings, line, django_capture_on_commit_callbacks):
    settings.CLICKTOCALL_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    receiver = Receiver().start()
    try:
        endpoint = WebhookEndpoint.objects.create(url=receiver.url, events=["call.placed"])
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint, event="call.placed", body='{"type":"call.placed"}', state="failed", tries=3
        )
        assert 'value="resend"' in admin_client.get(DELIVERIES).content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            r = admin_client.post(DELIVERIES, {"action": "resend", "_selected_action": [delivery.pk]})
        assert r.status_code == 302
    finally:
        receiver.stop()
    delivery.refresh_from_db()
    assert delivery.state == "succeeded" and delivery.tries == 4
    assert [got.headers["webhook-id"] for got in receiver.received] == [delivery.message_id]


def test_resending_needs_the_right_to_change_endpoints(client, line):
    user = User.objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_webhookdelivery"))
    client.force_login(user)
    endpoint = WebhookEndpoint.objects.create(url="https://crm.example.org/h", events=["call.placed"])
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event="call.placed", body="{}", state="failed")

    page = client.get(DELIVERIES)
    assert page.status_code == 200 and 'value="resend"' not in page.content.decode()
    client.post(DELIVERIES, {"action": "resend", "_selected_action": [delivery.pk]})
    delivery.refresh_from_db()
    assert delivery.state == "failed"


@pytest.mark.parametrize(
    "name, value, code",
    [
        ("CLICKTOCALL_WEBHOOK_ALLOWED_HOSTS", "crm.internal", "clicktocall.E060"),
        ("CLICKTOCALL_WEBHOOK_ALLOWED_HOSTS", ["*"], "clicktocall.E060"),
        ("CLICKTOCALL_WEBHOOK_BACKOFF", "soon", "clicktocall.E061"),
        ("CLICKTOCALL_WEBHOOK_RETRY_PERIOD", -1, "clicktocall.E061"),
    ],
)
def test_webhook_settings_are_checked(settings, name, value, code):
    from django.core.checks import run_checks

    assert code not in {e.id for e in run_checks()}
    setattr(settings, name, value)
    assert code in {e.id for e in run_checks()}
