"""One render in this process: no queue, no database writes."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from gpu_worker.monitor import device_describe
from gpu_worker.runner import render_run
from renders.errors import RenderRequestError
from renders.models import RenderJob
from renders.params import QUALITIES, VIEWS
from renders.services.submit import Requester, render_params_resolve
from renders.specs import recipe_snapshot, render_spec_build

CLI = Requester(client_id="cli", label="cli", source=RenderJob.Source.CLI, sees_unpublished=True)


def fidelity_table(fidelity: dict[str, object], recipe: dict[str, int] | None = None) -> str:
    shares: dict[str, float] = fidelity["shares"]  # type: ignore[assignment]
    delta: dict[str, float] = fidelity["delta_e00"]  # type: ignore[assignment]
    lines = [f"{'colour':<10}{'recipe %':>10}{'measured %':>12}{'ΔE2000':>9}"]
    codes = sorted(set(shares) | set(recipe or {}))
    for code in codes:
        target = "" if recipe is None else str(recipe.get(code, 0))
        measured = f"{shares.get(code, 0.0):.1f}"
        de = f"{delta[code]:.2f}" if code in delta else "-"
        lines.append(f"{code:<10}{target:>10}{measured:>12}{de:>9}")
    if fidelity.get("max_share_error_pp") is not None:
        lines.append(f"largest share error: {fidelity['max_share_error_pp']:.1f} pp")
    lines.append(f"tile fraction of the picture: {fidelity['tile_fraction']:.3f}")
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Render one picture in-process and print its colour fidelity."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--product", required=True, help="product SKU")
        parser.add_argument("--recipe", required=True, help='e.g. "RED:60,BLACK:40"')
        parser.add_argument("--view", default="top", choices=VIEWS)
        parser.add_argument("--angle", type=int, default=0)
        parser.add_argument("--size", type=int, default=1024)
        parser.add_argument("--engine", default="procedural")
        parser.add_argument("--model", default=None, help="model profile or folder (diffusion)")
        parser.add_argument("--seed", type=int, default=None)
        parser.add_argument("--quality", default="standard", choices=QUALITIES)
        parser.add_argument("--out", required=True, help="PNG file to write")
        parser.add_argument("--json", action="store_true", help="print JSON instead of a table")

    def handle(self, *args: object, **options: object) -> None:
        engine = str(options["engine"])
        extra = {"model": options["model"]} if options["model"] else {}
        if extra and engine == "procedural":
            raise CommandError("--model applies to the diffusion and hybrid engines only")
        try:
            _, _, params = render_params_resolve(
                product_sku=str(options["product"]),
                recipe=options["recipe"],
                requester=CLI,
                view=options["view"],
                angle=options["angle"],
                size=options["size"],
                seed=options["seed"],
                engine=engine,
                quality=options["quality"],
                options=extra,
            )
        except RenderRequestError as exc:
            raise CommandError(exc.message) from exc
        normalised = params.as_dict()
        spec = render_spec_build(params=normalised, snapshot=recipe_snapshot(params.recipe))
        outcome = render_run(spec=spec, engine_name=params.engine, device=device_describe())
        out = Path(str(options["out"]))
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(outcome.png)
        if options["json"]:
            report = {
                "out": str(out),
                "params": normalised,
                "width": outcome.width,
                "height": outcome.height,
                "engine_version": outcome.engine_version,
                "fidelity": outcome.fidelity,
                "timings": outcome.timings,
            }
            self.stdout.write(json.dumps(report, indent=2, ensure_ascii=False))
            return
        recipe = {c.code: c.percent for c in params.recipe.components}
        self.stdout.write(f"Wrote {out} ({outcome.width}x{outcome.height}, seed {params.seed})")
        self.stdout.write(fidelity_table(outcome.fidelity, recipe))
