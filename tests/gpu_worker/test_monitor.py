"""The resource monitor: samples on time, survives a failing heartbeat, works without a GPU."""

from __future__ import annotations

import itertools
import time

import pytest

from gpu_worker.monitor import MAX_INTERVAL_S, ResourceMonitor, Sample, device_describe


def test_samples_cover_the_run_at_the_interval():
    seen: list[Sample] = []
    with ResourceMonitor(interval_s=0.05, on_sample=seen.append) as monitor:
        time.sleep(0.3)
    summary = monitor.stop()
    times = [s.t for s in summary.samples]
    assert len(times) >= 5
    assert times == sorted(times)
    assert all(b - a <= MAX_INTERVAL_S for a, b in itertools.pairwise(times))
    assert len(seen) == len(summary.samples)
    rss_peak = summary.peak("rss_mb")
    assert rss_peak is not None and rss_peak > 10
    assert summary.mean("cpu_percent") is not None
    timeline = summary.timeline()
    assert {"t", "cpu_percent", "rss_mb"} <= set(timeline[0])


def test_a_short_run_is_sampled_faster_than_the_interval_and_a_long_one_at_it():
    """A 0.5 s render at the default 0.5 s interval used to get two samples (start, stop),
    too few to draw; the first second is sampled every 50-100 ms."""
    with ResourceMonitor(interval_s=0.5) as monitor:
        time.sleep(0.5)
    times = [s.t for s in monitor.stop().samples]
    assert len(times) >= 6
    # Later the spacing grows to the interval, never past it.
    monitor = ResourceMonitor(interval_s=0.5)
    monitor._start = time.perf_counter() - 60
    assert monitor._next_wait() == 0.5
    monitor._start = time.perf_counter() - 1
    assert 0.05 <= monitor._next_wait() <= 0.11


def test_a_failing_heartbeat_does_not_stop_sampling():
    def broken(sample):
        raise RuntimeError("database down")

    exits = []
    monitor = ResourceMonitor(interval_s=0.02, on_sample=broken, on_exit=lambda: exits.append(1))
    monitor.start()
    time.sleep(0.15)
    summary = monitor.stop()
    assert len(summary.samples) >= 3
    assert exits == [1]


@pytest.mark.parametrize("interval", [0, -1, 2.5])
def test_the_interval_is_bounded(interval):
    with pytest.raises(ValueError, match="interval_s"):
        ResourceMonitor(interval_s=interval)


def test_without_nvml_the_device_is_the_cpu(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    device = device_describe()
    assert device.name
    summary = ResourceMonitor(interval_s=1.0).start().stop()
    if device.name.startswith("cpu"):
        assert summary.peak("gpu_util") is None
