"""Webhooks to the campaign's systems, with a real receiver on loopback and the task worker.

The signature is verified with the ``standardwebhooks`` library; failed tries are
retried with the same ``webhook-id``; a 4xx is final; loopback is refused unless allowed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from clicktocall import lifecycle
from clicktocall.events import delivery as events
from clicktocall.events import transport
from clicktocall.events.models import WebhookDelivery, WebhookEndpoint
from clicktocall.models import CallAttempt, CallLeg, CampaignLine

from .contract import PHONE, VALID
from .webhook_receiver import Receiver

# The worker closes connections left in a transaction, so these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)

ALL_EVENTS = ["attempt.created", "call.placed", "call.status_changed", "call.completed", "caller.opted_out"]


@pytest.fixture(autouse=True)
def worker_settings(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.CLICKTOCALL_WEBHOOK_BACKOFF = 0
    settings.CLICKTOCALL_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    return settings


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


def endpoint_for(receiver: Receiver, events=("attempt.created",), **fields) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(url=receiver.url, events=list(events), **fields)


def run_worker() -> None:
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0", verbosity=0)


def ask_and_deliver(client) -> None:
    """A visitor asks for a call; then the worker runs every task there is."""
    assert client.post("/outgoing", VALID).status_code == 200
    run_worker()


def verified(endpoint: WebhookEndpoint, received) -> dict:
    return Webhook(endpoint.secret).verify(received.body, received.headers)


def test_an_accepted_request_is_delivered_by_the_worker_signed_as_standard_webhooks(client, line, receiver):
    endpoint = endpoint_for(receiver, ALL_EVENTS)

    r = client.post("/outgoing", {**VALID, "name": "Ada Lovelace", "email": "ada@example.org", "zip": "02113"})

    assert r.status_code == 200
    assert receiver.received == []  # nothing is sent in the visitor's request
    run_worker()

    events_seen = [verified(endpoint, got) for got in receiver.received]
    assert sorted(e["type"] for e in events_seen) == ["attempt.created", "call.placed", "call.status_changed"]
    created = next(e for e in events_seen if e["type"] == "attempt.created")
    attempt = CallAttempt.objects.get()
    assert created["data"]["attempt_id"] == attempt.pk
    assert created["data"]["name"] == "Ada Lovelace" and created["data"]["email"] == "ada@example.org"
    assert created["data"]["phone"] == PHONE and created["data"]["variables"] == {"zip": "02113"}
    assert created["data"]["line"]["phone_number"] == line.phone_number
    assert receiver.received[0].path == "/hooks/crm?source=ctc"
    assert receiver.received[0].headers["Content-Type"] == "application/json"
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {"succeeded"}
    # A body altered on the way fails the check.
    tampered = receiver.received[0].body.replace(b"Ada", b"Eve")
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint.secret).verify(tampered, receiver.received[0].headers)


def test_a_500_is_retried_with_the_same_webhook_id_until_it_succeeds(client, line, receiver):
    receiver.answers = [(500, 0), (503, 0), (200, 0)]
    endpoint = endpoint_for(receiver)

    ask_and_deliver(client)

    assert len(receiver.received) == 3
    ids = {got.headers["webhook-id"] for got in receiver.received}
    assert len(ids) == 1 and ids == {WebhookDelivery.objects.get().message_id}
    assert [got.at for got in receiver.received] == sorted(got.at for got in receiver.received)
    assert len({got.body for got in receiver.received}) == 1
    for got in receiver.received:
        verified(endpoint, got)
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "succeeded" and delivery.tries == 3 and delivery.response_status == 200
    assert delivery.delivered_at is not None
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None  # the success ends the failing spell


def test_a_timeout_is_retried_with_the_same_webhook_id(client, line, receiver):
    receiver.answers = [(200, 2.5), (200, 0)]  # the first answer comes after the endpoint's timeout
    endpoint_for(receiver, timeout=1)

    ask_and_deliver(client)

    assert len(receiver.received) == 2
    assert receiver.received[0].headers["webhook-id"] == receiver.received[1].headers["webhook-id"]
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "succeeded" and delivery.tries == 2


def test_a_429_is_retried(client, line, receiver):
    receiver.answers = [(429, 0), (204, 0)]
    endpoint_for(receiver)

    ask_and_deliver(client)

    assert len(receiver.received) == 2
    assert WebhookDelivery.objects.get().state == "succeeded"


@pytest.mark.parametrize("status", [400, 401, 404, 410, 422])
def test_a_4xx_is_final(client, line, receiver, status):
    receiver.answers = [(status, 0), (200, 0)]
    endpoint = endpoint_for(receiver)

    ask_and_deliver(client)

    assert len(receiver.received) == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "failed" and delivery.tries == 1 and delivery.response_status == status
    assert delivery.last_error.startswith(f"HTTP {status}")
    endpoint.refresh_from_db()
    assert endpoint.failing_since is not None and endpoint.paused_at is None


def test_retries_stop_at_the_end_of_the_retry_period(settings, client, line, receiver):
    settings.CLICKTOCALL_WEBHOOK_BACKOFF = 1
    settings.CLICKTOCALL_WEBHOOK_RETRY_PERIOD = 0  # the next try would come after the period
    receiver.answers = [(500, 0), (200, 0)]
    endpoint_for(receiver)

    ask_and_deliver(client)

    assert len(receiver.received) == 1
    assert WebhookDelivery.objects.get().state == "failed"


def test_loopback_is_refused_unless_allowed(settings, client, line, receiver):
    settings.CLICKTOCALL_WEBHOOK_ALLOWED_HOSTS = []
    settings.DEBUG = True  # http allowed; the address is what is refused
    endpoint_for(receiver)

    ask_and_deliver(client)

    assert receiver.received == []
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "failed" and delivery.tries == 1  # final: no retry
    assert "127.0.0.1, which is not a public address" in delivery.last_error


def test_a_name_resolving_to_loopback_is_refused(settings, client, line, receiver):
    settings.CLICKTOCALL_WEBHOOK_ALLOWED_HOSTS = []
    settings.DEBUG = True  # http allowed; the address is what is refused
    port = receiver.server.server_address[1]
    endpoint_for(receiver).__class__.objects.update(url=f"http://localhost:{port}/hook")

    ask_and_deliver(client)

    assert receiver.received == []
    assert "localhost resolves to" in WebhookDelivery.objects.get().last_error


@pytest.mark.parametrize(
    "address, public",
    [
        ("93.184.215.14", True),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("fd00:ec2::254", False),
        ("::1", False),
        ("fe80::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("ff02::1", False),
        ("240.0.0.1", False),
    ],
)
def test_only_global_unicast_addresses_are_public(address, public):
    assert transport.is_public(address) is public


def test_the_connection_goes_to_the_address_that_was_checked(settings, monkeypatch, receiver):
    """A name that resolves once to a public address is not looked up again when connecting."""
    settings.CLICKTOCALL_WEBHOOK_ALLOWED_HOSTS = ["hooks.example.org"]
    lookups = []
    real = transport.socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        lookups.append(host)
        return real("127.0.0.1" if host == "hooks.example.org" else host, port, *args, **kwargs)

    monkeypatch.setattr(transport.socket, "getaddrinfo", getaddrinfo)
    port = receiver.server.server_address[1]
    answer = transport.post(f"http://hooks.example.org:{port}/in", b"{}", {}, timeout=2)
    assert answer.status == 200
    assert lookups.count("hooks.example.org") == 1
    assert receiver.received[0].headers["Host"] == f"hooks.example.org:{port}"


def test_an_endpoint_failing_for_the_retry_period_is_paused(client, line, receiver):
    receiver.answers = [(500, 0)]
    endpoint = endpoint_for(receiver)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now() - timedelta(days=1, seconds=1))

    ask_and_deliver(client)

    endpoint.refresh_from_db()
    assert endpoint.paused_at is not None
    assert len(receiver.received) == 1  # the pending retry is not sent to a paused endpoint
    assert WebhookDelivery.objects.get().state == "failed"
    # A paused endpoint is no longer subscribed: the next request queues nothing for it.
    tasks = DBTaskResult.objects.count()
    client.post("/outgoing", {**VALID, "phone": "617-523-0001"})
    assert DBTaskResult.objects.count() == tasks
    events.resume(endpoint)
    assert events.wanted("attempt.created", line.pk)


def test_staff_can_resend_a_failed_delivery_with_the_same_id(client, line, receiver):
    receiver.answers = [(400, 0), (200, 0)]
    endpoint_for(receiver)
    ask_and_deliver(client)
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "failed"

    assert events.resend(delivery)
    run_worker()

    delivery.refresh_from_db()
    assert delivery.state == "succeeded" and delivery.tries == 2
    assert receiver.received[0].headers["webhook-id"] == receiver.received[1].headers["webhook-id"]


def test_a_delivery_run_twice_is_sent_once(line, receiver):
    endpoint = endpoint_for(receiver)
    attempt = CallAttempt.objects.create(line=line, phone=PHONE, outcome="placed")
    events.fan_out.call([["attempt.created", attempt.pk, "2026-11-30T12:00:00Z", {}]])
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)

    assert events.deliver.call(delivery.pk) == "delivered"
    assert events.deliver.call(delivery.pk) == "skipped"
    assert len(receiver.received) == 1


def test_an_endpoint_at_its_concurrency_cap_makes_the_delivery_wait(line, receiver):
    endpoint = endpoint_for(receiver, max_concurrent=1)
    attempt = CallAttempt.objects.create(line=line, phone=PHONE, outcome="placed")
    events.fan_out.call([["attempt.created", attempt.pk, "2026-11-30T12:00:00Z", {}]])
    events.fan_out.call([["attempt.created", attempt.pk, "2026-11-30T12:00:01Z", {}]])
    first, second = WebhookDelivery.objects.filter(endpoint=endpoint).order_by("pk")
    WebhookDelivery.objects.filter(pk=first.pk).update(state="sending", last_tried_at=timezone.now())

    assert events.deliver.call(second.pk) == "waiting"

    assert receiver.received == []
    second.refresh_from_db()
    assert second.state == "pending" and second.tries == 0
    later = DBTaskResult.objects.filter(
        task_path="clicktocall.events.delivery.deliver", run_after__gt=timezone.now(), run_after__year__lt=9999
    )
    assert [task.args_kwargs["args"] for task in later] == [[second.pk]]


def test_without_personal_data_the_number_is_a_keyed_hash(line, receiver):
    endpoint = endpoint_for(receiver, include_personal_data=False)
    attempt = CallAttempt.objects.create(
        line=line, phone=PHONE, name="Ada", email="ada@example.org", variables={"zip": "02113"}, outcome="placed"
    )
    events.fan_out.call([["attempt.created", attempt.pk, "2026-11-30T12:00:00Z", {}]])
    events.deliver.call(WebhookDelivery.objects.get().pk)

    data = verified(endpoint, receiver.received[0])["data"]
    assert not {"name", "email", "phone", "variables"} & set(data)
    assert data["phone_hash"] == hmac.new(endpoint.secret.encode(), PHONE.encode(), hashlib.sha256).hexdigest()
    assert b"ada@example.org" not in receiver.received[0].body and PHONE.encode() not in receiver.received[0].body


def test_an_endpoint_restricted_to_lines_gets_only_their_events(client, line, receiver):
    other = CampaignLine.objects.create(phone_number="+18005550100", name="Other")
    endpoint = endpoint_for(receiver)
    endpoint.lines.set([other])

    client.post("/outgoing", VALID)

    assert DBTaskResult.objects.filter(task_path="clicktocall.events.delivery.fan_out").count() == 0
    endpoint.lines.set([line])
    client.post("/outgoing", {**VALID, "phone": "617-523-0001"})
    assert DBTaskResult.objects.filter(task_path="clicktocall.events.delivery.fan_out").count() == 1


def test_call_completed_carries_the_duration_and_the_target_legs(line, targets, receiver):
    endpoint = endpoint_for(receiver, ["call.completed", "call.status_changed"])
    attempt = CallAttempt.objects.create(line=line, phone=PHONE, outcome="placed", status="in-progress")
    CallLeg.objects.create(
        attempt=attempt,
        target=targets[0],
        target_name="Sen. Warren",
        target_number="+12022244543",
        status=CallLeg.Status.COMPLETED,
        duration=42,
    )

    lifecycle.advance(attempt, "completed", duration=95)
    run_worker()

    by_type = {e["type"]: e["data"] for e in (verified(endpoint, got) for got in receiver.received)}
    assert set(by_type) == {"call.completed", "call.status_changed"}
    assert by_type["call.status_changed"]["old_status"] == "in-progress"
    assert by_type["call.status_changed"]["new_status"] == "completed"
    completed = by_type["call.completed"]
    assert completed["duration"] == 95 and completed["status"] == "completed"
    assert completed["legs"] == [
        {
            "position": 0,
            "target_id": targets[0].pk,
            "target_name": "Sen. Warren",
            "target_number": "+12022244543",
            "status": CallLeg.Status.COMPLETED,
            "duration": 42,
        }
    ]


def test_a_larger_body_than_allowed_leaves_out_the_variables(settings, line, receiver):
    settings.CLICKTOCALL_WEBHOOK_MAX_BYTES = 1024
    endpoint_for(receiver)
    attempt = CallAttempt.objects.create(line=line, phone=PHONE, outcome="placed", variables={"note": "x" * 3000})
    events.fan_out.call([["attempt.created", attempt.pk, "2026-11-30T12:00:00Z", {}]])

    body = WebhookDelivery.objects.get().body
    assert len(body.encode()) <= 1024
    data = json.loads(body)["data"]
    assert data["variables"] == {} and data["variables_omitted"] is True


def test_a_queue_that_is_down_does_not_break_the_request(settings, client, line, receiver):
    settings.TASKS = {"default": {"BACKEND": "tests.test_placement.UnavailableQueue"}}
    endpoint_for(receiver)

    r = client.post("/outgoing", VALID)

    assert r.status_code == 200 and r.json()["error"] is False


def test_pressing_9_sends_caller_opted_out(client, line, receiver):
    from django.urls import reverse

    from .twilio_signing import signed_post

    endpoint = endpoint_for(receiver, ["caller.opted_out"])
    attempt = CallAttempt.objects.create(line=line, phone=PHONE, outcome="placed", provider_call_id="CA1")
    url = "https://calls.example.org" + reverse("clicktocall:twilio-gather", kwargs={"token": attempt.token})

    assert signed_post(client, url, {"Digits": "9", "CallSid": "CA1"}).status_code == 200
    run_worker()

    [event] = [verified(endpoint, got) for got in receiver.received]
    assert event["type"] == "caller.opted_out" and event["data"]["attempt_id"] == attempt.pk
    assert event["data"]["phone"] == PHONE


@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate for ``localhost`` (openssl), and its key."""
    import shutil
    import subprocess

    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )
    return str(cert), str(key)


def test_https_is_verified_against_the_host_name(settings, monkeypatch, certificate):
    """The connection goes to the checked address, and the certificate must be the host name's."""
    import urllib3

    settings.CLICKTOCALL_WEBHOOK_ALLOWED_HOSTS = ["localhost", "hooks.example.org"]
    server = Receiver(tls=certificate).start()
    url = f"https://localhost:{server.server.server_address[1]}/in"
    try:
        with pytest.raises(urllib3.exceptions.SSLError):  # a certificate nobody vouches for
            transport.post(url, b"{}", {}, timeout=5)
        monkeypatch.setenv("SSL_CERT_FILE", certificate[0])  # now trusted
        assert transport.post(url, b"{}", {}, timeout=5).status == 200
        real = transport.socket.getaddrinfo
        monkeypatch.setattr(transport.socket, "getaddrinfo", lambda host, *a, **k: real("127.0.0.1", *a, **k))
        with pytest.raises(urllib3.exceptions.SSLError):  # the right address, but not the name's certificate
            transport.post(url.replace("localhost", "hooks.example.org"), b"{}", {}, timeout=5)
    finally:
        server.stop()
    assert len(server.received) == 1


def test_with_tasks_run_at_once_nothing_is_sent_in_the_visitors_request(settings, client, line, receiver):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    endpoint_for(receiver, ALL_EVENTS)

    assert client.post("/outgoing", VALID).json()["error"] is False

    assert receiver.received == []
    deliveries = WebhookDelivery.objects.all()
    assert {d.event for d in deliveries} == {"attempt.created", "call.placed", "call.status_changed"}
    assert {(d.state, d.tries) for d in deliveries} == {("pending", 0)}
    assert all(d.last_error.startswith("waiting for a task worker") for d in deliveries)


def test_an_unexpected_error_is_retried_not_left_sending(monkeypatch, line, receiver):
    endpoint_for(receiver)
    attempt = CallAttempt.objects.create(line=line, phone=PHONE, outcome="placed")
    events.fan_out.call([["attempt.created", attempt.pk, "2026-11-30T12:00:00Z", {}]])
    delivery = WebhookDelivery.objects.get()

    def broken(*args, **kwargs):
        raise ValueError("a bug in the transport")

    monkeypatch.setattr(transport, "post", broken)
    assert events.deliver.call(delivery.pk) == "retrying"
    delivery.refresh_from_db()
    assert delivery.state == "pending" and delivery.tries == 1 and "a bug in the transport" in delivery.last_error
