"""The web process's gunicorn worker (plitka_site/web_worker.py), run as production runs it.

The long poll giving its turn back is tested with the poll: tests/renders/test_poll.py."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from plitka_site.env import ConfigError, web_requests_at_once
from tests.loopback import ROOT, gunicorn_server

ONE_TURN = {"GUNICORN_REQUESTS_AT_ONCE": "1"}


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def test_a_silent_connection_waits_in_the_lobby_not_in_the_only_turn(tmp_path):
    env = {"PLITKA_VAR_DIR": str(tmp_path), **ONE_TURN}
    with gunicorn_server(env=env, log=tmp_path / "server.log", processes=1, threads=2) as url:
        # A browser's spare preconnected socket: open, nothing sent yet.
        silent = socket.create_connection(("127.0.0.1", _port(url)))
        closed_at_once = socket.create_connection(("127.0.0.1", _port(url)))
        closed_at_once.close()
        try:
            # The one turn serves others meanwhile; held by the silent socket, this would wait
            # for the socket's read timeout (10 s) and fail here.
            with urllib.request.urlopen(f"{url}/static/admin/css/base.css", timeout=5) as answer:
                assert answer.status == 200
            # When the request comes, the lobby hands the connection to a turn.
            silent.settimeout(10)
            silent.sendall(b"GET /static/admin/css/base.css HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            head = silent.recv(64)
            assert head.startswith(b"HTTP/1.1 200"), head
        finally:
            silent.close()


@pytest.mark.parametrize(
    ("threads", "at_once", "named"),
    [("8", "0", "GUNICORN_REQUESTS_AT_ONCE=0"), ("2", "3", "must be 1..GUNICORN_THREADS (2)")],
)
def test_requests_at_once_must_fit_the_threads(monkeypatch, threads, at_once, named):
    monkeypatch.setenv("GUNICORN_THREADS", threads)
    monkeypatch.setenv("GUNICORN_REQUESTS_AT_ONCE", at_once)
    with pytest.raises(ConfigError, match=named.replace("(", r"\(").replace(")", r"\)")):
        web_requests_at_once()


def test_fewer_threads_than_the_default_turns_lower_the_turns(monkeypatch):
    monkeypatch.setenv("GUNICORN_THREADS", "1")
    monkeypatch.delenv("GUNICORN_REQUESTS_AT_ONCE", raising=False)
    assert web_requests_at_once() == 1


def test_more_long_poll_slots_than_spare_threads_stop_the_start():
    env = {
        **os.environ,
        "GUNICORN_THREADS": "8",
        "GUNICORN_REQUESTS_AT_ONCE": "2",
        "API_LONG_POLL_WAITERS": "7",
    }
    started = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "plitka_site.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode != 0
    assert "API_LONG_POLL_WAITERS=7 must be 0..6" in started.stderr


def test_a_turn_held_past_the_timeout_gets_the_process_replaced(tmp_path):
    """As with sync workers: a request stuck in its turn stops the heartbeat, so the arbiter
    replaces the process instead of leaving it wedged."""
    env = {"PLITKA_VAR_DIR": str(tmp_path), "GUNICORN_TIMEOUT": "2", **ONE_TURN}
    log = tmp_path / "server.log"
    with gunicorn_server(env=env, log=log, processes=1, threads=2) as url:
        # A request whose head never ends: the turn reads it for 10 s, past the 2 s timeout.
        stuck = socket.create_connection(("127.0.0.1", _port(url)))
        try:
            stuck.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            deadline = time.monotonic() + 20
            while "WORKER TIMEOUT" not in log.read_text():
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
            # The replacement serves.
            with urllib.request.urlopen(f"{url}/static/admin/css/base.css", timeout=20) as answer:
                assert answer.status == 200
        finally:
            stuck.close()
    assert log.read_text().count("Booting worker") == 2
