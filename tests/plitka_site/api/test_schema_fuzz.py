"""Schemathesis against the live schema of a real server (gunicorn, DEBUG=0, the test
database, real Redis) with every check: no request it generates may get a 5xx or an answer
the schema does not document (status, content type, headers, body); a request the schema
allows is accepted and one it forbids is refused (see schemathesis.toml for the one
exception); authentication is never ignored. Seeded and bounded, so a failure reproduces
with the same seed."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest
import redis
from django.conf import settings
from django.core.management import call_command

from tests.conftest import key_client
from tests.loopback import ROOT, gunicorn_server, redis_test_db, shared_database_url

BIN = Path(sys.executable).parent
SEED = 1
MAX_EXAMPLES = 40
# Every check (positive and negative data, auth, use after free, ...), as configured there.
CONFIG = Path(__file__).with_name("schemathesis.toml")
FUZZ_REDIS_DB = redis_test_db("fuzz")  # flushed: the submits' messages go nowhere


@pytest.fixture
def server(transactional_db, demo_catalog, tmp_path) -> Iterator[str]:
    redis_url = urlunparse(urlparse(settings.REDIS_URL)._replace(path=f"/{FUZZ_REDIS_DB}"))
    redis.Redis.from_url(redis_url).flushdb()
    env = {
        "DATABASE_URL": shared_database_url(),
        "REDIS_URL": redis_url,
        "PLITKA_VAR_DIR": str(tmp_path),
        "STATIC_ROOT": str(tmp_path / "static"),
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",
        "SECRET_KEY": "fuzz-only-secret-key-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        # `?wait=` is parsed and bounded as always, then answered at once (as when every
        # waiting slot is taken): a long poll on a job no worker runs would hold each
        # generated request up to 30 s. The long poll itself: tests/renders/test_poll.py.
        "API_LONG_POLL_WAITERS": "0",
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
    )
    log = tmp_path / "server.log"
    try:
        with gunicorn_server(env=env, log=log) as url:
            yield url
    finally:
        redis.Redis.from_url(redis_url).flushdb()
    server_log = log.read_text()
    assert "Traceback" not in server_log, server_log[-5000:]


def test_no_generated_request_gets_a_5xx_or_an_undocumented_answer(server, tmp_path):
    client = key_client("fuzz", "render", rate_limit="1000000/min")
    call_command("check")  # the schema's own source is sound before it is fuzzed
    result = subprocess.run(
        [
            *(str(BIN / "st"), "--config-file", str(CONFIG)),
            *("run", f"{server}/api/schema/", "--url", server),
            *("-H", f"Authorization: Api-Key {client.plaintext}"),
            *("--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED)),
            # The same requests every run: no worker interleaving, no example database (the
            # deterministic mode keeps none), no random variation: CI never passes by chance.
            *("--workers", "1", "--generation-deterministic"),
            "--no-color",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
