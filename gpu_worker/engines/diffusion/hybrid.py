"""The hybrid engine: the procedural render, redrawn by SDXL img2img, its colours put back.

The procedural render is exact in colour and geometry; diffusion adds the photographic
look. The redrawn picture is measured (fidelity before correction), each chip's mean
colour is set back to the procedural chip's (`correct.chip_colour_transfer`), and the
result is measured again, with the chips the procedural engine drew.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from gpu_worker.contract import OnImage, Progress, RenderResult, RenderSpec, ShouldStop

from ..procedural.engine import layers_fidelity, output_labels
from ..procedural.render import render_layers
from ..registry import engine_version
from .correct import chip_colour_transfer
from .engine import BatchRenderer, Noised, denoise, picture_measure
from .options import OptionError, diffusion_options_parse


class HybridEngine(BatchRenderer):
    name = "hybrid"
    version = engine_version("hybrid")

    def render_batch(
        self,
        specs: Sequence[RenderSpec],
        *,
        progress: Progress | None = None,
        should_stop: ShouldStop | None = None,
        on_image: OnImage | None = None,
    ) -> list[RenderResult]:
        """Specs with one batch key (diffusion_batch_key) redrawn in one pipeline call."""
        opts = diffusion_options_parse(specs[0].params.options)
        if opts.mode != "img2img" and "mode" in specs[0].params.options:
            raise OptionError("options.mode: the hybrid engine always starts from the render")
        t0 = time.perf_counter()
        layers = [render_layers(spec) for spec in specs]
        t_base = time.perf_counter() - t0
        run = denoise(
            self.cache,
            opts,
            [
                Noised(spec=s, base=base, start=base.image)
                for s, base in zip(specs, layers, strict=True)
            ],
            progress=progress,
            should_stop=should_stop,
        )
        results = []
        for spec, base, drawn in zip(specs, layers, run.images, strict=True):
            t1 = time.perf_counter()
            before = picture_measure(drawn, spec)
            labels = output_labels(base, spec.params.size)
            image = chip_colour_transfer(drawn, base.image, labels)
            if on_image is not None and len(specs) == 1:
                on_image(image)
            after = layers_fidelity(replace(base, image=image), spec)
            results.append(
                RenderResult(
                    image=np.ascontiguousarray(image),
                    fidelity=replace(after, before_correction=before),
                    engine=self.name,
                    engine_version=self.version,
                    model_revision=run.revision,
                    cache_hit=run.cache_hit,
                    oom_retries=run.oom_retries,
                    timings={
                        **run.timings,
                        "base": t_base,
                        "postprocess": time.perf_counter() - t1,
                        "total": time.perf_counter() - t0,
                    },
                )
            )
        if progress is not None:
            progress(100)
        return results
