"""API keys: shown once, stored hashed, revocable, scoped and rate-limited per key."""

from __future__ import annotations

import hashlib
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from plitka_site.apikeys.models import ApiKey
from plitka_site.apikeys.services import api_key_create, api_key_revoke, api_key_verify
from plitka_site.apikeys.throttling import throttle_counter
from plitka_site.redis_client import redis_client
from tests.conftest import key_client

pytestmark = pytest.mark.django_db


def test_the_plaintext_is_not_stored():
    issued = api_key_create(name="shop")
    stored = ApiKey.objects.get()
    secret = issued.plaintext.split("_", 2)[2]
    assert secret not in {stored.secret_hash, stored.prefix, stored.name}
    assert stored.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert api_key_verify(plaintext=issued.plaintext) == stored


@pytest.mark.parametrize(
    "mangle",
    [
        lambda k: k + "x",
        lambda k: k.replace("plk_", "abc_"),
        lambda k: k.split("_")[0],
        lambda k: "",
    ],
)
def test_wrong_keys_do_not_verify(mangle):
    issued = api_key_create(name="shop")
    assert api_key_verify(plaintext=mangle(issued.plaintext)) is None


def test_command_prints_the_key_once_and_it_works():
    out = StringIO()
    call_command("create_api_key", "storefront", "--scope", "render", stdout=out)
    plaintext = next(line for line in out.getvalue().splitlines() if line.startswith("plk_"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {plaintext}")
    assert client.get("/api/v1/colors/").status_code == 200
    assert ApiKey.objects.get().scope == "render"


def test_command_rejects_a_duplicate_name():
    api_key_create(name="storefront")
    with pytest.raises(Exception, match="already exists"):
        call_command("create_api_key", "storefront", stdout=StringIO())


def test_no_credentials_is_401_with_the_scheme():
    response = APIClient().get("/api/v1/colors/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Api-Key"
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_revoked_key_is_refused():
    client = key_client("gone", "read")
    api_key_revoke(api_key=client.api_key)
    response = client.get("/api/v1/colors/")
    assert response.status_code == 401
    assert "revoked" in response.json()["error"]["message"]


def test_an_empty_key_is_explained():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Api-Key ")
    assert "no key" in client.get("/api/v1/colors/").json()["error"]["message"]


def test_each_key_has_its_own_rate_limit():
    tight = key_client("tight", "read", rate_limit="2/min")
    other = key_client("other", "read")
    assert tight.get("/api/v1/colors/").status_code == 200
    assert tight.get("/api/v1/colors/").status_code == 200
    throttled = tight.get("/api/v1/colors/")
    assert throttled.status_code == 429
    assert throttled.json()["error"]["code"] == "throttled"
    assert "Retry-After" in throttled
    assert other.get("/api/v1/colors/").status_code == 200


def test_invalid_rate_is_refused_at_creation():
    with pytest.raises(Exception, match="N/min"):
        api_key_create(name="bad", rate_limit="lots")


def test_last_used_is_recorded():
    client = key_client("used", "read")
    client.get("/api/v1/colors/")
    client.api_key.refresh_from_db()
    assert client.api_key.last_used_at is not None


def test_admin_can_revoke_but_not_add(staff_user):
    issued = api_key_create(name="to-revoke")
    staff_client = Client()
    staff_client.force_login(staff_user)
    changelist = staff_client.get("/admin/apikeys/apikey/").content.decode()
    assert "/admin/apikeys/apikey/add/" not in changelist
    staff_client.post(
        "/admin/apikeys/apikey/",
        {"action": "revoke", "_selected_action": [issued.api_key.pk]},
    )
    issued.api_key.refresh_from_db()
    assert issued.api_key.revoked_at is not None


def test_demo_access_is_idempotent_and_prints_a_working_key(tmp_path, settings):
    settings.VAR_DIR = tmp_path
    first, second = StringIO(), StringIO()
    call_command("demo_access", stdout=first)
    call_command("demo_access", stdout=second)
    key = first.getvalue().split("Demo API key: ")[1].strip()
    assert key in second.getvalue()
    assert api_key_verify(plaintext=key) is not None
    assert ApiKey.objects.count() == 1


def test_a_verified_key_is_remembered_briefly_and_forgotten_when_it_changes(
    django_assert_num_queries,
):
    issued = api_key_create(name="poller")
    assert api_key_verify(plaintext=issued.plaintext) is not None
    with django_assert_num_queries(0):  # a polling client costs no key lookup
        assert api_key_verify(plaintext=issued.plaintext) is not None
    api_key_revoke(api_key=issued.api_key)
    assert api_key_verify(plaintext=issued.plaintext) is None
    wrong = issued.plaintext[:-2] + "xx"
    assert api_key_verify(plaintext=wrong) is None


def test_a_generous_limit_costs_the_same_per_request_as_a_tight_one():
    """The throttle keeps two counters per key, not a timestamp per request."""
    busy = key_client("busy", "read", rate_limit="100000/min")
    for _ in range(30):
        assert busy.get("/api/v1/colors/").status_code == 200
    window = int(time.time() // 60)  # the minute may have turned during the loop
    redis = redis_client()
    counts = [redis.get(throttle_counter(busy.api_key, w)) for w in (window - 1, window)]
    assert sum(int(count or 0) for count in counts) == 30


def test_a_refused_request_is_not_counted_and_redis_away_lets_requests_pass(monkeypatch):
    tight = key_client("tight-2", "read", rate_limit="1/day")
    assert tight.get("/api/v1/colors/").status_code == 200
    for _ in range(3):
        assert tight.get("/api/v1/colors/").status_code == 429
    window = int(time.time() // 86400)
    assert int(redis_client().get(throttle_counter(tight.api_key, window)) or 0) == 1

    import redis as redis_lib

    def away(*_args, **_kwargs):
        raise redis_lib.ConnectionError("away")

    monkeypatch.setattr(redis_lib.client.Pipeline, "execute", away)
    assert tight.get("/api/v1/colors/").status_code == 200
