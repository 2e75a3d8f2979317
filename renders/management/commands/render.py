"""One render in this process, through the same submit and execute path as every job.

The job is recorded (source `cli`) like any other, so every picture the system ever made
has its audit row, telemetry and catalog image; it is run here instead of on a worker.
"""

from __future__ import annotations

import json
import os
import socket
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
from renders.worker.in_process import render_job_run_here

CLI = Requester(client_id="cli", label="cli", source=RenderJob.Source.CLI, sees_unpublished=True)


def _cli_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def _json_object(text: str, *, name: str, limit: int) -> object:
    """A JSON option's value; the declaration then checks that it is an object."""
    if len(text) > limit:
        raise CommandError(f"{_cli_name(name)}: longer than {limit} characters")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise CommandError(f"{_cli_name(name)}: not JSON ({exc})") from exc


class Command(BaseCommand):
    help = "Render one picture in this process, record it as a job, and print its colour fidelity."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--product", required=True, help="product SKU")
        parser.add_argument("--recipe", required=True, help='e.g. "RED:60,BLACK:40"')
        # One option per render parameter, checked by the parameter's own declaration.
        for name, param in render_param_declarations():
            hint = " (a JSON object)" if isinstance(param, ObjectParam) else ""
            parser.add_argument(
                _cli_name(name), dest=name, default=None, help=param.describe() + hint
            )
        parser.add_argument("--model", default=None, help="model profile or folder (diffusion)")
        parser.add_argument("--out", required=True, help="PNG file to write")
        parser.add_argument("--json", action="store_true", help="print JSON instead of a table")

    def handle(self, *args: object, **options: Any) -> None:
        raw = {name: options[name] for name, _ in render_param_declarations()}
        try:
            for name, param in render_param_declarations():
                if isinstance(param, ObjectParam) and isinstance(raw[name], str):
                    raw[name] = _json_object(raw[name], name=name, limit=param.max_bytes)
            if options["model"]:
                raw["options"] = {**(raw.get("options") or {}), "model": options["model"]}
            params = render_params_parse(raw)
            if options["model"] and params.engine == "procedural":
                raise CommandError("--model applies to the diffusion and hybrid engines only")
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

    def _run(self, job: RenderJob) -> RenderJob:
        """Execute the job here (or wait for the worker that already has it)."""
        job = render_job_run_here(
            job_id=job.pk,
            worker_name=f"cli@{socket.gethostname()}:{os.getpid()}",
            timeout_s=settings.RENDER_HARD_TIME_LIMIT_S,
            on_wait=lambda line: self.stderr.write(line),
        )
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
