"""ControlNet experiments: a grid of hybrid renders, and its winners as a profile's table.

Staff choose a product, a recipe, angles and ControlNet settings (a type at a scale, or
off); each cell is an ordinary batch job through submit (so identical cells share a render
and every picture has its audit row). The winner per angle is the cell whose diffusion
kept the recipe's layout best: the smallest share error *before* colour correction (after
it, every cell is close to exact, so it cannot tell them apart), then the smaller error
after, then the faster render.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from catalog.models import ColorRecipe, TileProduct
from catalog.selectors import recipe_of
from gpu_worker.engines.diffusion.options import CONTROL_SCALE_RANGE, CONTROL_TYPES
from gpu_worker.params import ParamError, RenderParams, render_params_parse
from renders.errors import RenderRequestError
from renders.models import Experiment, ExperimentCell, ModelProfile, RenderJob
from renders.selectors import experiment_winners
from renders.services.submit import RecipeChoice, Requester, render_job_submit

OFF = "off"
CONTROLS = (OFF, *CONTROL_TYPES)
MAX_ANGLES = 12
MAX_SCALES = 6
MAX_CELLS = 60  # each a full render on a GPU: an hour of an H200 at most


def _refuse(field: str, message: str) -> RenderRequestError:
    return RenderRequestError(f"{field}: {message}", fields={field: [message]})


@dataclass(frozen=True, slots=True)
class Grid:
    """What an experiment tries: every angle with every setting."""

    angles: tuple[int, ...]
    settings: tuple[tuple[str, float], ...]  # (control type or "off", scale; 0 when off)


def experiment_grid(
    *, angles: Sequence[int], controls: Sequence[str], scales: Sequence[float]
) -> Grid:
    """The cells to render, checked: bounded counts, known types, scales in range."""
    if not angles:
        raise _refuse("angles", "name at least one angle")
    if len(angles) > MAX_ANGLES or len(scales) > MAX_SCALES:
        raise _refuse("angles", f"at most {MAX_ANGLES} angles and {MAX_SCALES} scales")
    for angle in angles:
        if isinstance(angle, bool) or not isinstance(angle, int) or not 0 <= angle <= 359:
            raise _refuse("angles", f"{angle!r} is not a whole number of degrees 0..359")
    unknown = [c for c in controls if c not in CONTROLS]
    if not controls or unknown:
        raise _refuse("controls", f"choose from {', '.join(CONTROLS)}")
    lo, hi = CONTROL_SCALE_RANGE
    for scale in scales:
        if isinstance(scale, bool) or not isinstance(scale, int | float) or not lo < scale <= hi:
            raise _refuse("scales", f"{scale!r} is not a conditioning scale ({lo:g} < s <= {hi:g})")
    if any(c != OFF for c in controls) and not scales:
        raise _refuse("scales", "a ControlNet needs at least one conditioning scale")
    settings: list[tuple[str, float]] = []
    for control in dict.fromkeys(controls):
        if control == OFF:
            settings.append((OFF, 0.0))
        else:
            settings.extend((control, float(s)) for s in dict.fromkeys(scales))
    grid = Grid(angles=tuple(sorted(set(angles))), settings=tuple(settings))
    cells = len(grid.angles) * len(grid.settings)
    if cells > MAX_CELLS:
        raise _refuse("angles", f"{cells} renders; an experiment makes at most {MAX_CELLS}")
    return grid


LIST_TEXT_MAX = 200  # characters of a comma-separated list


def _listed(text: str, field: str, kind: type[int] | type[float] | type[str]) -> list[Any]:
    if len(text) > LIST_TEXT_MAX:
        raise _refuse(field, f"longer than {LIST_TEXT_MAX} characters")
    items = [item.strip() for item in text.split(",") if item.strip()]
    if kind is str:
        return items
    try:
        if any(len(item) > 12 or not item.isascii() for item in items):
            raise ValueError(text)
        return [kind(item) for item in items]
    except ValueError as exc:
        noun = "whole numbers" if kind is int else "numbers"
        raise _refuse(field, f"{text!r} is not a comma-separated list of {noun}") from exc


def experiment_grid_parse(*, angles: str, controls: str, scales: str) -> Grid:
    """experiment_grid from comma-separated text (the admin's form, the command line)."""
    return experiment_grid(
        angles=_listed(angles, "angles", int),
        controls=_listed(controls, "controls", str),
        scales=_listed(scales, "scales", float),
    )


def experiment_check(
    *, profile: ModelProfile, grid: Grid, view: str, size: int, quality: str, seed: int
) -> RenderParams:
    """The parameters every cell shares, or a RenderRequestError naming what is wrong."""
    if "hybrid" not in settings.RENDER_ENGINES_ENABLED:
        raise _refuse("engine", "the hybrid engine is not enabled on this site")
    missing = [c for c, _ in grid.settings if c != OFF and c not in (profile.controlnets or {})]
    if missing:
        raise _refuse(
            "controls",
            f"profile {profile.name} names no {missing[0]} ControlNet folder "
            "(add it to the profile's ControlNets first)",
        )
    try:
        return render_params_parse(
            {"engine": "hybrid", "view": view, "size": size, "quality": quality, "seed": seed}
        )
    except ParamError as exc:
        raise RenderRequestError(str(exc), fields={k: [v] for k, v in exc.fields.items()}) from exc


def experiment_create(
    *,
    profile: ModelProfile,
    product: TileProduct,
    recipe: ColorRecipe,
    grid: Grid,
    requester: Requester,
    view: str = "perspective",
    size: int = 1024,
    quality: str = "standard",
    seed: int = 0,
) -> Experiment:
    """Record the experiment and submit one batch job per cell (after commit)."""
    base = experiment_check(
        profile=profile, grid=grid, view=view, size=size, quality=quality, seed=seed
    )
    choice = RecipeChoice(recipe=recipe_of(recipe=recipe), stored=recipe)
    # The audit trail says why these renders exist, whoever started the experiment.
    requester = replace(requester, source=RenderJob.Source.EXPERIMENT)
    with transaction.atomic():
        experiment = Experiment.objects.create(
            profile=profile,
            product=product,
            recipe=recipe,
            view=base.view,
            size=base.size,
            quality=base.quality,
            seed=seed,
            created_by=requester.user,
        )
        for angle in grid.angles:
            for control, scale in grid.settings:
                setting = None
                if control != OFF:
                    setting = {
                        "type": control,
                        "model": profile.controlnets[control],
                        "scale": scale,
                    }
                params = render_params_parse(
                    {
                        **base.as_dict(),
                        "angle": angle,
                        # The cell's own setting wins over the profile's table.
                        "options": {"model": profile.name, "controlnet": setting},
                    }
                )
                job = render_job_submit(
                    product_sku=product.sku,
                    recipe=choice,
                    params=params,
                    requester=requester,
                    queue=RenderJob.Queue.BATCH,
                ).job
                ExperimentCell.objects.create(
                    experiment=experiment, angle=angle, control=control, scale=scale, job=job
                )
    return experiment


def experiment_adopt(*, experiment: Experiment) -> ModelProfile:
    """Make each angle's winner the profile's ControlNet for the angles nearest it.

    A winner at angle a covers the angles up to halfway to its neighbours, round the
    circle (350° is nearer 0° than 270°). Every angle needs a finished cell, or nothing
    changes.
    """
    winners = experiment_winners(experiment=experiment)
    angles = sorted({cell.angle for cell in experiment.cells.all()})
    lost = [a for a in angles if a not in winners]
    if lost:
        raise RenderRequestError(
            f"no finished render at {', '.join(f'{a}°' for a in lost)} yet: "
            "wait for the grid, or re-render the failed cells",
            fields={"experiment": [f"angles without a result: {lost}"]},
        )
    rows = []
    ends = [*((a + b) // 2 for a, b in pairwise(angles)), 359]
    # Past halfway from the last angle to the first one (plus a turn): the first's again.
    wrap = (angles[-1] + angles[0] + 360) // 2
    if wrap < 359:
        ends[-1] = wrap
    for angle, up_to in zip(angles, ends, strict=True):
        rows.append(_table_row(winners[angle].cell, up_to))
    if wrap < 359:
        rows.append(_table_row(winners[angles[0]].cell, 359))
    profile = experiment.profile
    with transaction.atomic():
        profile.control_by_angle = rows
        profile.save(update_fields=["control_by_angle", "updated_at"])
        experiment.adopted_at = timezone.now()
        experiment.save(update_fields=["adopted_at"])
    return profile


def _table_row(cell: ExperimentCell, up_to: int) -> dict[str, object]:
    row: dict[str, object] = {"up_to": up_to, "type": cell.control}
    if cell.control != OFF:
        row["scale"] = cell.scale
    return row
