"""The web process as `make run` and production start it: gunicorn with the project's config."""

from __future__ import annotations

import os
import subprocess

from tests.loopback import GUNICORN, ROOT, fetch, free_port, gunicorn_server


def test_gunicorn_serves_the_site_and_its_static_files(tmp_path):
    log = tmp_path / "server.log"
    with gunicorn_server(env={"PLITKA_VAR_DIR": str(tmp_path)}, log=log, threads=2) as url:
        status, body = fetch(f"{url}/")
        assert status == 200 and b"/admin/" in body
        # The admin's static files come from the web process (whitenoise), no collectstatic.
        status, css = fetch(f"{url}/static/admin/css/base.css")
        assert status == 200 and len(css) > 1000
        assert fetch(f"{url}/api/docs/")[0] == 200
    assert log.read_text().count("Booting worker") == 2


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
