"""A colour analysis on a worker: decode the stored photo, find its stock colours, and,
told a recipe, check the photo against it. One report shape serves the API, the admin and
`analyze_colors`."""

from __future__ import annotations

import hashlib
import logging
import resource
import time
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from catalog.palette import PaletteColor
from catalog.recipes import Recipe
from catalog.selectors import palette_current, recipe_list
from renders.models import ColourAnalysis
from renders.services.analyses import RUNNING_LOST_AFTER_S, STORE_RETRY_DELAYS
from renders.services.notify import render_job_notify
from renders.storage import media_put_retrying

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from gpu_worker.colour.measure import ColourMap

logger = logging.getLogger(__name__)

RECIPES_COMPARED = 2000  # the catalog's recipes looked at for the nearest ones


def colour_report(
    *, image: NDArray[np.uint8], palette: list[PaletteColor]
) -> tuple[dict[str, Any], ColourMap | None]:
    """Not told the recipe: the stock colours with confidence and runner-up, the nearest
    whole-percent mix and catalog recipes, and warnings about the picture; and the map of
    what each pixel was counted as, to draw."""
    # Imported here: the web process loads this module (through the task list) and must
    # stay free of numpy and OpenCV.
    from gpu_worker.colour.identify import colours_identify
    from gpu_worker.colour.nearest import recipes_nearest, stock_mix_nearest

    found = colours_identify(image=image, palette=palette)
    measured = found.shares
    report: dict[str, Any] = {
        "shares": measured,
        "colours": [asdict(colour) for colour in found.colours],
        "tile_fraction": found.tile_fraction,
        "granules": found.granules,
        "warnings": list(found.warnings),
        "nearest_stock_mix": None,
        "nearest_recipes": [],
    }
    if measured:
        report["nearest_stock_mix"] = asdict(stock_mix_nearest(measured=measured, palette=palette))
        candidates = [
            (str(r.pk), r.name, [(c.color.code, c.percent) for c in r.components.all()])
            for r in recipe_list()[:RECIPES_COMPARED]
        ]
        report["nearest_recipes"] = [
            asdict(match)
            for match in recipes_nearest(measured=measured, candidates=candidates, palette=palette)
        ]
    return report, found.colour_map


def analysis_pictures_store(
    *, image: NDArray[np.uint8], colour_map: ColourMap, palette: list[PaletteColor]
) -> dict[str, str]:
    """Draw the tile mask and the colour map and store them by their content: {kind: name}."""
    from gpu_worker.colour.overlay import pictures_draw

    names = {}
    for kind, (content, ext) in pictures_draw(
        image=image, colour_map=colour_map, palette=palette
    ).items():
        digest = hashlib.sha256(content).hexdigest()
        names[kind] = media_put_retrying(
            name=f"analyses/maps/{digest[:2]}/{digest}.{ext}",
            content=content,
            delays=STORE_RETRY_DELAYS,
        )
    return names


def recipe_check(
    *, image: NDArray[np.uint8], palette: list[PaletteColor], recipe: Recipe, tolerance_pp: float
) -> dict[str, Any]:
    """Told the recipe (the accurate path): each colour's share, and pass or fail."""
    from gpu_worker.colour.measure import fidelity_measure

    fidelity = fidelity_measure(image=image, palette=palette, recipe=recipe.components)
    error = fidelity.max_share_error_pp
    return {
        "recipe": recipe.canonical,
        "shares": fidelity.shares,
        "max_share_error_pp": error,
        "tolerance_pp": tolerance_pp,
        "passed": error is not None and error <= tolerance_pp,
        "appearance_delta_e00": fidelity.appearance_delta_e00,
    }


def _pictures(
    image: NDArray[np.uint8],
    colour_map: ColourMap,
    palette: list[PaletteColor],
    warnings: list[str],
) -> dict[str, str]:
    """The pictures, or none and a warning: they illustrate the figures, which stand
    without them, so a store that will not take them does not cost the analysis."""
    try:
        return analysis_pictures_store(image=image, colour_map=colour_map, palette=palette)
    except Exception as exc:
        logger.exception("storing an analysis's pictures failed")
        warnings.append(f"the tile mask and colour map could not be stored ({type(exc).__name__})")
        return {}


def _claim(analysis_id: str, worker_name: str) -> ColourAnalysis | None:
    with transaction.atomic():
        analysis = ColourAnalysis.objects.select_for_update().filter(pk=analysis_id).first()
        if analysis is None or analysis.is_terminal:
            return None
        now = timezone.now()
        if (
            analysis.status == ColourAnalysis.Status.RUNNING
            and analysis.started_at is not None
            and (now - analysis.started_at).total_seconds() < RUNNING_LOST_AFTER_S
        ):
            return None  # a duplicate message: another worker has it
        if analysis.attempts >= settings.RENDER_MAX_ATTEMPTS:
            _finish(analysis, code="attempts_exhausted", message="Gave up after its attempts.")
            return None
        analysis.status = ColourAnalysis.Status.RUNNING
        analysis.attempts += 1
        analysis.worker = worker_name
        analysis.started_at = now
        analysis.save(update_fields=["status", "attempts", "worker", "started_at"])
        # Long polls of an analysis wait on a channel named by its id, as a render's do.
        render_job_notify(job_ids=[analysis.pk])
        return analysis


def _finish(
    analysis: ColourAnalysis,
    *,
    code: str = "",
    message: str = "",
    result: dict[str, Any] | None = None,
    telemetry: dict[str, Any] | None = None,
) -> None:
    analysis.status = ColourAnalysis.Status.FAILED if code else ColourAnalysis.Status.SUCCEEDED
    analysis.error_code, analysis.error_message = code, message
    analysis.result = result
    analysis.telemetry = telemetry or {}
    analysis.finished_at = timezone.now()
    analysis.save(
        update_fields=[
            "status",
            "error_code",
            "error_message",
            "result",
            "telemetry",
            "finished_at",
        ]
    )
    render_job_notify(job_ids=[analysis.pk])


def colour_analysis_execute(*, analysis_id: str, worker_name: str) -> str:
    """Run one analysis if it is due; safe to run twice. Returns what happened."""
    from gpu_worker.imageio import image_decode

    analysis = _claim(analysis_id, worker_name)
    if analysis is None:
        return "skipped"
    started = time.perf_counter()
    times: dict[str, Any] = {
        "queue_wait_s": round((analysis.started_at - analysis.created_at).total_seconds(), 3)
        if analysis.started_at
        else None
    }
    outcome: tuple[str, str, dict[str, Any] | None]
    try:
        with default_storage.open(str(analysis.image.name), "rb") as stored:
            data = stored.read()
        image = image_decode(data)
        times["decode_s"] = round(time.perf_counter() - started, 3)
        palette = palette_current()
        step = time.perf_counter()
        result, colour_map = colour_report(image=image, palette=palette)
        times["identify_s"] = round(time.perf_counter() - step, 3)
        if colour_map is not None:
            step = time.perf_counter()
            result["pictures"] = _pictures(image, colour_map, palette, result["warnings"])
            times["pictures_s"] = round(time.perf_counter() - step, 3)
        if analysis.recipe_canonical:
            step = time.perf_counter()
            result["check"] = recipe_check(
                image=image,
                palette=palette,
                recipe=Recipe.from_canonical(analysis.recipe_canonical),
                tolerance_pp=analysis.tolerance_pp,
            )
            times["check_s"] = round(time.perf_counter() - step, 3)
    except ValueError as exc:  # the stored bytes do not decode (checked at upload: rare)
        outcome = ("bad_image", str(exc)[:500], None)
    except Exception as exc:
        logger.exception("colour analysis %s failed", analysis.pk)
        outcome = ("analysis_error", f"{type(exc).__name__}: {exc}"[:500], None)
    else:
        outcome = ("", "", result)
    times["total_s"] = round(time.perf_counter() - started, 3)
    # ru_maxrss is in KiB on Linux.
    times["rss_peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    code, message, report = outcome
    with transaction.atomic():
        mine = (
            ColourAnalysis.objects.select_for_update()
            .filter(pk=analysis.pk, status=ColourAnalysis.Status.RUNNING, worker=worker_name)
            .first()
        )
        if mine is None:
            return "superseded"
        _finish(mine, code=code, message=message, result=report, telemetry=times)
    return "failed" if code else "succeeded"
