"""Estimate the colour mix of any tile picture against the stock palette."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from catalog.palette import PaletteColor
from catalog.recipes import RecipeError
from catalog.selectors import palette_current, recipe_validate
from gpu_worker.colour.measure import ColourMap, fidelity_measure_mapped
from gpu_worker.colour.overlay import pictures_draw
from gpu_worker.imageio import image_decode
from renders.management.reports import fidelity_table, identification_table
from renders.worker.analysis import colour_report

# The pictures' file names: <image name>.mask.webp and <image name>.colours.png.
PICTURE_NAMES = {"tile_mask": "mask", "colour_map": "colours"}


class Command(BaseCommand):
    help = (
        "Estimate each colour's share of the tile area and its ΔE2000; without --recipe, "
        "which stock colours it holds, how sure that is, and the nearest recipes."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("image", help="PNG, JPEG or WebP file")
        parser.add_argument("--recipe", default=None, help='expected mix, e.g. "RED:60,BLACK:40"')
        parser.add_argument("--json", action="store_true")
        parser.add_argument(
            "--pictures",
            metavar="DIR",
            default=None,
            help="also write the tile mask (<name>.mask.webp) and what each granule was "
            "counted as (<name>.colours.png) into DIR",
        )

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
        palette = palette_current()
        pictures = Path(str(options["pictures"])) if options["pictures"] else None
        if recipe is None:
            colour_map = self._identify(image, palette, as_json=bool(options["json"]))
        else:
            measured, colour_map = fidelity_measure_mapped(
                image=image, palette=palette, recipe=recipe
            )
            self._report(measured.to_dict(), recipe, as_json=bool(options["json"]))
        if pictures is not None and colour_map is not None:
            self._pictures_write(pictures / path.stem, image, colour_map, palette)

    def _report(self, fidelity: dict[str, Any], recipe: Any, *, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps(fidelity, indent=2, ensure_ascii=False))
            return
        expected = {c.code: c.percent for c in recipe}
        self.stdout.write(fidelity_table(fidelity, expected))

    def _identify(
        self, image: Any, palette: list[PaletteColor], *, as_json: bool
    ) -> ColourMap | None:
        """Not told the recipe: which stock colours, how sure, and the nearest recipes."""
        found, colour_map = colour_report(image=image, palette=palette)
        report = {**found, "max_share_error_pp": None}
        if as_json:
            for warning in report["warnings"]:  # the JSON carries them too; a person sees these
                self.stderr.write(f"warning: {warning}")
            self.stdout.write(json.dumps(report, indent=2, ensure_ascii=False))
        else:
            self.stdout.write(identification_table(report))
        return colour_map

    def _pictures_write(
        self, stem: Path, image: Any, colour_map: ColourMap, palette: list[PaletteColor]
    ) -> None:
        written = []
        try:
            stem.parent.mkdir(parents=True, exist_ok=True)
            for kind, (content, ext) in pictures_draw(
                image=image, colour_map=colour_map, palette=palette
            ).items():
                path = stem.with_name(f"{stem.name}.{PICTURE_NAMES[kind]}.{ext}")
                path.write_bytes(content)
                written.append(str(path))
        except OSError as exc:
            raise CommandError(f"cannot write the pictures: {exc}") from exc
        # stderr: --json keeps stdout one JSON document.
        self.stderr.write(f"pictures: {' '.join(written)}")
