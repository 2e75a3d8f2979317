"""Build the tiny random-weight SDXL model (offline) for tests and CPU development."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Write a tiny random-weight SDXL pipeline into DIR (diffusers layout): render with "
        'the diffusion engine and options {"model": "DIR"}. Needs requirements-gpu.txt.'
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("dir", help="folder to write (created if missing)")
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args: object, **options: Any) -> None:
        folder = Path(str(options["dir"]))
        if folder.exists() and any(folder.iterdir()):
            raise CommandError(f"{folder} is not empty")
        try:
            # Imported here, in this command's own process: the web never loads torch.
            from gpu_worker.engines.diffusion.tiny import tiny_sdxl_save
        except ImportError as exc:
            raise CommandError(
                f"the diffusion libraries are not installed ({exc.name}): "
                "pip install -r requirements-gpu.txt"
            ) from exc
        tiny_sdxl_save(folder, seed=int(options["seed"]))
        self.stdout.write(f"Wrote a tiny SDXL model to {folder}.")
