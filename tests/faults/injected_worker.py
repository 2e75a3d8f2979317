"""A real Celery render worker with faults put in from the environment, for `make faults`.

    python -m tests.faults.injected_worker worker -n victim@%h ...   (celery's own arguments)

FAULT_RENDER_S=4     every render takes this long (in 0.1 s steps that report progress and
                     heed cancel), so a test can break the worker mid-job
FAULT_RUNS_LOG=path  one line "job_id pid" per render that completed (stored and marked
                     succeeded): how the suite counts renders that ran twice

The patches are made before Celery starts, so the pool's forked children have them too.
Nothing here is imported by the project itself.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any


def _slow_renders(seconds: float) -> None:
    from gpu_worker.engines import registry

    engine = registry.engine_get("procedural")
    real_render = engine.render

    def slow_render(
        spec: Any, *, progress: Any = None, should_stop: Any = None, **hooks: Any
    ) -> Any:
        steps = max(1, int(seconds / 0.1))
        for step in range(steps):
            time.sleep(seconds / steps)
            if progress is not None:
                progress(min(90, int(90 * (step + 1) / steps)))
            if should_stop is not None and should_stop():
                from gpu_worker.contract import RenderCanceled

                raise RenderCanceled()
        return real_render(spec, progress=progress, should_stop=should_stop, **hooks)

    vars(engine)["render"] = slow_render  # an instance attribute shadows the method


def _count_completions(path: str) -> None:
    from renders.worker import execute

    real_finish = execute._finish_succeeded

    def counted_finish(**kwargs: Any) -> str:
        outcome = real_finish(**kwargs)
        if outcome == "succeeded":
            with open(path, "a") as log:
                log.write(f"{kwargs['job_id']} {os.getpid()}\n")
        return outcome

    execute._finish_succeeded = counted_finish


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plitka_site.settings")
    import django

    django.setup()
    if seconds := float(os.environ.get("FAULT_RENDER_S", "0") or 0):
        _slow_renders(seconds)
    if path := os.environ.get("FAULT_RUNS_LOG", ""):
        _count_completions(path)
    from plitka_site.celery import app

    app.worker_main(argv=sys.argv[1:])


if __name__ == "__main__":
    main()
