"""The GPU benchmark script runs end to end on the CPU with the tiny model."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench_gpu.py"


def test_bench_gpu_times_bare_and_worker_paths_with_the_tiny_model(monkeypatch, capsys):
    from gpu_worker.engines.diffusion.models import ALLOW_CPU_ENV

    monkeypatch.setenv(ALLOW_CPU_ENV, "1")
    spec = importlib.util.spec_from_file_location("bench_gpu", SCRIPT)
    assert spec is not None and spec.loader is not None
    bench_gpu = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_gpu)
    result = bench_gpu.main(["--tiny", "--repeat", "1"])
    assert [row["case"] for row in result["cases"]] == [
        "txt2img, 256 px, 4 steps",
        "img2img, 256 px, 4 steps",
        "txt2img + canny, 256 px, 4 steps",
    ]
    for row in result["cases"]:
        assert row["bare_s"] > 0 and row["worker_s"] > 0 and row["ratio"] > 0
        # The second job on the same model loads nothing.
        assert row["second_job_load_s"] < 0.05
    assert "bare s" in capsys.readouterr().out
