"""Speed and memory of the procedural engine on one core.

Run: .venv/bin/python benchmarks/bench_procedural.py [--repeat N]
Threads are pinned to one before numpy/OpenCV load, so the numbers are per core.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gpu_worker.colour.analyzer import fidelity_measure  # noqa: E402
from gpu_worker.colour.convert import hex_to_rgb  # noqa: E402
from gpu_worker.engines.procedural.render import render_layers  # noqa: E402
from gpu_worker.spec import (  # noqa: E402
    PaletteColor,
    RecipeComponent,
    RenderSpec,
    TileGeometry,
)

cv2.setNumThreads(1)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _palette() -> tuple[PaletteColor, ...]:
    data = json.loads((ROOT / "catalog" / "data" / "palette.json").read_text(encoding="utf-8"))
    return tuple(
        PaletteColor(c["code"], tuple(c["lab"]), hex_to_rgb(c["hex"]), c["lightness_spread"])
        for c in data["colors"]
    )


def _spec(view: str, size: int, palette: tuple[PaletteColor, ...]) -> RenderSpec:
    return RenderSpec(
        tile=TileGeometry("square", 500.0, 500.0, 30.0, "fine"),
        recipe=(RecipeComponent("RED", 60), RecipeComponent("BLACK", 40)),
        palette=palette,
        view=view,  # type: ignore[arg-type]
        angle=0 if view == "top" else 30,
        size=size,
        seed=7,
    )


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    palette = _palette()
    print(f"machine: {_cpu_model()}, python {platform.python_version()}, 1 thread")
    # RSS is a process-wide high-water mark: each row shows it after that case, so the
    # first row (1024 px top) is that case's own peak.
    print(
        f"{'case':<22}{'median s':>10}{'min s':>9}{'measure s':>11}"
        f"{'tracemalloc MB':>16}{'max RSS MB':>12}"
    )
    readme = {}
    rss_1024 = 0.0
    for view, size in (("top", 1024), ("perspective", 1024), ("top", 256), ("top", 2048)):
        spec = _spec(view, size, palette)
        render_layers(spec)  # warm caches and lazy imports
        times, measure = [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            layers = render_layers(spec)
            t1 = time.perf_counter()
            fidelity_measure(image=layers.image, palette=palette, recipe=spec.recipe)
            measure.append(time.perf_counter() - t1)
            times.append(t1 - t0)
        tracemalloc.start()
        render_layers(spec)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        med = statistics.median(times)
        readme[(view, size)] = med
        print(
            f"{view + ' ' + str(size):<22}{med:>10.3f}{min(times):>9.3f}"
            f"{statistics.median(measure):>11.3f}{peak:>16.1f}{_rss_mb():>12.0f}"
        )
        if (view, size) == ("top", 1024):
            rss_1024 = _rss_mb()
    rss = _rss_mb()
    print(
        "README: procedural render on one core of "
        f"{_cpu_model()}: 1024 px top {readme[('top', 1024)]:.2f} s, "
        f"perspective {readme[('perspective', 1024)]:.2f} s, "
        f"2048 px top {readme[('top', 2048)]:.2f} s; peak RSS {rss_1024:.0f} MB at 1024 px, "
        f"{rss:.0f} MB at 2048 px with the fidelity measurement "
        "(`python benchmarks/bench_procedural.py`)."
    )


if __name__ == "__main__":
    main()
