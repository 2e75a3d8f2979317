"""Quotas and rate limits hold when requests arrive at once, on a real server of several
processes (issue 11: twelve parallel submits on a key with quota 3 made 11 or 12 jobs)."""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from renders.models import RenderJob
from tests.conftest import key_client
from tests.loopback import gunicorn_server, shared_database_url

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"
PARALLEL = 12


@pytest.fixture
def server(transactional_db, demo_catalog, broker, broker_url, tmp_path) -> Iterator[str]:
    log = tmp_path / "server.log"
    env = {
        "DATABASE_URL": shared_database_url(),
        "REDIS_URL": broker_url,
        "PLITKA_VAR_DIR": str(tmp_path),
    }
    with gunicorn_server(env=env, log=log, threads=6) as url:
        yield url
    # Whatever the answers were, the server must not have logged an error.
    output = log.read_text()
    assert "Traceback" not in output, output[-5000:]


def _call(url: str, key: str, body: dict | None = None) -> tuple[int, dict[str, str]]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url,
        data=data,
        headers={"Authorization": f"Api-Key {key}", "Content-Type": "application/json"},
        method="POST" if data else "GET",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, dict(answer.headers)
    except urllib.error.HTTPError as refused:
        return refused.code, dict(refused.headers)


def _at_once(calls) -> list[tuple[int, dict[str, str]]]:
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        return list(pool.map(lambda call: call(), calls))


def test_parallel_submits_never_pass_the_daily_quota(server):
    client = key_client("small-shop", "render", render_quota_per_day=3)
    url = f"{server}/api/v1/renders/"
    bodies = [
        {"product": "SQ-500-30", "recipe": "RED:60,BLACK:40", "seed": seed, "size": 256}
        for seed in range(PARALLEL)
    ]
    answers = _at_once([lambda b=b: _call(url, client.plaintext, b) for b in bodies])
    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] * 3 + [429] * (PARALLEL - 3), statuses
    assert RenderJob.objects.filter(client_id=client.api_key.client_id).count() == 3
    for status, headers in answers:
        if status == 429:
            assert 1 <= int(headers["Retry-After"]) <= 86_400


def test_parallel_requests_never_pass_the_rate_limit(server):
    # Per day, so no window turns during the burst.
    client = key_client("tight", "read", rate_limit="5/day")
    url = f"{server}/api/v1/colors/"
    answers = _at_once([lambda: _call(url, client.plaintext)] * PARALLEL)
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] * 5 + [429] * (PARALLEL - 5), statuses
    assert all(int(h["Retry-After"]) >= 1 for s, h in answers if s == 429)


def test_two_hundred_identical_submits_at_once_make_one_job(server):
    client = key_client("busy-shop", "render", rate_limit="100000/min")
    url = f"{server}/api/v1/renders/"
    body = {"product": "SQ-500-30", "recipe": "RED:60,BLACK:40", "size": 256}
    with ThreadPoolExecutor(max_workers=48) as pool:
        answers = list(pool.map(lambda _: _call(url, client.plaintext, body), range(200)))
    statuses = sorted(status for status, _ in answers)
    # One request made the job (201); every other one was answered with it (200).
    assert statuses == [200] * 199 + [201], statuses
    assert RenderJob.objects.count() == 1
