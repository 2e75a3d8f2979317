"""GPU benchmark of the diffusion worker against bare diffusers, in one run.

Run on a GPU machine (a few minutes):

    .venv/bin/python scripts/bench_gpu.py [--model DIR] [--json]

With `--model` it times those weights; without, it builds the published SDXL base shapes
with random weights (random weights change the pictures, not the time) in a temporary
folder. For each case it times the bare pipeline call and the same job through the worker's
path (`gpu_worker.runner.render_run`: engine, colour measurement, PNG and thumbnail
encoding, resource monitor), and reports their ratio, the cold load, the second job's
load time, peak device memory and mean GPU utilisation. `--tiny` runs the same script on the
CPU with the tiny model (256 px, 4 steps): how the tests check it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _spec(model: Path, *, size: int, steps: int, mode: str, control: Path | None = None) -> Any:
    from catalog.geometry import TileGeometry
    from catalog.palette import stock_palette_colors
    from catalog.recipes import Component, Recipe
    from gpu_worker.contract import RenderSpec
    from gpu_worker.params import RenderParams

    options: dict[str, Any] = {"model": str(model), "steps": steps, "mode": mode}
    if mode == "img2img":
        options["strength"] = 0.5
    if control is not None:
        options["controlnet"] = {"type": "canny", "model": str(control), "scale": 0.5}
    return RenderSpec(
        tile=TileGeometry(
            shape="square", width_mm=500, height_mm=500, thickness_mm=30, granule_size="medium"
        ),
        recipe=Recipe(components=(Component("BLACK", 40), Component("RED", 60))),
        palette=stock_palette_colors(),
        params=RenderParams(engine="diffusion", size=size, seed=7, options=options),
    )


def _bare_input(spec: Any) -> Any:
    """What the bare call starts from, made before the clock starts: img2img's start image,
    and the procedural render a ControlNet's edge map is drawn from."""
    from gpu_worker.engines.diffusion.engine import Noised
    from gpu_worker.engines.diffusion.options import diffusion_options_parse
    from gpu_worker.engines.procedural.render import render_layers

    opts = diffusion_options_parse(spec.params.options)
    base = render_layers(spec) if opts.controlnet is not None else None
    start = None
    if opts.mode == "img2img":
        import numpy as np

        start = np.full((spec.params.size, spec.params.size, 3), 128, np.uint8)
    return Noised(spec=spec, base=base, start=start)


def _bare(engine: Any, item: Any) -> None:
    """The pipeline call alone, as a bare diffusers script makes it."""
    from gpu_worker.engines.diffusion.engine import denoise
    from gpu_worker.engines.diffusion.options import diffusion_options_parse

    opts = diffusion_options_parse(item.spec.params.options)
    denoise(engine.cache, opts, [item], progress=None, should_stop=None)


def _sync() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def _timed(fn: Any, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        _sync()
        t0 = time.perf_counter()
        fn()
        _sync()
        times.append(time.perf_counter() - t0)
    return times


def bench(
    model: Path, *, size: int, steps: int, repeat: int, control: Path | None = None
) -> dict[str, Any]:
    import torch

    from gpu_worker.engines.diffusion.engine import DiffusionEngine
    from gpu_worker.engines.diffusion.models import ModelCache, device_pick
    from gpu_worker.engines.registry import engine_get
    from gpu_worker.monitor import ResourceMonitor, device_describe
    from gpu_worker.runner import render_run

    device = device_pick()
    cuda = device == "cuda"
    worker_engine = engine_get("diffusion")
    assert isinstance(worker_engine, DiffusionEngine)
    # Cold load: from disk to the device, into the cache the worker path then uses.
    t0 = time.perf_counter()
    worker_engine.cache.get(model.resolve(), device)
    _sync()
    cold_load_s = time.perf_counter() - t0
    info = device_describe()
    rows = []
    cases: list[tuple[str, Path | None]] = [("txt2img", None), ("img2img", None)]
    if control is not None:
        cases.append(("txt2img", control))
    for mode, controlnet in cases:
        spec = _spec(model, size=size, steps=steps, mode=mode, control=controlnet)
        item = _bare_input(spec)
        _bare(worker_engine, item)  # warm-up: kernels, allocator, this case's pipeline
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        with ResourceMonitor(interval_s=0.5) as monitor:
            bare = _timed(lambda item=item: _bare(worker_engine, item), repeat)
        util = monitor.stop().mean("gpu_util")
        peak_gb = torch.cuda.max_memory_allocated() / 2**30 if cuda else None
        outcomes: list[Any] = []

        def job(spec: Any = spec, outcomes: list[Any] = outcomes) -> None:
            outcomes.append(render_run(spec=spec, device=info))

        worker = _timed(job, repeat)
        rows.append(
            {
                "case": f"{mode}{' + canny' if controlnet else ''}, {size} px, {steps} steps",
                "bare_s": round(statistics.median(bare), 3),
                "worker_s": round(statistics.median(worker), 3),
                "ratio": round(statistics.median(worker) / statistics.median(bare), 3),
                "second_job_load_s": round(outcomes[-1].timings.get("load", 0.0), 4),
                "peak_memory_gib": None if peak_gb is None else round(peak_gb, 2),
                "gpu_util_mean": util,
            }
        )
    # A fresh cache: what a second worker process would pay to load the same model.
    fresh = ModelCache()
    t0 = time.perf_counter()
    fresh.get(model.resolve(), device)
    _sync()
    return {
        "device": info.name,
        "torch": torch.__version__,
        "model": str(model),
        "cold_load_s": round(cold_load_s, 2),
        "warm_page_cache_load_s": round(time.perf_counter() - t0, 2),
        "cases": rows,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="a diffusers model folder")
    parser.add_argument(
        "--controlnet", type=Path, default=None, help="a ControlNet folder for --model"
    )
    parser.add_argument("--tiny", action="store_true", help="the tiny model on the CPU")
    parser.add_argument("--size", type=int, default=None)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    from gpu_worker.engines.diffusion.models import ALLOW_CPU_ENV
    from gpu_worker.engines.diffusion.tiny import (
        controlnet_from_unet_save,
        sdxl_random_save,
        tiny_sdxl_save,
    )

    size = args.size or (256 if args.tiny else 1024)
    steps = args.steps or (4 if args.tiny else 30)
    with tempfile.TemporaryDirectory() as scratch:
        model, control = args.model, args.controlnet
        if model is None:
            model = Path(scratch) / "sdxl"
            if args.tiny:
                os.environ[ALLOW_CPU_ENV] = "1"
                tiny_sdxl_save(model)
            else:
                print("building SDXL base shapes with random weights ...", file=sys.stderr)
                sdxl_random_save(model)
            # A ControlNet of the same shapes, made from its UNet (as published ones are).
            control = controlnet_from_unet_save(model, Path(scratch) / "controlnet")
        result = bench(model, size=size, steps=steps, repeat=args.repeat, control=control)
    if args.json:
        print(json.dumps(result, indent=2))
        return result
    print(f"{result['device']}; torch {result['torch']}; model {result['model']}")
    print(
        f"cold load {result['cold_load_s']} s; "
        f"again from the page cache {result['warm_page_cache_load_s']} s"
    )
    print(
        f"{'case':<36}{'bare s':>9}{'worker s':>10}{'ratio':>7}{'2nd load s':>11}"
        f"{'peak GiB':>10}{'util %':>8}"
    )
    for row in result["cases"]:
        print(
            f"{row['case']:<36}{row['bare_s']:>9}{row['worker_s']:>10}{row['ratio']:>7}"
            f"{row['second_job_load_s']:>11}{row['peak_memory_gib'] or '-':>10}"
            f"{row['gpu_util_mean'] or '-':>8}"
        )
    return result


if __name__ == "__main__":
    main()
