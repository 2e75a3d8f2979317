"""One render, start to encoded bytes, with timings and resource samples. No ORM.

The worker's execute step (renders/worker/execute.py, run by the Celery task and by the
in-process `manage.py render`) feeds it a RenderSpec and hooks (progress, cancel,
heartbeat) and stores what comes back. The spec's parameters name the engine.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from gpu_worker.contract import BatchEngine, Progress, RenderSpec, ShouldStop
from gpu_worker.monitor import DeviceInfo, MonitorSummary, ResourceMonitor, Sample

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

# Engines this process has loaded: a later job on the same engine is a cache hit.
_loaded_engines: set[str] = set()


@dataclass(frozen=True, slots=True)
class RenderOutcome:
    png: bytes
    thumbnail_webp: bytes
    width: int
    height: int
    digest: str  # sha256 of the PNG: the content address of the stored file
    fidelity: dict[str, Any]
    engine: str
    engine_version: str
    model_revision: str | None
    cache_hit: bool
    timings: dict[str, float]
    monitor: MonitorSummary
    device: DeviceInfo
    versions: dict[str, str] = field(default_factory=dict)
    oom_retries: int = 0
    batch_size: int = 1  # pictures made in the same engine call


@cache
def library_versions() -> dict[str, str]:
    """Versions of what shaped the picture, for the audit record."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for package in (
        "numpy",
        "opencv-python-headless",
        "pillow",
        "torch",
        "diffusers",
        "transformers",
    ):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            continue
    return found


class _Encoder:
    """PNG encoding on a side thread, overlapping the engine's measurement.

    zlib releases the GIL, so on a machine with a spare core the PNG costs the job almost
    nothing. The thumbnail waits for the result: an engine may hand back one it drew at
    thumbnail size, and shrinking the picture for nothing would take the spare core from
    the measurement. An engine that never calls `start` is encoded afterwards, the same way.
    """

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None
        self._image: NDArray[np.uint8] | None = None
        self._png: bytes | None = None
        self._error: BaseException | None = None

    def _encode(self) -> None:
        from gpu_worker.imageio import png_encode

        try:
            assert self._image is not None
            self._png = png_encode(self._image)
        except BaseException as exc:  # re-raised in the caller's thread
            self._error = exc

    def start(self, image: NDArray[np.uint8]) -> None:
        if self._thread is None:
            self._image = image
            self._thread = threading.Thread(target=self._encode, name="encode", daemon=True)
            self._thread.start()

    def result(
        self, image: NDArray[np.uint8], thumbnail: NDArray[np.uint8] | None = None
    ) -> tuple[bytes, bytes]:
        """(PNG of `image`, the engine's final picture; WebP of `thumbnail`, else of it)."""
        from gpu_worker.imageio import thumbnail_webp

        if self._thread is not None:
            self._thread.join()
        if self._image is not image:  # never handed over, or replaced after hand-over
            self._image, self._png, self._error = image, None, None
            self._encode()
        if self._error is not None:
            raise self._error
        assert self._png is not None
        return self._png, thumbnail_webp(image if thumbnail is None else thumbnail)


def render_run(
    *,
    spec: RenderSpec,
    device: DeviceInfo,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
    on_sample: Callable[[Sample], None] | None = None,
    on_monitor_exit: Callable[[], None] | None = None,
    monitor_interval_s: float = 0.5,
) -> RenderOutcome:
    """Load (or reuse) the spec's engine, render, encode; raises what the engine raises."""
    return render_run_batch(
        specs=[spec],
        device=device,
        progress=progress,
        should_stop=should_stop,
        on_sample=on_sample,
        on_monitor_exit=on_monitor_exit,
        monitor_interval_s=monitor_interval_s,
    )[0]


def render_run_batch(
    *,
    specs: Sequence[RenderSpec],
    device: DeviceInfo,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
    on_sample: Callable[[Sample], None] | None = None,
    on_monitor_exit: Callable[[], None] | None = None,
    monitor_interval_s: float = 0.5,
) -> list[RenderOutcome]:
    """render_run for specs with one batch key (engine_batch_key), in one engine call.

    The resource samples and the engine's timings are the whole batch's: each outcome
    carries them, with `batch_size` saying how many pictures shared them.
    """
    from gpu_worker.engines.registry import engine_get

    monitor = ResourceMonitor(
        interval_s=monitor_interval_s, on_sample=on_sample, on_exit=on_monitor_exit
    ).start()
    try:
        started = time.perf_counter()
        engine_name = specs[0].params.engine
        cache_hit = engine_name in _loaded_engines
        engine = engine_get(engine_name)
        _loaded_engines.add(engine_name)
        loaded = time.perf_counter()
        encoder = _Encoder()
        if len(specs) == 1:
            results = [
                engine.render(
                    specs[0], progress=progress, should_stop=should_stop, on_image=encoder.start
                )
            ]
        elif isinstance(engine, BatchEngine):
            results = engine.render_batch(specs, progress=progress, should_stop=should_stop)
        else:
            raise ValueError(f"the {engine_name} engine renders one spec per call")
        rendered = time.perf_counter()
        # The first picture may already be encoding (engine.render's on_image).
        encoded = [
            (encoder if i == 0 else _Encoder()).result(r.image, r.thumbnail)
            for i, r in enumerate(results)
        ]
        done = time.perf_counter()
    finally:
        summary = monitor.stop()
    outcomes = []
    for result, (png, thumbnail) in zip(results, encoded, strict=True):
        height, width = result.image.shape[:2]
        timings = {
            "load": loaded - started,
            "engine_render": rendered - loaded,
            "encode": done - rendered,
            **{key: float(value) for key, value in result.timings.items()},
        }
        outcomes.append(
            RenderOutcome(
                png=png,
                thumbnail_webp=thumbnail,
                width=int(width),
                height=int(height),
                digest=hashlib.sha256(png).hexdigest(),
                fidelity=result.fidelity.to_dict(),
                engine=result.engine,
                engine_version=result.engine_version,
                model_revision=result.model_revision,
                cache_hit=cache_hit if result.cache_hit is None else result.cache_hit,
                oom_retries=result.oom_retries,
                timings={key: round(value, 4) for key, value in timings.items()},
                monitor=summary,
                device=device,
                versions=library_versions(),
                batch_size=len(specs),
            )
        )
    return outcomes
