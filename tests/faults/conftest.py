"""`make faults`: each test starts real processes (Celery render workers as `make run` starts
them, the beat scheduler) on the test database and a Redis database of its own, breaks
something, and afterwards audits the database and the media folder (`Stack.audit`): no job
lost, none rendered twice, one catalog image per job, no partial files, a worker still
serving. Each audit is a row of the fault table, printed at the end and written to
var/faults-report.md (the README's table comes from it)."""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import psutil
import pytest
import redis

from tests.faults.tcp_proxy import FaultyTcpProxy, faulty_proxy
from tests.loopback import ROOT, redis_test_db, shared_database_url

FAULT_REDIS_DB = redis_test_db("faults")
QUEUES = "render.interactive,render.batch,maintenance"
BODY = {"product": "SQ-500-30", "recipe": "RED:60,BLACK:40", "size": 256}
REPORT: list[dict[str, Any]] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not REPORT:
        return
    lines = fault_table(REPORT)
    terminalreporter.write_sep("=", "fault table")
    for line in lines:
        terminalreporter.write_line(line)
    out = ROOT / os.environ.get("PLITKA_VAR_DIR", "var") / "faults-report.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")


def fault_table(rows: list[dict[str, Any]]) -> list[str]:
    header = "| fault | submitted | succeeded | failed (named) | lost | run twice | recovery |"
    lines = [header, "|---|---|---|---|---|---|---|"]
    for row in rows:
        recovery = f"{row['recovery_s']:.1f} s" if row["recovery_s"] is not None else "-"
        lines.append(
            f"| {row['fault']} | {row['submitted']} | {row['succeeded']} | {row['failed']} "
            f"| {row['lost']} | {row['run_twice']} | {recovery} |"
        )
    return lines


@dataclass
class Proc:
    """A process the test started; its output goes to `log`."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def pool_children(self) -> list[int]:
        with contextlib.suppress(psutil.Error):
            return [child.pid for child in psutil.Process(self.pid).children()]
        return []

    def stop(self) -> None:
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        # A killed main process leaves its pool child behind: no test leaves orphans.
        for pid in self.orphans:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    orphans: list[int] = field(default_factory=list)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def _with_db(url: str, db: int) -> str:
    return urlunparse(urlparse(url)._replace(path=f"/{db}"))


class Stack:
    """The processes of one test, and what it checks afterwards."""

    def __init__(self, *, tmp: Path, redis_url: str, media: Path, client: Any) -> None:
        self.tmp = tmp
        self.redis_url = redis_url  # what the processes (and this web) use: maybe a proxy
        self.media = media
        self.client = client  # the web, in this process, with a render key
        self.runs_log = tmp / "runs.log"
        self.procs: list[Proc] = []

    def _env(self, extra: dict[str, str]) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": shared_database_url(),
            "REDIS_URL": self.redis_url,
            "MEDIA_ROOT": str(self.media),
            "PLITKA_VAR_DIR": str(self.tmp),
            "FAULT_RUNS_LOG": str(self.runs_log),
            **extra,
        }

    def _start(self, name: str, args: list[str], env: dict[str, str]) -> Proc:
        log = self.tmp / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                args, cwd=ROOT, env=self._env(env), stdout=out, stderr=subprocess.STDOUT
            )
        proc = Proc(name=name, process=process, log=log)
        self.procs.append(proc)
        return proc

    def worker(self, name: str, *, render_s: float = 0.0, pool: str = "prefork") -> Proc:
        """A render worker as `make run` starts one (prefork, one pool child)."""
        args = [sys.executable, "-m", "tests.faults.injected_worker", "worker"]
        args += ["-n", f"{name}@%h", "--pool", pool, "--concurrency", "1"]
        args += ["--prefetch-multiplier", "1", "-Q", QUEUES, "--loglevel", "INFO"]
        proc = self._start(name, args, {"FAULT_RENDER_S": str(render_s)})
        wait_until(lambda: "ready." in proc.log.read_text(errors="replace"), 60, proc)
        return proc

    def beat(self) -> Proc:
        """The scheduler, with the schedules the migrations make (the test database was
        flushed since): the reconciler every 5 s."""
        from django.apps import apps

        importlib.import_module("renders.migrations.0002_beat_schedules").create(apps, None)
        importlib.import_module("renders.migrations.0011_reconcile_every_5s").faster(apps, None)
        args = [str(Path(sys.executable).parent / "celery"), "-A", "plitka_site", "beat"]
        args += ["--loglevel", "INFO", "-s", str(self.tmp / "beat-schedule")]
        return self._start("beat", args, {})

    def submit(self, count: int = 1, *, first_seed: int = 1) -> list[str]:
        """Distinct renders through the web's submit; their job ids."""
        ids = []
        for seed in range(first_seed, first_seed + count):
            answer = self.client.post("/api/v1/renders/", {**BODY, "seed": seed}, format="json")
            assert answer.status_code == 201, answer.content
            ids.append(answer.json()["id"])
        return ids

    def statuses(self, ids: list[str]) -> dict[str, str]:
        from renders.models import RenderJob

        rows = RenderJob.objects.filter(pk__in=ids).values_list("pk", "status")
        return {str(pk): status for pk, status in rows}

    def wait_finished(self, ids: list[str], *, timeout: float) -> None:
        from renders.models import RenderJob

        def finished() -> bool:
            done = RenderJob.objects.filter(pk__in=ids, status__in=RenderJob.TERMINAL)
            return done.count() == len(ids)

        wait_until(finished, timeout, *self.procs)

    def wait_running(self, job_id: str, *, timeout: float = 60) -> None:
        from renders.models import RenderJob

        def running() -> bool:
            return RenderJob.objects.filter(pk=job_id, status="running", progress__gt=0).exists()

        wait_until(running, timeout, *self.procs)

    def audit(
        self,
        ids: list[str],
        *,
        fault: str,
        since: dt.datetime | None = None,
        expect_failed: int = 0,
    ) -> dict[str, Any]:
        """The fault table's row, after asserting what must hold after any fault."""
        from catalog.models import CatalogImage
        from renders.models import RenderJob

        jobs = {str(job.pk): job for job in RenderJob.objects.filter(pk__in=ids)}
        succeeded = [pk for pk, job in jobs.items() if job.status == "succeeded"]
        failed = [job for job in jobs.values() if job.status == "failed"]
        completions = Counter(
            line.split()[0] for line in _lines(self.runs_log) if line.split()[0] in jobs
        )
        twice = sorted(pk for pk, n in completions.items() if n > 1)
        lost = len(ids) - len(succeeded) - len(failed)
        images = Counter(
            str(pk)
            for pk in CatalogImage.objects.filter(render_job_id__in=ids).values_list(
                "render_job_id", flat=True
            )
        )
        partial = [p for p in self.media.rglob(".tmp-*")] if self.media.exists() else []
        missing = [
            name
            for job in jobs.values()
            for name in (job.result_image.name, job.result_thumbnail.name)
            if name and not (self.media / name).is_file()
        ]
        last = max((job.finished_at for job in jobs.values() if job.finished_at), default=None)
        recovery = (last - since).total_seconds() if since and last else None
        row = {
            "fault": fault,
            "submitted": len(ids),
            "succeeded": len(succeeded),
            "failed": len(failed),
            "lost": lost,
            "run_twice": len(twice),
            "recovery_s": recovery,
        }
        REPORT.append(row)
        assert lost == 0, f"jobs not finished: { {pk: j.status for pk, j in jobs.items()} }"
        assert not twice, f"rendered to the end more than once: {twice}"
        assert len(failed) == expect_failed, [(j.error_code, j.error_message) for j in failed]
        assert all(j.error_code and j.error_message for j in failed), "a failure names itself"
        assert {pk: images[pk] for pk in succeeded} == dict.fromkeys(succeeded, 1)
        assert not [pk for pk in images if pk not in succeeded], "an image of an unfinished job"
        assert not partial, f"partial files left: {partial}"
        assert not missing, f"jobs point at files that are not there: {missing}"
        return row

    def still_serving(self, *, seed: int = 9999, timeout: float = 60) -> None:
        """A new job after the fault is rendered: the stack recovered, not just the job."""
        (job_id,) = self.submit(first_seed=seed)
        self.wait_finished([job_id], timeout=timeout)
        assert self.statuses([job_id])[job_id] == "succeeded", self.statuses([job_id])

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def wait_until(predicate: Callable[[], Any], timeout: float, *procs: Proc) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    logs = "\n".join(f"--- {p.name} ---\n{p.output()}" for p in procs)
    raise AssertionError(f"timed out after {timeout} s waiting for {predicate}\n{logs}")


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@pytest.fixture
def real_redis() -> Iterator[redis.Redis]:
    from django.conf import settings

    url = _with_db(settings.REDIS_URL, FAULT_REDIS_DB)
    client = redis.Redis.from_url(url)
    client.ping()  # these tests need the real Redis
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture
def proxy(real_redis: redis.Redis) -> Iterator[FaultyTcpProxy]:
    kwargs = real_redis.connection_pool.connection_kwargs
    with faulty_proxy(host=kwargs.get("host", "127.0.0.1"), port=kwargs.get("port", 6379)) as p:
        yield p


def _stack(
    *, redis_url: str, tmp_path: Path, media: Path, settings: Any, monkeypatch: Any
) -> Iterator[Stack]:
    from plitka_site.celery import app
    from tests.conftest import key_client

    # This process is the web: it sends to the same broker the workers read.
    settings.REDIS_URL = settings.CELERY_BROKER_URL = redis_url
    monkeypatch.setitem(app.conf, "broker_url", redis_url)
    settings.MEDIA_ROOT = media
    client = key_client("faults", "render", rate_limit="1000000/min")
    stack = Stack(tmp=tmp_path, redis_url=redis_url, media=media, client=client)
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture
def stack(
    transactional_db: Any,
    demo_catalog: Any,
    real_redis: redis.Redis,
    tmp_path: Path,
    settings: Any,
    monkeypatch: Any,
) -> Iterator[Stack]:
    kwargs = real_redis.connection_pool.connection_kwargs
    url = f"redis://{kwargs.get('host', '127.0.0.1')}:{kwargs.get('port', 6379)}/{FAULT_REDIS_DB}"
    yield from _stack(
        redis_url=url,
        tmp_path=tmp_path,
        media=tmp_path / "media",
        settings=settings,
        monkeypatch=monkeypatch,
    )


@pytest.fixture
def proxied_stack(
    transactional_db: Any,
    demo_catalog: Any,
    proxy: FaultyTcpProxy,
    tmp_path: Path,
    settings: Any,
    monkeypatch: Any,
) -> Iterator[tuple[Stack, FaultyTcpProxy]]:
    """A stack whose every Redis connection (web, workers, beat) goes through `proxy`."""
    url = f"redis://127.0.0.1:{proxy.port}/{FAULT_REDIS_DB}"
    for stack in _stack(
        redis_url=url,
        tmp_path=tmp_path,
        media=tmp_path / "media",
        settings=settings,
        monkeypatch=monkeypatch,
    ):
        yield stack, proxy
