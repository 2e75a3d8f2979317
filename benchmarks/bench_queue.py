"""Queue and worker overhead of render jobs, against the real Redis and a real worker.

Run: .venv/bin/python benchmarks/bench_queue.py [--jobs 20] [--size 1024]

It makes a scratch SQLite database and media folder under a temporary directory, uses
Redis database 14 of REDIS_URL (flushed), starts one real Celery worker (prefork,
concurrency 1, as in production) and then, in this process, through the REST API:
  1. submits jobs one at a time to an idle worker and reads submit -> started_at;
  2. repeats an identical request and times the dedup answer (200 from the database);
  3. compares each job's time on the worker with the engine's own render call.
Prints the medians, the ratios and the machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import cpu_model  # beside this script

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gpu_worker.params import render_param_declaration  # noqa: E402


def _prepare_env(scratch: Path) -> dict[str, str]:
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0").rsplit("/", 1)[0] + "/14"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "plitka_site.settings",
        "DATABASE_URL": f"sqlite:///{scratch / 'bench.sqlite3'}",
        "REDIS_URL": redis_url,
        "MEDIA_ROOT": str(scratch / "media"),
        "PLITKA_VAR_DIR": str(scratch),
        "DEBUG": "1",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
    }
    os.environ.update(env)
    return env


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--size", type=int, default=render_param_declaration("size").default)
    parser.add_argument("--dedup-requests", type=int, default=50)
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="plitka-bench-"))
    env = _prepare_env(scratch)
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [python, "manage.py", "load_demo_catalog"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )

    import redis

    redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    worker = subprocess.Popen(
        [
            str(Path(python).parent / "celery"),
            "-A",
            "plitka_site",
            "worker",
            "-n",
            "bench@%h",
            "--concurrency",
            "1",
            "--prefetch-multiplier",
            "1",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-Q",
            "render.interactive,render.batch",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from rest_framework.test import APIClient

        from plitka_site.apikeys.services import api_key_create
        from renders.models import RenderJob

        client = APIClient()
        client.credentials(
            HTTP_AUTHORIZATION=f"Api-Key {api_key_create(name='bench', scope='render').plaintext}"
        )
        time.sleep(3)  # let the worker connect and go idle

        def run_one(seed: int) -> RenderJob:
            body = {
                "product": "SQ-500-30",
                "recipe": "RED:60,BLACK:40",
                "size": args.size,
                "seed": seed,
            }
            response = client.post("/api/v1/renders/", body, format="json")
            assert response.status_code == 201, response.content
            job_id = response.json()["id"]
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                job = RenderJob.objects.select_related("telemetry").get(pk=job_id)
                if job.status in RenderJob.TERMINAL:
                    assert job.status == "succeeded", job.error_message
                    return job
                time.sleep(0.01)
            raise SystemExit("a job did not finish in 120 s")

        run_one(0)  # warm: the first job loads the engine
        jobs = [run_one(seed) for seed in range(1, args.jobs + 1)]

        to_start: list[float] = []
        engine: list[float] = []
        on_worker: list[float] = []
        end_to_end: list[float] = []
        for j in jobs:
            t = j.telemetry
            # run_one returns succeeded jobs only: these are all recorded.
            assert j.started_at is not None and j.finished_at is not None, j.pk
            assert t.engine_render_s is not None and t.total_s is not None, j.pk
            to_start.append((j.started_at - j.created_at).total_seconds() * 1000)
            engine.append(t.engine_render_s)
            on_worker.append(t.total_s)
            end_to_end.append((j.finished_at - j.created_at).total_seconds())

        body = {"product": "SQ-500-30", "recipe": "RED:60,BLACK:40", "size": args.size, "seed": 1}
        dedup = []
        for _ in range(args.dedup_requests):
            started = time.perf_counter()
            response = client.post("/api/v1/renders/", body, format="json")
            dedup.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
    finally:
        worker.terminate()
        worker.wait(timeout=30)

    med = statistics.median
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores; {args.jobs} jobs at {args.size} px")
    print(
        f"submit -> started_at, idle worker: median {med(to_start):.1f} ms "
        f"(min {min(to_start):.1f}, max {max(to_start):.1f})"
    )
    print(f"dedup hit answered (POST -> 200): median {med(dedup):.1f} ms over {len(dedup)}")
    print(f"engine render call: median {med(engine) * 1000:.0f} ms")
    print(
        f"job on the worker (claim -> stored): median {med(on_worker) * 1000:.0f} ms, "
        f"ratio {med(on_worker) / med(engine):.3f}"
    )
    print(
        f"end to end (submit -> succeeded): median {med(end_to_end) * 1000:.0f} ms, "
        f"ratio {med(end_to_end) / med(engine):.3f}"
    )


if __name__ == "__main__":
    main()
