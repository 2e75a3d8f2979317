"""The diffusion engine: SDXL txt2img, or img2img from the procedural render of the spec."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

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


class BatchRenderer(ModelCacheUser):
    """An engine whose one render is a batch of one."""

    def render(
        self,
        spec: RenderSpec,
        *,
        progress: Progress | None = None,
        should_stop: ShouldStop | None = None,
        on_image: OnImage | None = None,
    ) -> RenderResult:
        return self.render_batch(
            [spec], progress=progress, should_stop=should_stop, on_image=on_image
        )[0]

    def render_batch(
        self,
        specs: Sequence[RenderSpec],
        *,
        progress: Progress | None = None,
        should_stop: ShouldStop | None = None,
        on_image: OnImage | None = None,
    ) -> list[RenderResult]:
        raise NotImplementedError


class DiffusionEngine(BatchRenderer):
    name = "diffusion"
    version = engine_version("diffusion")

    def render_batch(
        self,
        specs: Sequence[RenderSpec],
        *,
        progress: Progress | None = None,
        should_stop: ShouldStop | None = None,
        on_image: OnImage | None = None,
    ) -> list[RenderResult]:
        """Specs with one batch key (diffusion_batch_key) in one pipeline call."""
        opts = diffusion_options_parse(specs[0].params.options)
        run = denoise(
            self.cache,
            opts,
            [_noised(spec, opts) for spec in specs],
            progress=progress,
            should_stop=should_stop,
        )
        if on_image is not None and len(specs) == 1:
            on_image(run.images[0])
        results = []
        for spec, image in zip(specs, run.images, strict=True):
            t0 = time.perf_counter()
            fidelity = picture_measure(image, spec)
            results.append(
                RenderResult(
                    image=image,
                    fidelity=fidelity,
                    engine=self.name,
                    engine_version=self.version,
                    model_revision=run.revision,
                    timings={**run.timings, "postprocess": time.perf_counter() - t0},
                    cache_hit=run.cache_hit,
                    oom_retries=run.oom_retries,
                )
            )
        if progress is not None:
            progress(100)
        return results


# A diffusion picture's colours are measured on a copy at most this large. On 16 random
# procedural renders at 1024 px the largest share error was median 0.4 pp, worst 2.3 (at
# full size 0.3 and 1.8), in 0.055 s instead of 0.18 s on this CPU: next to a 1.7 s
# pipeline call on an H200 that is the difference between about 1.03x and 1.11x.
MEASURE_MAX_PX = 512


def picture_measure(image: NDArray[np.uint8], spec: RenderSpec) -> Fidelity:
    """The analyzer's fidelity of a picture the model drew, on a copy of at most
    MEASURE_MAX_PX (shrunk by area averaging, which keeps each colour's share)."""
    import cv2

    height, width = image.shape[:2]
    scale = MEASURE_MAX_PX / max(height, width)
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        image = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), np.uint8)
    return fidelity_measure(image=image, palette=spec.palette, recipe=spec.recipe.components)


@dataclass(frozen=True, slots=True)
class Noised:
    """One picture of a pipeline call: its spec, the procedural render it is conditioned
    on (None for plain txt2img), and img2img's start image (None for txt2img)."""

    spec: RenderSpec
    base: Layers | None = None
    start: NDArray[np.uint8] | None = None


def _noised(spec: RenderSpec, opts: DiffusionOptions) -> Noised:
    """The procedural render, where needed: img2img's start image, and the geometry a
    ControlNet sees."""
    if opts.mode != "img2img" and opts.controlnet is None:
        return Noised(spec=spec)
    base = render_layers(spec)
    return Noised(spec=spec, base=base, start=base.image if opts.mode == "img2img" else None)


@dataclass(frozen=True, slots=True)
class Denoised:
    images: list[NDArray[np.uint8]]
    revision: str
    timings: dict[str, float]
    cache_hit: bool
    oom_retries: int


def denoise(
    cache: ModelCache,
    opts: DiffusionOptions,
    items: Sequence[Noised],
    *,
    progress: Progress | None,
    should_stop: ShouldStop | None,
) -> Denoised:
    """One pipeline call for all `items` (one batch key: same model, size and steps):
    txt2img, or img2img from each item's start; with a ControlNet, conditioned on an edge
    map of each item's procedural render. Progress up to DENOISED_PERCENT."""
    folder = model_folder(opts.model)
    control = None
    if opts.controlnet is not None:
        control = model_folder(opts.controlnet.model, "controlnet.model", "config.json")
        if any(item.base is None for item in items):
            raise ValueError("a ControlNet needs the procedural render it is conditioned on")
    img2img = items[0].start is not None
    if progress is not None:
        progress(0)
    t0 = time.perf_counter()
    loaded, hit = cache.get(folder, device_pick(), adapters_of(opts), opts.dtype)
    t_load = time.perf_counter() - t0
    pipe = loaded.pipeline("img2img" if img2img else "txt2img", control)
    loaded.use_scheduler(pipe, opts.scheduler)
    revision = (
        loaded.revision if control is None else revision_with_controlnet(loaded.revision, control)
    )
    size = items[0].spec.params.size
    steps = opts.steps_for(items[0].spec.params.quality)
    # img2img runs the last `strength` of the schedule.
    pipe_steps = max(1, int(steps * opts.strength)) if img2img else steps
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

    def generators() -> Any:
        # One per picture, seeded by its own spec: a picture does not depend on its batch.
        made = [torch.Generator(device="cpu").manual_seed(i.spec.seed) for i in items]
        return made[0] if len(made) == 1 else made

    # The textual inversions' words are the model's trigger tokens.
    tokens = [ti.token for ti in opts.textual_inversions]
    prompts = [tile_prompt(item.spec, template=opts.prompt, tokens=tokens) for item in items]
    call: dict[str, Any] = {
        "prompt": prompts[0] if len(prompts) == 1 else prompts,
        "negative_prompt": opts.negative_prompt or None,
        "num_inference_steps": steps,
        "guidance_scale": opts.guidance,
        "generator": generators(),
        "output_type": "np",
        "callback_on_step_end": on_step,
    }
    if img2img:
        starts = [item.start.astype(np.float32) / 255.0 for item in items if item.start is not None]
        call["image"] = starts[0] if len(starts) == 1 else starts
        call["strength"] = opts.strength
    else:
        call["height"] = call["width"] = size - size % 8
    if opts.controlnet is not None:
        from PIL import Image

        edges = [
            Image.fromarray(control_image(opts.controlnet.type, item.base, size))
            for item in items
            if item.base is not None
        ]
        call["control_image" if img2img else "image"] = edges[0] if len(edges) == 1 else edges
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
        call["generator"] = generators()
        with torch.inference_mode():
            out = pipe(**call)
    t2 = time.perf_counter()
    return Denoised(
        images=[_to_uint8(image) for image in out.images],
        revision=revision,
        timings={"load": t_load, "inference": t2 - t1, "total": t2 - t0},
        cache_hit=hit,
        oom_retries=retries,
    )


def _to_uint8(image: NDArray[np.float32]) -> NDArray[np.uint8]:
    out: NDArray[np.uint8] = np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(out)
