"""The web process as `make run` and production start it: gunicorn with the project's config."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.loopback import fetch, free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"


def test_gunicorn_serves_the_site_and_its_static_files(tmp_path):
    port = free_port()
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
        wait_for_port(port, server)
        status, body = fetch(f"http://127.0.0.1:{port}/")
        assert status == 200 and b"/admin/" in body
        # The admin's static files come from the web process (whitenoise), no collectstatic.
        status, css = fetch(f"http://127.0.0.1:{port}/static/admin/css/base.css")
        assert status == 200 and len(css) > 1000
        assert fetch(f"http://127.0.0.1:{port}/api/docs/")[0] == 200
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert "Booting worker" in output and output.count("Booting worker") == 2


def test_with_debug_off_the_web_process_refuses_to_start_without_collected_static(tmp_path):
    env = {
        **os.environ,
        "GUNICORN_BIND": f"127.0.0.1:{free_port()}",
        "WEB_CONCURRENCY": "1",
        "PLITKA_VAR_DIR": str(tmp_path),
        "STATIC_ROOT": str(tmp_path / "static"),
        "DEBUG": "0",
        "SECRET_KEY": "test-only-secret-key-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    server = subprocess.run(
        [str(GUNICORN), "-c", "plitka_site/gunicorn.conf.py", "plitka_site.wsgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert server.returncode != 0
    assert "collectstatic" in server.stderr + server.stdout
