"""The diffusion engine: SDXL txt2img, or img2img from the procedural render of the spec."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

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

from ..procedural.render import Layers, render_layers
from ..registry import engine_version
from .control import control_image
from .models import (
    ModelCache,
    ModelCacheUser,
    adapters_of,
    device_pick,
    model_folder,
    release_device_memory,
    revision_with_controlnet,
)
from .options import DiffusionOptions, diffusion_options_parse
from .prompt import tile_prompt

# Percent done when the pipeline is ready, and when the last denoising step ends; the
# colour measurement takes the rest.
READY_PERCENT = 5
DENOISED_PERCENT = 90
# A step's progress is passed on when it has grown this much, or this long since the last.
PROGRESS_EVERY_PERCENT = 10
PROGRESS_EVERY_S = 1.0


class DiffusionEngine(ModelCacheUser):
    name = "diffusion"
    version = engine_version("diffusion")

    def render(
        self,
        spec: RenderSpec,
        *,
        progress: Progress | None = None,
        should_stop: ShouldStop | None = None,
        on_image: OnImage | None = None,
    ) -> RenderResult:
        opts = diffusion_options_parse(spec.params.options)
        # The procedural render: img2img's start image, and the geometry a ControlNet sees.
        base = (
            render_layers(spec) if opts.mode == "img2img" or opts.controlnet is not None else None
        )
        run = denoise(
            self.cache,
            spec,
            opts,
            start=base.image if base is not None and opts.mode == "img2img" else None,
            base=base,
            progress=progress,
            should_stop=should_stop,
        )
        if on_image is not None:
            on_image(run.image)
        t0 = time.perf_counter()
        fidelity = fidelity_measure(
            image=run.image, palette=spec.palette, recipe=spec.recipe.components
        )
        if progress is not None:
            progress(100)
        return RenderResult(
            image=run.image,
            fidelity=fidelity,
            engine=self.name,
            engine_version=self.version,
            model_revision=run.revision,
            timings={**run.timings, "postprocess": time.perf_counter() - t0},
            cache_hit=run.cache_hit,
            oom_retries=run.oom_retries,
        )


@dataclass(frozen=True, slots=True)
class Denoised:
    image: NDArray[np.uint8]
    revision: str
    timings: dict[str, float]
    cache_hit: bool
    oom_retries: int


def denoise(
    cache: ModelCache,
    spec: RenderSpec,
    opts: DiffusionOptions,
    *,
    start: NDArray[np.uint8] | None,
    base: Layers | None = None,
    progress: Progress | None,
    should_stop: ShouldStop | None,
) -> Denoised:
    """One pipeline call: txt2img, or img2img from `start`; with a ControlNet, conditioned
    on an edge map of `base` (the procedural render). Progress up to DENOISED_PERCENT."""
    folder = model_folder(opts.model)
    control = None
    if opts.controlnet is not None:
        control = model_folder(opts.controlnet.model, "controlnet.model", "config.json")
        if base is None:
            raise ValueError("a ControlNet needs the procedural render it is conditioned on")
    if progress is not None:
        progress(0)
    t0 = time.perf_counter()
    loaded, hit = cache.get(folder, device_pick(), adapters_of(opts), opts.dtype)
    t_load = time.perf_counter() - t0
    pipe = loaded.pipeline("txt2img" if start is None else "img2img", control)
    loaded.use_scheduler(pipe, opts.scheduler)
    revision = (
        loaded.revision if control is None else revision_with_controlnet(loaded.revision, control)
    )
    steps = opts.steps_for(spec.params.quality)
    # img2img runs the last `strength` of the schedule.
    pipe_steps = steps if start is None else max(1, int(steps * opts.strength))
    if progress is not None:
        progress(READY_PERCENT)

    reported = {"percent": READY_PERCENT, "at": time.monotonic()}

    def on_step(_pipe: Any, step: int, _t: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        if should_stop is not None and should_stop():
            raise RenderCanceled(f"canceled after denoising step {step + 1}")
        if progress is not None:
            done = min(1.0, (step + 1) / pipe_steps)
            percent = READY_PERCENT + round(done * (DENOISED_PERCENT - READY_PERCENT))
            # At most every PROGRESS_EVERY_PERCENT or PROGRESS_EVERY_S, and the last step.
            now = time.monotonic()
            due = percent - reported["percent"] >= PROGRESS_EVERY_PERCENT
            if due or now - reported["at"] >= PROGRESS_EVERY_S or done >= 1.0:
                progress(percent)
                reported.update(percent=percent, at=now)
        return kwargs

    import torch

    call: dict[str, Any] = {
        "prompt": tile_prompt(spec),
        "negative_prompt": opts.negative_prompt or None,
        "num_inference_steps": steps,
        "guidance_scale": opts.guidance,
        "generator": torch.Generator(device="cpu").manual_seed(spec.seed),
        "output_type": "np",
        "callback_on_step_end": on_step,
    }
    if start is None:
        call["height"] = call["width"] = spec.params.size - spec.params.size % 8
    else:
        call["image"] = start.astype(np.float32) / 255.0
        call["strength"] = opts.strength
    if opts.controlnet is not None and base is not None:
        from PIL import Image

        edges = Image.fromarray(control_image(opts.controlnet.type, base, spec.params.size))
        call["control_image" if start is not None else "image"] = edges
        call["controlnet_conditioning_scale"] = opts.controlnet.scale
        call["control_guidance_start"] = opts.controlnet.start
        call["control_guidance_end"] = opts.controlnet.end
    t1 = time.perf_counter()
    retries = 0
    try:
        with torch.inference_mode():
            out = pipe(**call)
    except torch.OutOfMemoryError:
        # Free what the failed call held and try once more, lighter: the VAE decodes in
        # tiles and slices. A second failure is the job's error.
        retries = 1
        release_device_memory()
        loaded.lighten()
        call["generator"] = torch.Generator(device="cpu").manual_seed(spec.seed)
        with torch.inference_mode():
            out = pipe(**call)
    t2 = time.perf_counter()
    return Denoised(
        image=_to_uint8(out.images[0]),
        revision=revision,
        timings={"load": t_load, "inference": t2 - t1, "total": t2 - t0},
        cache_hit=hit,
        oom_retries=retries,
    )


def _to_uint8(image: NDArray[np.float32]) -> NDArray[np.uint8]:
    out: NDArray[np.uint8] = np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(out)
