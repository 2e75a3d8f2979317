"""Speed and memory of the procedural engine on one core.

Run: .venv/bin/python benchmarks/bench_procedural.py [--repeat N]
Threads are pinned to one before numpy/OpenCV load, so the numbers are per core, and malloc
keeps freed memory as a render worker's does (--default-allocator: as glibc comes).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from machine import cpu_model  # noqa: E402  (beside this script)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from catalog.geometry import TileGeometry  # noqa: E402
from catalog.palette import PaletteColor, stock_palette_colors  # noqa: E402
from catalog.recipes import Component, Recipe  # noqa: E402
from gpu_worker.allocator import KEEP_MB_DEFAULT, allocator_keep_freed  # noqa: E402
from gpu_worker.colour.ciede2000 import distinct_codes  # noqa: E402
from gpu_worker.colour.measure import fidelity_measure  # noqa: E402
from gpu_worker.contract import Fidelity, RenderSpec  # noqa: E402
from gpu_worker.engines.procedural.engine import layers_fidelity  # noqa: E402
from gpu_worker.engines.procedural.render import render_layers  # noqa: E402
from gpu_worker.imageio import THUMBNAIL_SIDE, image_decode, thumbnail_webp  # noqa: E402
from gpu_worker.params import RenderParams  # noqa: E402

cv2.setNumThreads(1)


def _recipe(percents: dict[str, int]) -> Recipe:
    """Components in the canonical order (by colour code), as the recipe parser makes them."""
    return Recipe(components=tuple(Component(code, p) for code, p in sorted(percents.items())))


def _spec(view: str, size: int, palette: tuple[PaletteColor, ...]) -> RenderSpec:
    return RenderSpec(
        tile=TileGeometry(
            shape="square", width_mm=500, height_mm=500, thickness_mm=30, granule_size="fine"
        ),
        recipe=_recipe({"RED": 60, "BLACK": 40}),
        palette=palette,
        params=RenderParams(view=view, angle=0 if view == "top" else 30, size=size, seed=7),
    )


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _random_spec(
    seed: int, palette: tuple[PaletteColor, ...], colours: tuple[str, ...] | None = None
) -> RenderSpec:
    """A random valid spec: 1-8 colours (of `colours`, default any), any shape, view and
    angle, 256-1024 px."""
    rng = np.random.default_rng(seed)
    pool = [c.code for c in palette] if colours is None else list(colours)
    k = int(rng.integers(1, min(8, len(pool)) + 1))
    cuts = sorted(int(c) for c in rng.choice(np.arange(1, 100), k - 1, replace=False))
    bounds = [0, *cuts, 100]
    codes = rng.choice(pool, k, replace=False)
    shape = str(rng.choice(["square", "brick", "puzzle"]))
    w, h = (200, 100) if shape == "brick" else (500, 500)
    tile = TileGeometry.from_dict(
        {
            "shape": shape,
            "width_mm": w,
            "height_mm": h,
            "thickness_mm": 30,
            "granule_size": str(rng.choice(["fine", "medium", "coarse"])),
        }
    )
    return RenderSpec(
        tile=tile,
        recipe=_recipe({str(c): bounds[i + 1] - bounds[i] for i, c in enumerate(codes)}),
        palette=palette,
        params=RenderParams(
            view=str(rng.choice(["top", "perspective"])),
            angle=int(rng.integers(0, 360)),
            size=int(rng.choice([256, 512, 768, 1024])),
            seed=seed,
        ),
    )


_MODES = {
    "engine": "engine report (top face known):",
    "file": "picture file only (analyze_colors, top face found in the picture):",
    "thumbnail": "the job's WebP thumbnail (analyze_colors; target: every share within 3 pp):",
}


def _measure(spec: RenderSpec, palette: tuple[PaletteColor, ...], mode: str) -> Fidelity:
    """The fidelity as the engine reports it, as the PNG file reads, or as the job's
    thumbnail (the spec drawn at thumbnail size, stored as WebP) reads."""
    if mode == "thumbnail":
        small = replace(spec, params=replace(spec.params, size=THUMBNAIL_SIDE))
        webp = image_decode(thumbnail_webp(render_layers(small).image))
        return fidelity_measure(image=webp, palette=palette, recipe=spec.recipe.components)
    layers = render_layers(spec)
    if mode == "engine":
        return layers_fidelity(layers, spec)
    return fidelity_measure(image=layers.image, palette=palette, recipe=spec.recipe.components)


def _accuracy(
    palette: tuple[PaletteColor, ...], n: int, mode: str, colours: tuple[str, ...] | None = None
) -> None:
    """Share error and ΔE2000 of the analyzer on the renderer's own pictures."""
    print(_MODES[mode] if colours is None else f"{_MODES[mode]} (colours {', '.join(colours)})")
    rows = []
    for seed in range(n):
        spec = _random_spec(seed, palette, colours)
        f = _measure(spec, palette, mode)
        # A colour the analyzer could not measure at all counts as a miss.
        de_max = max(f.delta_e00.values(), default=float("inf"))
        if len(f.delta_e00) < len(spec.recipe.components):
            de_max = float("inf")
        rows.append((f.max_share_error_pp or 0.0, de_max, spec.params.view))
    err = np.array([r[0] for r in rows])
    de = np.array([r[1] for r in rows])
    ok = (err <= 1.0) & (de <= 2.0)
    for view in ("top", "perspective"):
        sel = np.array([r[2] == view for r in rows])
        if sel.any():
            print(
                f"accuracy {view:<12} n={sel.sum():>2}: share error pp max {err[sel].max():.1f} "
                f"median {np.median(err[sel]):.1f}; max dE2000 {de[sel].max():.2f}; "
                f"within target {ok[sel].mean() * 100:.0f} %; "
                f"within 3 pp {(err[sel] <= 3.0).mean() * 100:.0f} %"
            )
    print(
        f"accuracy all {n} specs: max share error {err.max():.1f} pp, "
        f"median {np.median(err):.1f} pp, "
        f"share error <= 1 pp in {(err <= 1.0).mean() * 100:.0f} %, "
        f"max dE2000 {de.max():.2f}, dE <= 2 in {(de <= 2.0).mean() * 100:.0f} %, "
        f"both (the target) in {ok.mean() * 100:.0f} %"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--specs", type=int, default=30, help="random specs for accuracy")
    parser.add_argument(
        "--default-allocator",
        action="store_true",
        help="glibc's malloc as it comes, not as a render worker sets it (gpu_worker/allocator.py)",
    )
    args = parser.parse_args()
    palette = stock_palette_colors()
    kept = not args.default_allocator and allocator_keep_freed(keep_bytes=KEEP_MB_DEFAULT << 20)
    allocator = "as a render worker sets it" if kept else "glibc's default"
    print(f"machine: {cpu_model()}, python {platform.python_version()}, 1 thread")
    print(f"malloc: {allocator}")
    print(
        f"{'case':<18}{'render s':>10}{'fidelity s':>12}{'sum s':>8}"
        f"{'tracemalloc MB':>16}{'max RSS MB':>12}"
    )
    for view, size in (("top", 1024), ("perspective", 1024), ("top", 2048)):
        spec = _spec(view, size, palette)
        render_layers(spec)  # warm caches and lazy imports
        times, measure = [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            layers = render_layers(spec)
            t1 = time.perf_counter()
            layers_fidelity(layers, spec)
            measure.append(time.perf_counter() - t1)
            times.append(t1 - t0)
        # Peak Python-heap memory of the whole engine call (render + fidelity).
        tracemalloc.start()
        layers_fidelity(render_layers(spec), spec)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        r, m = statistics.median(times), statistics.median(measure)
        print(
            f"{view + ' ' + str(size):<18}{r:>10.3f}{m:>12.3f}{r + m:>8.3f}"
            f"{peak:>16.1f}{_rss_mb():>12.0f}"
        )
    distinct = distinct_codes({c.code: c.lab for c in palette}, 20.0)
    _accuracy(palette, args.specs, "engine")
    _accuracy(palette, args.specs, "file")
    _accuracy(palette, args.specs, "file", distinct)
    _accuracy(palette, args.specs, "thumbnail")
    _accuracy(palette, args.specs, "thumbnail", distinct)


if __name__ == "__main__":
    main()
