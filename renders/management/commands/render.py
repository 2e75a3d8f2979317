"""One render in this process, through the same submit and execute path as every job.

The job is recorded (source `cli`) like any other, so every picture the system ever made
has its audit row, telemetry and catalog image; it is run here instead of on a worker.
"""

from __future__ import annotations

import json
import socket
import time
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from gpu_worker.param_kinds import ObjectParam
from gpu_worker.params import ParamError, render_param_declarations, render_params_parse
from renders.errors import RenderRequestError
from renders.management.reports import fidelity_table
from renders.models import RenderJob
from renders.selectors import render_timings
from renders.services import Requester, render_job_submit
from renders.worker.execute import render_job_execute

CLI = Requester(client_id="cli", label="cli", source=RenderJob.Source.CLI, sees_unpublished=True)
WAIT_EVERY_S = 0.5


def _cli_name(name: str) -> str:
    return "--" + name.replace("_", "-")


class Command(BaseCommand):
    help = "Render one picture in this process, record it as a job, and print its colour fidelity."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--product", required=True, help="product SKU")
        parser.add_argument("--recipe", required=True, help='e.g. "RED:60,BLACK:40"')
        # One option per render parameter, checked by the parameter's own declaration.
        for name, param in render_param_declarations():
            if isinstance(param, ObjectParam):
                continue
            parser.add_argument(_cli_name(name), dest=name, default=None, help=param.describe())
        parser.add_argument("--model", default=None, help="model profile or folder (diffusion)")
        parser.add_argument("--out", required=True, help="PNG file to write")
        parser.add_argument("--json", action="store_true", help="print JSON instead of a table")

    def handle(self, *args: object, **options: Any) -> None:
        raw = {
            name: options[name]
            for name, param in render_param_declarations()
            if not isinstance(param, ObjectParam)
        }
        if options["model"]:
            if (raw.get("engine") or "procedural") == "procedural":
                raise CommandError("--model applies to the diffusion and hybrid engines only")
            raw["options"] = {"model": options["model"]}
        try:
            params = render_params_parse(raw)
            job = render_job_submit(
                product_sku=str(options["product"]),
                recipe=options["recipe"],
                params=params,
                requester=CLI,
                force=True,
                dispatch=False,
            ).job
        except ParamError as exc:
            raise CommandError(str(exc)) from exc
        except RenderRequestError as exc:
            raise CommandError(exc.message) from exc
        job = self._run(job)
        out = Path(str(options["out"]))
        out.parent.mkdir(parents=True, exist_ok=True)
        with job.result_image.open("rb") as stream:
            out.write_bytes(stream.read())
        if options["json"]:
            self.stdout.write(json.dumps(self._report(job, out), indent=2, ensure_ascii=False))
            return
        recipe = {c.code: c.percent for c in job.recipe_rendered.components}
        self.stdout.write(
            f"Wrote {out} ({job.result_width}x{job.result_height}, seed "
            f"{job.render_params.seed}; job {job.pk})"
        )
        self.stdout.write(fidelity_table(job.fidelity or {}, recipe))

    @staticmethod
    def _run(job: RenderJob) -> RenderJob:
        """Execute the job here; if a worker already has it, wait for that worker."""
        render_job_execute(job_id=job.pk, worker_name=f"cli@{socket.gethostname()}")
        deadline = time.monotonic() + settings.RENDER_HARD_TIME_LIMIT_S
        job.refresh_from_db()
        while not job.is_terminal and time.monotonic() < deadline:
            time.sleep(WAIT_EVERY_S)
            job.refresh_from_db()
        if job.status != RenderJob.Status.SUCCEEDED:
            reason = f"{job.error_code}: {job.error_message}" if job.error_code else job.status
            raise CommandError(f"render job {job.pk} did not succeed ({reason})")
        return job

    @staticmethod
    def _report(job: RenderJob, out: Path) -> dict[str, Any]:
        telemetry = getattr(job, "telemetry", None)
        return {
            "out": str(out),
            "job": str(job.pk),
            "params": {**job.params, **job.render_params.as_dict()},
            "width": job.result_width,
            "height": job.result_height,
            "engine_version": job.engine_version,
            "fidelity": job.fidelity,
            "timings": render_timings(telemetry) if telemetry else None,
        }
