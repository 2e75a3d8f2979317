"""The web process as `make run` and production start it: gunicorn with the project's config."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return answer.status, answer.read()


def test_gunicorn_serves_the_site_and_its_static_files(tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
        "GUNICORN_THREADS": "2",
        "PLITKA_VAR_DIR": str(tmp_path),
    }
    server = subprocess.Popen(
        [str(GUNICORN), "-c", "plitka_site/gunicorn.conf.py", "plitka_site.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, body = _get(f"http://127.0.0.1:{port}/")
                break
            except OSError:
                assert server.poll() is None, server.communicate()[0]
                assert time.monotonic() < deadline, "gunicorn did not answer in 30 s"
                time.sleep(0.2)
        assert status == 200 and b"/admin/" in body
        # The admin's static files come from the web process (whitenoise), no collectstatic.
        status, css = _get(f"http://127.0.0.1:{port}/static/admin/css/base.css")
        assert status == 200 and len(css) > 1000
        assert _get(f"http://127.0.0.1:{port}/api/docs/")[0] == 200
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert "Booting worker" in output and output.count("Booting worker") == 2
