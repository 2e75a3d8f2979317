"""Webhooks (issue 12, item 6): registered by an API key, delivered signed when a render it
asked for finishes, retried with backoff, refused for private addresses (also after DNS and
on redirects), and every attempt logged."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone

from renders.models import RenderJob, RenderRequest, Webhook, WebhookDelivery
from renders.services.transitions import job_mark_failed
from renders.services.webhooks import (
    webhook_deliveries_create,
    webhook_deliveries_sweep,
    webhook_delivery_attempt,
    webhook_register,
)
from renders.webhook_transport import WebhookUrlRefused, webhook_signature, webhook_url_check
from tests.conftest import key_client
from tests.renders.conftest import wait_for

BODY = {"product": "SQ-500-30", "recipe": "RED:60,BLACK:40", "size": 256, "seed": 3}
TOLERANCE_S = 300  # the README's advice: refuse deliveries older than five minutes


def verify(secret: str, headers: Any, body: bytes) -> bool:
    """How a receiver checks a delivery, exactly as the README shows it."""
    timestamp = headers["Plitka-Timestamp"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    given = headers["Plitka-Signature"].removeprefix("v1=")
    fresh = abs(time.time() - int(timestamp)) < TOLERANCE_S
    return fresh and hmac.compare_digest(expected.hexdigest(), given)


@dataclass
class Receiver:
    """A webhook receiver on loopback that answers from a script and keeps what it got."""

    answers: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    hold_s: float = 0.0
    got: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""

    def next_answer(self) -> tuple[int, dict[str, str]]:
        return self.answers.pop(0) if self.answers else (200, {})


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.got.append((dict(self.headers), body))
            time.sleep(state.hold_s)
            status, headers = state.next_answer()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/plitka"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def public_only(settings):
    """Production's policy, with only the test receiver's address let through."""
    settings.WEBHOOK_ALLOW_PRIVATE = False
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.WEBHOOK_RETRY_FIRST_S = 0.2
    settings.WEBHOOK_TIMEOUT_S = 2.0
    return settings


def fake_dns(monkeypatch, answers: dict[str, str]) -> None:
    real = socket.getaddrinfo

    def lookup(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", lookup)


# --- the URL policy ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://hooks.example/", "only http and https"),
        ("http://user:pw@hooks.example/", "credentials"),
        ("http:///nohost", "no host"),
        ("http://127.0.0.2/", "127.0.0.2"),
        ("http://10.0.0.8/", "10.0.0.8"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("http://[::1]/", "::1"),
        ("http://[::ffff:192.168.1.1]/", "192.168.1.1"),
        ("http://0.0.0.0/", "0.0.0.0"),
        ("http://224.0.0.1/", "224.0.0.1"),
        ("http://hooks.example:99999/", "cannot be read"),
        ("http://hooks.example/ x", "without spaces"),
        ("http://" + "a" * 2000 + ".example/", "longer than 2000"),
    ],
)
def test_a_url_outside_the_policy_is_refused_with_the_reason(public_only, url, reason):
    with pytest.raises(WebhookUrlRefused, match=re.escape(reason)):
        webhook_url_check(url)


def test_the_check_is_made_on_what_the_name_resolves_to(public_only, monkeypatch):
    fake_dns(
        monkeypatch,
        {
            "inside.example": "10.1.2.3",
            "outside.example": "93.184.215.14",
            "me.example": "127.0.0.1",
        },
    )
    with pytest.raises(WebhookUrlRefused, match=re.escape("inside.example resolves to 10.1.2.3")):
        webhook_url_check("https://inside.example/hook")
    target = webhook_url_check("https://outside.example/hook?shop=1")
    assert [str(a) for a in target.addresses] == ["93.184.215.14"]
    assert (target.port, target.path) == (443, "/hook?shop=1")
    # An allowed network is allowed whatever name points at it.
    assert webhook_url_check("http://me.example:8080/").port == 8080


def test_an_unresolvable_host_is_refused(public_only):
    with pytest.raises(WebhookUrlRefused, match="does not resolve"):
        webhook_url_check("https://no-such-host.invalid/")


def test_in_debug_private_addresses_are_allowed(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    assert webhook_url_check("http://10.0.0.8/").host == "10.0.0.8"


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    secret, body = "whsec_test", b'{"id":"1"}'
    expected = hmac.new(b"whsec_test", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert webhook_signature(secret=secret, timestamp="1700000000", body=body) == f"v1={expected}"


# --- registering through the API ----------------------------------------------------------


def test_a_key_registers_lists_and_removes_its_webhooks(db, public_only, receiver):
    client = key_client("shop", "render")
    made = client.post("/api/v1/webhooks/", {"url": receiver.url}, format="json")
    assert made.status_code == 201, made.content
    hook = made.json()
    assert hook["url"] == receiver.url and hook["secret"].startswith("whsec_")
    listed = client.get("/api/v1/webhooks/").json()
    assert listed == [{"id": hook["id"], "url": receiver.url, "created_at": hook["created_at"]}]
    assert "secret" not in client.get(f"/api/v1/webhooks/{hook['id']}/").json()
    # Another key sees none of it.
    other = key_client("other", "render")
    assert other.get("/api/v1/webhooks/").json() == []
    assert other.get(f"/api/v1/webhooks/{hook['id']}/").status_code == 404
    assert other.delete(f"/api/v1/webhooks/{hook['id']}/").status_code == 404
    assert client.delete(f"/api/v1/webhooks/{hook['id']}/").status_code == 204
    assert client.get("/api/v1/webhooks/").json() == []
    assert Webhook.objects.get().removed_at is not None  # its deliveries' log stays


def test_bad_webhooks_are_400s_that_say_why(db, public_only, staff_client, settings):
    client = key_client("shop", "render")

    def refused(url: Any) -> str:
        answer = client.post("/api/v1/webhooks/", {"url": url}, format="json")
        assert answer.status_code == 400, answer.content
        return json.dumps(answer.json())

    assert "private, loopback" in refused("http://192.168.0.10/hook")
    assert "only http and https" in refused("file:///etc/passwd")
    assert "url" in refused(None)
    assert "2000" in refused("http://x.example/" + "a" * 2100)
    settings.WEBHOOKS_PER_KEY = 2
    for _ in range(2):
        assert client.post("/api/v1/webhooks/", {"url": "http://127.0.0.1:9/"}).status_code == 201
    assert "remove one first" in refused("http://127.0.0.1:9/")
    # A read-only key may not, and neither may a staff session (webhooks belong to keys).
    reader = key_client("reader", "read")
    assert reader.post("/api/v1/webhooks/", {"url": "http://127.0.0.1:9/"}).status_code == 403
    assert staff_client.post("/api/v1/webhooks/", {"url": "http://127.0.0.1:9/"}).status_code == 403


# --- delivering ------------------------------------------------------------------------------


def _finished_job_for(client: Any, submit: Any) -> RenderJob:
    job_id = submit(client).json()["id"]
    return RenderJob.objects.get(pk=job_id)


def _hook(client: Any, url: str) -> Webhook:
    return webhook_register(api_key=client.api_key, url=url, base_url="http://shop.test/")


def test_a_finished_job_makes_one_delivery_per_waiting_keys_webhook(
    db, demo_catalog, public_only, receiver, submit, broker
):
    a, b, gone = key_client("a", "render"), key_client("b", "render"), key_client("c", "render")
    hook_a, _hook_b = _hook(a, receiver.url), _hook(b, receiver.url)
    _hook(gone, receiver.url)
    job = _finished_job_for(a, submit)
    submit(b)
    submit(gone)
    RenderRequest.objects.filter(job=job, client_id=gone.api_key.client_id).update(
        withdrawn_at=timezone.now()
    )
    job_mark_failed(job, code="engine_error", message="boom on worker render1@host")
    deliveries = WebhookDelivery.objects.order_by("webhook__api_key__name")
    assert [d.webhook.api_key.name for d in deliveries] == ["a", "b"]
    assert webhook_deliveries_create(job=job) == []  # twice makes nothing new
    payload = json.loads(deliveries.get(webhook=hook_a).payload)
    # What the key itself reads from the API, worker names hidden.
    assert payload["id"] == str(job.pk) and payload["status"] == "failed"
    assert payload["error"] == {"code": "engine_error", "message": "boom on a worker"}
    assert payload["worker"] == ""


def test_retries_on_5xx_until_delivered_and_logs_each_attempt(
    db, demo_catalog, public_only, receiver, submit, broker
):
    client = key_client("shop", "render")
    hook = _hook(client, receiver.url)
    job = _finished_job_for(client, submit)
    job_mark_failed(job, code="x", message="y")
    delivery = WebhookDelivery.objects.get()
    receiver.answers = [(503, {}), (429, {"Retry-After": "1"})]
    assert webhook_delivery_attempt(delivery_id=str(delivery.pk)) == "retrying"
    assert webhook_delivery_attempt(delivery_id=str(delivery.pk)) == "skipped"  # not due yet
    delivery.refresh_from_db()
    assert delivery.next_attempt_at > timezone.now()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert webhook_delivery_attempt(delivery_id=str(delivery.pk)) == "retrying"
    delivery.refresh_from_db()
    # Retry-After is honoured when longer than the backoff (0.2 s, then 0.4 s).
    assert (delivery.next_attempt_at - timezone.now()).total_seconds() > 0.8
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert webhook_delivery_attempt(delivery_id=str(delivery.pk)) == "delivered"
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("delivered", 3, 200)
    assert [entry["status"] for entry in delivery.log] == [503, 429, 200]
    # Every attempt sent the same signed bytes.
    assert {body for _headers, body in receiver.got} == {delivery.payload.encode()}
    for headers, body in receiver.got:
        assert verify(hook.secret, headers, body)
        assert headers["Plitka-Event"] == "render.finished"
        assert headers["Plitka-Delivery"] == str(delivery.pk)


@pytest.mark.parametrize(
    ("answers", "outcome", "error"),
    [
        ([(404, {})], "failed", ""),
        ([(410, {})], "failed", ""),
        # A redirect is followed, and checked: 127.0.0.2 is loopback and not allowed.
        ([(307, {"Location": "http://127.0.0.2:9/elsewhere"})], "failed", "127.0.0.2"),
    ],
)
def test_other_answers_fail_at_once(
    db, demo_catalog, public_only, receiver, submit, answers, outcome, error
):
    client = key_client("shop", "render")
    _hook(client, receiver.url)
    job_mark_failed(_finished_job_for(client, submit), code="x", message="y")
    receiver.answers = list(answers)
    delivery = WebhookDelivery.objects.get()
    assert webhook_delivery_attempt(delivery_id=str(delivery.pk)) == outcome
    delivery.refresh_from_db()
    assert delivery.state == outcome and error in delivery.last_error


def test_a_redirect_to_an_allowed_place_is_followed(
    db, demo_catalog, public_only, receiver, submit
):
    client = key_client("shop", "render")
    _hook(client, receiver.url)
    job_mark_failed(_finished_job_for(client, submit), code="x", message="y")
    receiver.answers = [(308, {"Location": "/moved"}), (204, {})]
    delivery = WebhookDelivery.objects.get()
    assert webhook_delivery_attempt(delivery_id=str(delivery.pk)) == "delivered"
    assert len(receiver.got) == 2


def test_a_slow_receiver_is_cut_off_at_the_timeout_and_tried_again(
    db, demo_catalog, public_only, receiver, submit
):
    public_only.WEBHOOK_TIMEOUT_S = 0.5
    client = key_client("shop", "render")
    _hook(client, receiver.url)
    job_mark_failed(_finished_job_for(client, submit), code="x", message="y")
    receiver.hold_s = 3
    delivery = WebhookDelivery.objects.get()
    started = time.monotonic()
    assert webhook_delivery_attempt(delivery_id=str(delivery.pk)) == "retrying"
    assert time.monotonic() - started < 2
    delivery.refresh_from_db()
    assert delivery.last_status_code is None and delivery.last_error


def test_a_receiver_that_drips_bytes_is_cut_off_at_the_deadline(db, public_only):
    """Each read's timeout alone would let a server that sends a byte now and then hold the
    sender for minutes; the attempt's deadline ends it."""
    from renders.webhook_transport import webhook_post

    public_only.WEBHOOK_TIMEOUT_S = 0.6
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def drip() -> None:
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        for _ in range(40):
            try:
                conn.sendall(b"X")
            except OSError:
                break
            time.sleep(0.1)
        conn.close()

    threading.Thread(target=drip, daemon=True).start()
    started = time.monotonic()
    attempt = webhook_post(
        url=f"http://127.0.0.1:{listener.getsockname()[1]}/",
        secret="s",
        delivery_id="d",
        event="render.finished",
        body=b"{}",
    )
    assert time.monotonic() - started < 1.5
    assert attempt.status is None and attempt.retryable
    listener.close()


def test_the_sweep_sends_again_a_due_delivery_whose_message_was_lost(
    db, demo_catalog, public_only, receiver, submit, broker
):
    client = key_client("shop", "render")
    _hook(client, receiver.url)
    job_mark_failed(_finished_job_for(client, submit), code="x", message="y")
    delivery = WebhookDelivery.objects.get()
    long_ago = timezone.now() - timedelta(minutes=5)
    WebhookDelivery.objects.update(next_attempt_at=long_ago, dispatched_at=None)
    assert webhook_deliveries_sweep() == [str(delivery.pk)]
    assert broker.llen("webhooks") == 1
    assert webhook_deliveries_sweep() == []  # just sent: not again at once


def test_removing_a_webhook_fails_its_pending_deliveries(
    db, demo_catalog, public_only, receiver, submit
):
    client = key_client("shop", "render")
    hook = _hook(client, receiver.url)
    job_mark_failed(_finished_job_for(client, submit), code="x", message="y")
    assert client.delete(f"/api/v1/webhooks/{hook.pk}/").status_code == 204
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.last_error) == ("failed", "webhook removed")
    assert webhook_delivery_attempt(delivery_id=str(delivery.pk)) == "skipped"
    assert receiver.got == []


# --- end to end: the real worker renders, then delivers -------------------------------------


def test_a_render_is_delivered_signed_by_the_worker_after_a_failed_attempt(
    celery_worker_live, public_only, receiver, staff_client
):
    """Submit through the API; the Celery worker renders the job, then posts it to the
    key's webhook: the receiver answers 502 once, then 200, and verifies the signature."""
    client = key_client("shop", "render")
    secret = client.post("/api/v1/webhooks/", {"url": receiver.url}, format="json").json()["secret"]
    receiver.answers = [(502, {})]
    job_id = client.post("/api/v1/renders/", BODY, format="json").json()["id"]

    def delivered() -> WebhookDelivery | None:
        """the webhook delivery to succeed"""
        return WebhookDelivery.objects.filter(state="delivered").first()

    delivery = wait_for(delivered, timeout=90)
    assert delivery.attempts == 2 and [e["status"] for e in delivery.log] == [502, 200]
    assert len(receiver.got) == 2
    for headers, body in receiver.got:
        assert verify(secret, headers, body)
    sent = json.loads(receiver.got[-1][1])
    polled = client.get(f"/api/v1/renders/{job_id}/").json()
    assert sent == polled  # the very JSON the key reads from the API
    assert sent["status"] == "succeeded" and sent["result"]["image"].startswith("http://")
    # Staff see it in the admin, with each attempt.
    page = staff_client.get(f"/admin/renders/webhookdelivery/{delivery.pk}/change/")
    assert page.status_code == 200
    assert b"502" in page.content and b"delivered" in page.content
    listing = staff_client.get("/admin/renders/webhook/")
    assert receiver.url.encode() in listing.content


def test_only_a_worker_that_serves_a_render_queue_reports_itself_as_a_render_worker():
    from types import SimpleNamespace

    from renders.worker.heartbeat import serves_renders

    def worker(*queues: str) -> Any:
        return SimpleNamespace(
            app=SimpleNamespace(
                amqp=SimpleNamespace(
                    queues=SimpleNamespace(consume_from={name: None for name in queues})
                )
            )
        )

    assert not serves_renders(worker("webhooks"))
    assert serves_renders(worker("render.batch", "maintenance"))
    assert serves_renders(worker())  # no -Q: the default queue; counted, as before
