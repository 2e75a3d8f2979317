"""The procedural engine behind the Engine protocol: progress, cancel, timings, fidelity."""

from __future__ import annotations

import time

import cv2
import numpy as np
from numpy.typing import NDArray

from gpu_worker.colour.measure import fidelity_measure
from gpu_worker.contract import (
    OnImage,
    Progress,
    RenderCanceled,
    RenderResult,
    RenderSpec,
    ShouldStop,
)

from ..registry import engine_version
from .render import render_layers

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


def _at_output_size(mask: NDArray[np.bool_], size: int) -> NDArray[np.bool_]:
    """The top-face mask at the picture's size (the engine may draw supersampled)."""
    if mask.shape == (size, size):
        return mask
    small = cv2.resize(
        mask.view(np.uint8) * np.uint8(255), (size, size), interpolation=cv2.INTER_AREA
    )
    return small >= 128


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
        fidelity = fidelity_measure(
            image=layers.image,
            palette=spec.palette,
            recipe=spec.recipe.components,
            top_face=_at_output_size(layers.top, spec.params.size),
        )
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
        )
