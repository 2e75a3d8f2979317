"""The storefront's calls under load, beside the framework's floor, in one run.

Run: .venv/bin/python benchmarks/bench_api.py [--duration 10] [--clients 1,16,64]
Needs wrk (apt-get install wrk) and Redis (database 14 of REDIS_URL is flushed).

It serves this project with gunicorn and its production config (DEBUG=0, SQLite in a
scratch folder, two worker processes) and the reference view of
../shared/bench/drf_reference.py (`gunicorn -w 2`: a minimal DRF view reading one row), and
drives both with wrk on loopback:
- poll: GET /api/v1/renders/{id}/ of a finished job with an API key, against the reference
  (a finished job's body is reused for a few seconds);
- poll, running job: the same for a job still running (read from the database each time);
- poll, 304: the same with If-None-Match (a storefront that keeps the ETag);
- submit, dedup: POST /api/v1/renders/ of a request already rendered (200, the same job);
- submit, new: POST of a new request each time (201; the jobs only wait in Redis);
- long poll: ?wait=30 on a running job whose progress a helper changes every 0.5 s;
- with --compare-worker CLASS, the two polls again on a second copy of this project served by
  that gunicorn worker class instead of plitka_site/web_worker.py (before and after, in one run).
Every case is given as requests per second and p99 latency, and as a ratio of throughput to
the reference's at the same number of clients. Prints the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

from machine import cpu_model  # beside this script

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT.parent / "shared" / "bench" / "drf_reference.py"
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(port: int, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server on {port} exited with {process.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"nothing listens on {port} after {timeout} s")


def _env(scratch: Path) -> dict[str, str]:
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0").rsplit("/", 1)[0] + "/14"
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "plitka_site.settings",
        "DATABASE_URL": f"sqlite:///{scratch / 'bench.sqlite3'}",
        "REDIS_URL": redis_url,
        "MEDIA_ROOT": str(scratch / "media"),
        "STATIC_ROOT": str(scratch / "static"),
        "PLITKA_VAR_DIR": str(scratch),
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "GUNICORN_ACCESS_LOG": "/dev/null",
        "OMP_NUM_THREADS": "1",
    }


SETUP = textwrap.dedent(
    """
    import json, django
    django.setup()
    from django.core.management import call_command
    call_command("collectstatic", interactive=False, verbosity=0)  # DEBUG=0 serves these
    from catalog.services import demo_catalog_load
    from gpu_worker.params import RenderParams
    from plitka_site.apikeys.models import ApiKey
    from plitka_site.apikeys.services import api_key_create
    from renders.models import RenderJob
    from renders.services import Requester, render_job_submit
    from renders.worker.execute import render_job_execute
    demo_catalog_load()
    key = api_key_create(name="bench", scope=ApiKey.Scope.RENDER, rate_limit="10000000/min")
    requester = Requester(client_id=f"key:{key.api_key.pk}", label="bench", source="api")
    body = {"product": "SQ-500-30", "recipe": "RED:60,BLACK:40", "size": 256, "seed": 1}
    done = render_job_submit(
        product_sku=body["product"], recipe=body["recipe"], requester=requester,
        params=RenderParams(size=256, seed=1), dispatch=False,
    ).job
    render_job_execute(job_id=done.pk, worker_name="bench")
    running = render_job_submit(
        product_sku=body["product"], recipe=body["recipe"], requester=requester,
        params=RenderParams(size=256, seed=2), dispatch=False,
    ).job
    RenderJob.objects.filter(pk=running.pk).update(status="running", progress=1)
    print(json.dumps({"key": key.plaintext, "done": str(done.pk), "running": str(running.pk),
                      "body": body}))
    """
)


def _post_script(body: dict[str, Any], *, new_each_time: bool) -> str:
    """wrk Lua posting `body`; with new_each_time, another seed per request (a new job)."""
    text = json.dumps(body)
    if new_each_time:
        text = text.replace(f'"seed": {body["seed"]}', '"seed": %d')
    return textwrap.dedent(
        f"""
        wrk.method = "POST"
        wrk.headers["Content-Type"] = "application/json"
        counter = 1000 * math.random(1, 1000000)
        request = function()
          counter = counter + 1
          return wrk.format(nil, nil, nil, string.format('{text}', counter))
        end
        """
    )


WRK_REPORT = """
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format("RESULT %d %f %d %d\\n", summary.requests,
    latency:percentile(99) / 1000.0, errors, summary.duration))
end
"""


def wrk(
    url: str, *, clients: int, duration: int, headers: dict[str, str], script: str = ""
) -> dict[str, float]:
    """requests/s, p99 in ms, and errors (non-2xx/3xx answers included) of one wrk run."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script + WRK_REPORT)
    args = ["wrk", "-t", str(min(2, clients)), "-c", str(clients), "-d", f"{duration}s"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run(
        [*args, "-s", lua.name, "--timeout", "40s", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(lua.name)
    found = re.search(r"RESULT (\d+) ([\d.]+) (\d+) (\d+)", out)
    if found is None:
        raise SystemExit(f"wrk said:\n{out}")
    requests, p99, errors, micros = found.groups()
    return {
        "rps": round(int(requests) / (int(micros) / 1e6), 1),
        "p99_ms": round(float(p99), 1),
        "errors": int(errors),
    }


def _progress_ticker(env: dict[str, str], job_id: str, stop: threading.Event) -> None:
    """Moves the running job's progress every 0.5 s, as a worker would (for the long poll)."""
    code = textwrap.dedent(
        f"""
        import sys, time, django
        django.setup()
        from renders.models import RenderJob
        from renders.services.notify import render_job_notify
        percent = 1
        for line in sys.stdin:
            percent = percent % 98 + 1
            RenderJob.objects.filter(pk="{job_id}").update(progress=percent)
            render_job_notify(job_ids=["{job_id}"])
        """
    )
    ticker = subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, env=env, stdin=subprocess.PIPE, text=True
    )
    assert ticker.stdin is not None
    while not stop.wait(0.5):
        ticker.stdin.write("tick\n")
        ticker.stdin.flush()
    ticker.stdin.close()
    ticker.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--clients", default="1,16,64")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-long-poll", action="store_true")
    parser.add_argument("--only", default="", help="only the cases whose name starts so")
    parser.add_argument(
        "--compare-worker",
        default="",
        metavar="CLASS",
        help="also serve this project with this gunicorn worker class (e.g. gthread, or sync "
        "with GUNICORN_THREADS=1) and measure its polls in the same run",
    )
    args = parser.parse_args()
    if not REFERENCE.is_file():
        raise SystemExit(f"no reference view at {REFERENCE}")
    clients = [int(c) for c in args.clients.split(",")]
    scratch = Path(tempfile.mkdtemp(prefix="plitka-bench-api-"))
    env = _env(scratch)
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    import redis

    redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    setup = subprocess.run(
        [python, "-c", SETUP], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    state = json.loads(setup.stdout.strip().splitlines()[-1])
    ref_env = {**os.environ, "PYTHONPATH": str(REFERENCE.parent)}
    subprocess.run([python, str(REFERENCE)], cwd=REFERENCE.parent, env=ref_env, check=True)

    ours_port, ref_port, other_port = _free_port(), _free_port(), _free_port()
    gunicorn = [str(BIN / "gunicorn"), "-c", "plitka_site/gunicorn.conf.py"]
    servers = [
        subprocess.Popen(
            [*gunicorn, "plitka_site.wsgi"],
            cwd=ROOT,
            env={"WEB_CONCURRENCY": "2", **env, "GUNICORN_BIND": f"127.0.0.1:{ours_port}"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
        subprocess.Popen(
            [
                *(str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{ref_port}"),
                *("--chdir", str(REFERENCE.parent), "drf_reference:application"),
            ],
            env=ref_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
    ]
    if args.compare_worker:  # the same config, another worker class (the command line wins)
        servers.append(
            subprocess.Popen(
                [*gunicorn, "-k", args.compare_worker, "plitka_site.wsgi"],
                cwd=ROOT,
                env={"WEB_CONCURRENCY": "2", **env, "GUNICORN_BIND": f"127.0.0.1:{other_port}"},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    rows: list[dict[str, Any]] = []
    try:
        _wait_for(ours_port, servers[0])
        _wait_for(ref_port, servers[1])
        if args.compare_worker:
            _wait_for(other_port, servers[2])
        ours = f"http://127.0.0.1:{ours_port}"
        auth = {"Authorization": f"Api-Key {state['key']}"}
        poll_url = f"{ours}/api/v1/renders/{state['done']}/"
        import urllib.request

        first = urllib.request.urlopen(urllib.request.Request(poll_url, headers=auth))
        etag = first.headers.get("ETag", "")
        submit = f"{ours}/api/v1/renders/"
        running_url = f"{ours}/api/v1/renders/{state['running']}/"
        cases: list[tuple[str, str, dict[str, str], str]] = [
            ("poll", poll_url, auth, ""),
            ("poll, running job", running_url, auth, ""),
            ("poll, If-None-Match (304)", poll_url, {**auth, "If-None-Match": etag}, ""),
            ("submit, dedup (200)", submit, auth, _post_script(state["body"], new_each_time=False)),
            ("submit, new (201)", submit, auth, _post_script(state["body"], new_each_time=True)),
        ]
        if args.compare_worker:
            other = f"http://127.0.0.1:{other_port}/api/v1/renders"
            label = f"[{args.compare_worker}]"
            cases[3:3] = [
                (f"poll {label}", f"{other}/{state['done']}/", auth, ""),
                (f"poll, running job {label}", f"{other}/{state['running']}/", auth, ""),
            ]
            wrk(cases[3][1], clients=16, duration=2, headers=auth)
        # Both servers warm (imports, connections, caches) before anything is measured.
        wrk(f"http://127.0.0.1:{ref_port}/s/1/", clients=16, duration=2, headers={})
        wrk(poll_url, clients=16, duration=2, headers=auth)
        for n in clients:
            reference = wrk(
                f"http://127.0.0.1:{ref_port}/s/1/", clients=n, duration=args.duration, headers={}
            )
            rows.append({"case": "reference view", "clients": n, **reference, "ratio": 1.0})
            for name, url, headers, script in cases:
                if not name.startswith(args.only):
                    continue
                found = wrk(url, clients=n, duration=args.duration, headers=headers, script=script)
                ratio = round(found["rps"] / reference["rps"], 2)
                rows.append({"case": name, "clients": n, **found, "ratio": ratio})
            if args.no_long_poll or not "long poll".startswith(args.only):
                continue
            stop = threading.Event()
            ticker = threading.Thread(
                target=_progress_ticker, args=(env, state["running"], stop), daemon=True
            )
            ticker.start()
            try:
                found = wrk(
                    f"{ours}/api/v1/renders/{state['running']}/?wait=30",
                    clients=n,
                    duration=args.duration,
                    headers=auth,
                )
            finally:
                stop.set()
                ticker.join()
            rows.append({"case": "long poll, ?wait=30", "clients": n, **found, "ratio": None})
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(timeout=40)  # a long poll may hold a thread for 30 s
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    result = {
        "machine": cpu_model(),
        "cores": os.cpu_count(),
        "duration_s": args.duration,
        "rows": rows,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{result['machine']}, {result['cores']} cores; wrk {args.duration} s per row")
    print(f"{'case':<36}{'clients':>8}{'req/s':>10}{'p99 ms':>9}{'errors':>8}{'ratio':>7}")
    for row in rows:
        shown = "-" if row["ratio"] is None else f"{row['ratio']:.2f}"
        print(
            f"{row['case']:<36}{row['clients']:>8}{row['rps']:>10.0f}{row['p99_ms']:>9.1f}"
            f"{row['errors']:>8}{shown:>7}"
        )


if __name__ == "__main__":
    main()
