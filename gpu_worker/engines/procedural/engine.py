"""The procedural engine behind the Engine protocol: progress, cancel, timings, fidelity."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from gpu_worker.colour.measure import fidelity_measure
from gpu_worker.contract import (
    Fidelity,
    OnImage,
    Progress,
    RenderCanceled,
    RenderResult,
    RenderSpec,
    ShouldStop,
)
from gpu_worker.imageio import THUMBNAIL_SIDE

from ..registry import engine_version
from .render import Layers, render_layers

# Percent done after each stage of render_layers; the fidelity measurement takes the rest.
_STAGE_PERCENT = {
    "placement": 10,
    "cells": 30,
    "warp": 40,
    "areas": 50,
    "albedo": 55,
    "shading": 65,
    "composite": 80,
}


def _at_output_size(chips: NDArray[np.int32], size: int) -> NDArray[np.int32]:
    """The top face's chip ids at the picture's size (the engine may draw supersampled)."""
    if chips.shape == (size, size):
        return chips
    # Every other pixel of a 2x drawing: ids cannot be averaged.
    step = chips.shape[0] // size
    return np.ascontiguousarray(chips[step // 2 :: step, step // 2 :: step][:size, :size])


def output_labels(layers: Layers, size: int) -> NDArray[np.int32]:
    """Every pixel's chip id at the picture's size (0 off the tile; a wall chip has its
    top twin's id)."""
    return _at_output_size(layers.labels, size)


def _thumbnail(spec: RenderSpec) -> NDArray[np.uint8] | None:
    """The same tile, recipe, view and seed drawn at thumbnail size.

    Shrunk to 256 px, a 1024 px picture's granules are 2 px: a mush in which neither a
    shopper nor a colour check can tell one granule from the next. Drawn at 256 px, the
    texture is a magnified swatch (see render.SWATCH_MIN_GRANULES), and the thumbnail's
    colours read as true as the full picture's. A picture that size or smaller is drawn
    as a swatch already and is its own thumbnail.
    """
    if spec.params.size <= THUMBNAIL_SIDE:
        return None
    small = replace(spec, params=replace(spec.params, size=THUMBNAIL_SIDE))
    return render_layers(small).image


def layers_fidelity(layers: Layers, spec: RenderSpec) -> Fidelity:
    """The engine's colour report: measured on the picture, with the chips it drew given."""
    return fidelity_measure(
        image=layers.image,
        palette=spec.palette,
        recipe=spec.recipe.components,
        chips=_at_output_size(np.where(layers.top, layers.labels, 0), spec.params.size),
    )


class ProceduralEngine:
    name = "procedural"
    version = engine_version("procedural")

    def render(
        self,
        spec: RenderSpec,
        *,
        progress: Progress | None = None,
        should_stop: ShouldStop | None = None,
        on_image: OnImage | None = None,
    ) -> RenderResult:
        def stage(name: str) -> None:
            if should_stop is not None and should_stop():
                raise RenderCanceled(f"canceled after stage {name!r}")
            if progress is not None:
                progress(_STAGE_PERCENT[name])

        if progress is not None:
            progress(0)
        t0 = time.perf_counter()
        layers = render_layers(spec, stage=stage)
        t1 = time.perf_counter()
        if on_image is not None:
            on_image(layers.image)
        fidelity = layers_fidelity(layers, spec)
        thumbnail = _thumbnail(spec)
        t2 = time.perf_counter()
        if should_stop is not None and should_stop():
            raise RenderCanceled("canceled after measuring")
        if progress is not None:
            progress(100)
        return RenderResult(
            image=layers.image,
            fidelity=fidelity,
            engine=self.name,
            engine_version=self.version,
            model_revision=None,
            timings={"inference": t1 - t0, "postprocess": t2 - t1, "total": t2 - t0},
            thumbnail=thumbnail,
        )
