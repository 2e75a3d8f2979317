"""Servers the tests start on loopback in processes of their own (gunicorn, moto, Celery)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GUNICORN = Path(sys.executable).parent / "gunicorn"


# The Redis databases the tests use, flushed by them: three from PLITKA_TEST_REDIS_DB
# (default 11: the faults 11, the fuzz suite 12, the render tests 13), so a `make run` on
# database 0 of the same Redis is left alone. Move them if 11-13 are taken.
_REDIS_DB_OFFSETS = {"faults": 0, "fuzz": 1, "renders": 2}


def redis_test_db(role: str) -> int:
    base = int(os.environ.get("PLITKA_TEST_REDIS_DB", "11"))
    if not 0 <= base <= 13:
        raise ValueError("PLITKA_TEST_REDIS_DB must be 0..13 (it and the next two are used)")
    return base + _REDIS_DB_OFFSETS[role]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[str], timeout: float = 30.0) -> None:
    """Until something listens on `port`; fails with the process's output if it exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.communicate()[0] if process.stdout else None
            raise AssertionError(output or "the server exited; see its log")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port} after {timeout} s")


def fetch(url: str) -> tuple[int, bytes]:
    """(status, body) of a GET."""
    with urllib.request.urlopen(url, timeout=10) as answer:
        return int(answer.status), bytes(answer.read())


def shared_database_url() -> str:
    """The test database, as a URL a server or worker in another process can open."""
    from django.db import connection

    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = f"{db['USER']}:{db['PASSWORD']}@" if db["USER"] else ""
    return f"postgres://{user}{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@contextlib.contextmanager
def gunicorn_server(
    *, env: dict[str, str], log: Path, processes: int = 2, threads: int = 4
) -> Iterator[str]:
    """The web process as `make run` and production start it (gunicorn with the project's
    config) on a free loopback port; yields its base URL. `env` is added to this process's
    environment. Its output goes to `log`, read after the block: under many requests a
    pipe nobody reads fills up and stalls the server."""
    port = free_port()
    full_env = {
        **os.environ,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(processes),
        "GUNICORN_THREADS": str(threads),
        "GUNICORN_ACCESS_LOG": "/dev/null",
        **env,
    }
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(GUNICORN), "-c", "plitka_site/gunicorn.conf.py", "plitka_site.wsgi"],
            cwd=ROOT,
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            wait_for_port(port, process)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=30)
