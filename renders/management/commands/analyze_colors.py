"""Estimate the colour mix of any tile picture against the stock palette."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from catalog.recipes import RecipeError
from catalog.selectors import palette_current, recipe_validate
from gpu_worker.colour.measure import fidelity_measure
from gpu_worker.imageio import image_decode
from renders.management.reports import fidelity_table


class Command(BaseCommand):
    help = "Estimate each colour's share of the tile area and its mean ΔE2000."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("image", help="PNG, JPEG or WebP file")
        parser.add_argument("--recipe", default=None, help='expected mix, e.g. "RED:60,BLACK:40"')
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: object, **options: object) -> None:
        recipe = None
        if options["recipe"]:
            try:
                parsed = recipe_validate(value=options["recipe"])
            except RecipeError as exc:
                raise CommandError(f"--recipe: {exc.message}") from exc
            recipe = parsed.components
        path = Path(str(options["image"]))
        try:
            image = image_decode(path.read_bytes())
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from exc
        except ValueError as exc:
            raise CommandError(f"{path} is not a usable image: {exc}") from exc
        fidelity = fidelity_measure(image=image, palette=palette_current(), recipe=recipe).to_dict()
        if options["json"]:
            self.stdout.write(json.dumps(fidelity, indent=2, ensure_ascii=False))
            return
        expected = {c.code: c.percent for c in recipe} if recipe else None
        self.stdout.write(fidelity_table(fidelity, expected))
