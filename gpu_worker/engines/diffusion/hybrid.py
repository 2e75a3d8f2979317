"""The hybrid engine: the procedural render, redrawn by SDXL img2img, its colours put back.

The procedural render is exact in colour and geometry; diffusion adds the photographic
look. The redrawn picture is measured (fidelity before correction), each chip's mean
colour is set back to the procedural chip's (`correct.chip_colour_transfer`), and the
result is measured again, with the chips the procedural engine drew.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from gpu_worker.colour.measure import fidelity_measure
from gpu_worker.contract import OnImage, Progress, RenderResult, RenderSpec, ShouldStop

from ..procedural.engine import layers_fidelity, output_labels
from ..procedural.render import render_layers
from ..registry import engine_version
from .correct import chip_colour_transfer
from .engine import denoise
from .models import ModelCacheUser
from .options import OptionError, diffusion_options_parse


class HybridEngine(ModelCacheUser):
    name = "hybrid"
    version = engine_version("hybrid")

    def render(
        self,
        spec: RenderSpec,
        *,
        progress: Progress | None = None,
        should_stop: ShouldStop | None = None,
        on_image: OnImage | None = None,
    ) -> RenderResult:
        opts = diffusion_options_parse(spec.params.options)
        if opts.mode != "img2img" and "mode" in spec.params.options:
            raise OptionError("options.mode: the hybrid engine always starts from the render")
        t0 = time.perf_counter()
        layers = render_layers(spec)
        t_base = time.perf_counter() - t0
        run = denoise(
            self.cache,
            spec,
            opts,
            start=layers.image,
            base=layers,
            progress=progress,
            should_stop=should_stop,
        )
        t1 = time.perf_counter()
        before = fidelity_measure(
            image=run.image, palette=spec.palette, recipe=spec.recipe.components
        )
        labels = output_labels(layers, spec.params.size)
        image = chip_colour_transfer(run.image, layers.image, labels)
        if on_image is not None:
            on_image(image)
        after = layers_fidelity(replace(layers, image=image), spec)
        if progress is not None:
            progress(100)
        return RenderResult(
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
