"""Resource monitor: a thread that samples the process (psutil) and the GPU (NVML).

Samples go into the running job's telemetry timeline and, through `on_sample`, to the
worker's heartbeat. NVML is optional: on a machine without an NVIDIA driver the GPU fields
stay None and everything else still works.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from statistics import fmean
from typing import Any

import psutil

MAX_INTERVAL_S = 2.0


@dataclass(frozen=True, slots=True)
class Sample:
    t: float  # seconds since the monitor started
    cpu_percent: float
    rss_mb: float
    gpu_util: float | None = None
    gpu_mem_used_mb: float | None = None


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    name: str
    memory_total_mb: float | None


@dataclass(slots=True)
class MonitorSummary:
    samples: list[Sample] = field(default_factory=list)

    def timeline(self) -> list[dict[str, Any]]:
        return [{k: v for k, v in asdict(s).items() if v is not None} for s in self.samples]

    def _values(self, name: str) -> list[float]:
        return [v for s in self.samples if (v := getattr(s, name)) is not None]

    def mean(self, name: str) -> float | None:
        values = self._values(name)
        return round(fmean(values), 2) if values else None

    def peak(self, name: str) -> float | None:
        values = self._values(name)
        return round(max(values), 2) if values else None


class _Nvml:
    """The first visible GPU through pynvml, or nothing."""

    def __init__(self) -> None:
        self.handle: Any = None
        try:
            import pynvml

            pynvml.nvmlInit()
            index = int((os.environ.get("CUDA_VISIBLE_DEVICES") or "0").split(",")[0] or 0)
            self.handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            self.pynvml = pynvml
        except Exception:  # no driver, no GPU, no library: CPU-only worker
            self.handle = None

    def device(self) -> DeviceInfo | None:
        if self.handle is None:
            return None
        name = self.pynvml.nvmlDeviceGetName(self.handle)
        memory = self.pynvml.nvmlDeviceGetMemoryInfo(self.handle)
        return DeviceInfo(
            name=name.decode() if isinstance(name, bytes) else str(name),
            memory_total_mb=memory.total / 2**20,
        )

    def sample(self) -> tuple[float | None, float | None]:
        if self.handle is None:
            return None, None
        try:
            util = self.pynvml.nvmlDeviceGetUtilizationRates(self.handle).gpu
            used = self.pynvml.nvmlDeviceGetMemoryInfo(self.handle).used / 2**20
            return float(util), round(used, 1)
        except Exception:
            return None, None


def device_describe() -> DeviceInfo:
    """The GPU this process would use, or the CPU when there is none."""
    gpu = _Nvml().device()
    if gpu is not None:
        return gpu
    import platform

    cpu = platform.processor() or platform.machine()
    return DeviceInfo(name=f"cpu ({cpu}, {os.cpu_count()} cores)", memory_total_mb=None)


FAST_START_S = 0.05  # the first samples' spacing


class ResourceMonitor:
    """Samples from start() until stop(): every `interval_s` (at most 2 s) once running,
    faster in a job's first seconds."""

    def __init__(
        self,
        *,
        interval_s: float = 0.5,
        on_sample: Callable[[Sample], None] | None = None,
        on_exit: Callable[[], None] | None = None,
    ) -> None:
        if not 0 < interval_s <= MAX_INTERVAL_S:
            raise ValueError(f"interval_s must be in (0, {MAX_INTERVAL_S}], got {interval_s}")
        self.interval_s = interval_s
        self.on_sample = on_sample
        self.on_exit = on_exit
        self._process = psutil.Process()
        self._nvml = _Nvml()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start = 0.0
        self._summary = MonitorSummary()

    def _take(self) -> Sample:
        with self._process.oneshot():
            cpu = self._process.cpu_percent(None)
            rss = self._process.memory_info().rss / 2**20
        gpu_util, gpu_mem = self._nvml.sample()
        return Sample(
            t=round(time.perf_counter() - self._start, 3),
            cpu_percent=round(cpu, 1),
            rss_mb=round(rss, 1),
            gpu_util=gpu_util,
            gpu_mem_used_mb=gpu_mem,
        )

    def _next_wait(self) -> float:
        """Fast at first, then `interval_s`: a 0.5 s render gets about ten samples, not two,
        and a long one is not sampled more often than before (a tenth of the time so far,
        FAST_START_S at least)."""
        elapsed = time.perf_counter() - self._start
        return min(self.interval_s, max(FAST_START_S, elapsed / 10))

    def _record(self) -> None:
        sample = self._take()
        self._summary.samples.append(sample)
        if self.on_sample is not None:
            # A failing heartbeat must not take the render down with it.
            with contextlib.suppress(Exception):
                self.on_sample(sample)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self._next_wait()):
                self._record()
        finally:
            if self.on_exit is not None:
                with contextlib.suppress(Exception):
                    self.on_exit()

    def start(self) -> ResourceMonitor:
        self._start = time.perf_counter()
        self._process.cpu_percent(None)  # primes the counter; the first reading is 0
        self._record()
        self._thread = threading.Thread(target=self._run, name="resource-monitor", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> MonitorSummary:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._record()
        return self._summary

    def __enter__(self) -> ResourceMonitor:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
