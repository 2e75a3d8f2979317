"""A job row as the engine's input: the plain-data RenderSpec, from the job's own record."""

from __future__ import annotations

from catalog.palette import PaletteColor
from catalog.selectors import palette_current
from gpu_worker.contract import RenderSpec
from renders.models import RenderJob


def render_spec_for(job: RenderJob) -> RenderSpec:
    """What the job asked for, not today's catalog: its product geometry, its recipe and
    its colours as measured when it was submitted (later palette edits do not leak in)."""
    palette = {c.code: c for c in palette_current()}
    for code, values in job.palette_snapshot.items():
        palette[code] = PaletteColor.from_snapshot(code, values)
    return RenderSpec(
        tile=job.tile,
        recipe=job.recipe_rendered,
        palette=tuple(palette.values()),
        params=job.render_params,
    )
