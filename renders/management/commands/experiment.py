"""A ControlNet experiment from the shell: start a grid, follow it, print it, adopt it.

    manage.py experiment --profile sdxl-shop --product SQ-500-30 --recipe Autumn \\
        --angles 0,45,90 --controls off,canny,softedge --scales 0.4,0.8 --wait 1800
    manage.py experiment --show 3 --adopt

The cells are batch jobs for the GPU workers (or, with --here, run in this process).
"""

from __future__ import annotations

import os
import socket
import time
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from catalog.models import TileProduct
from catalog.selectors import product_get, recipe_list
from renders.errors import RenderRequestError
from renders.management.reports import experiment_table
from renders.models import Experiment, ModelProfile, RenderJob
from renders.selectors import experiment_results
from renders.services.experiments import experiment_adopt, experiment_create, experiment_grid_parse
from renders.services.submit import MAX_RECIPE_ID_DIGITS, Requester
from renders.worker.in_process import render_job_run_here

CLI = Requester(client_id="cli", label="cli", source=RenderJob.Source.CLI, sees_unpublished=True)
POLL_S = 2.0


class Command(BaseCommand):
    help = "Run a grid of hybrid renders over angles and ControlNet settings; adopt the winners."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--show", type=int, help="an existing experiment's id")
        parser.add_argument("--profile", help="model profile name")
        parser.add_argument("--product", help="product SKU")
        parser.add_argument("--recipe", help="stored recipe: id or name")
        parser.add_argument("--angles", default="0", help="degrees, e.g. 0,45,90")
        parser.add_argument("--controls", default="off,canny", help="off, canny, softedge, ...")
        parser.add_argument("--scales", default="0.5", help="conditioning scales, e.g. 0.4,0.8")
        parser.add_argument("--view", default="perspective")
        parser.add_argument("--size", type=int, default=1024)
        parser.add_argument("--quality", default="standard")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--here", action="store_true", help="render in this process")
        parser.add_argument("--wait", type=float, default=0, help="seconds to wait for workers")
        parser.add_argument("--adopt", action="store_true", help="make the winners the table")

    def handle(self, *args: object, **options: Any) -> None:
        experiment = self._existing(options["show"]) if options["show"] else self._start(options)
        if options["here"]:
            self._run_here(experiment)
        elif options["wait"] > 0:
            self._wait(experiment, options["wait"])
        self.stdout.write(f"Experiment {experiment.pk}: {experiment}")
        self.stdout.write(experiment_table(experiment_results(experiment=experiment)))
        if options["adopt"]:
            try:
                profile = experiment_adopt(experiment=experiment)
            except RenderRequestError as exc:
                raise CommandError(exc.message) from exc
            self.stdout.write(f"Profile {profile.name} now picks: {profile.control_by_angle}")

    @staticmethod
    def _existing(pk: int) -> Experiment:
        experiment = Experiment.objects.filter(pk=pk).first()
        if experiment is None:
            raise CommandError(f"there is no experiment {pk}")
        return experiment

    def _start(self, options: dict[str, Any]) -> Experiment:
        for name in ("profile", "product", "recipe"):
            if not options[name]:
                raise CommandError(f"--{name} is required to start an experiment")
        profile = ModelProfile.objects.filter(name=options["profile"], is_active=True).first()
        if profile is None:
            raise CommandError(f"there is no active model profile {options['profile']!r}")
        product = product_get(sku=options["product"], include_unpublished=True)
        if not isinstance(product, TileProduct):
            raise CommandError(f"there is no product with SKU {options['product']!r}")
        key = str(options["recipe"])
        recipe = None
        if key.isascii() and key.isdigit() and len(key) <= MAX_RECIPE_ID_DIGITS:
            recipe = recipe_list().filter(pk=int(key)).first()
        if recipe is None:
            recipe = recipe_list().filter(name__iexact=key).first()
        if recipe is None:
            raise CommandError(f"there is no stored recipe {key!r}")
        try:
            grid = experiment_grid_parse(
                angles=options["angles"], controls=options["controls"], scales=options["scales"]
            )
            return experiment_create(
                profile=profile,
                product=product,
                recipe=recipe,
                grid=grid,
                requester=CLI,
                view=options["view"],
                size=options["size"],
                quality=options["quality"],
                seed=options["seed"],
            )
        except RenderRequestError as exc:
            raise CommandError(exc.message) from exc

    def _run_here(self, experiment: Experiment) -> None:
        name = f"cli@{socket.gethostname()}:{os.getpid()}"
        for cell in experiment.cells.exclude(job=None).select_related("job"):
            assert cell.job is not None
            if not cell.job.is_terminal:
                self.stderr.write(f"rendering {cell}")
                render_job_run_here(
                    job_id=cell.job.pk,
                    worker_name=name,
                    timeout_s=settings.RENDER_HARD_TIME_LIMIT_S,
                    on_wait=lambda line: self.stderr.write(line),
                )

    def _wait(self, experiment: Experiment, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        jobs = RenderJob.objects.filter(
            pk__in=experiment.cells.exclude(job=None).values("job"),
            status__in=RenderJob.ACTIVE,
        )
        while jobs.exists() and time.monotonic() < deadline:
            time.sleep(POLL_S)
