"""A GPU worker process loads its models as it starts, before any job."""

from __future__ import annotations

from renders.models import ModelProfile
from renders.worker.preload import diffusion_preload


def test_preload_loads_profiles_and_folders_and_skips_what_is_not_there(
    db, settings, monkeypatch, tmp_path
):
    from gpu_worker.engines.diffusion.models import ALLOW_CPU_ENV, model_revision
    from gpu_worker.engines.diffusion.tiny import tiny_sdxl_save
    from gpu_worker.engines.registry import engines_loaded

    monkeypatch.setenv(ALLOW_CPU_ENV, "1")
    model = tiny_sdxl_save(tmp_path / "tiny")
    ModelProfile.objects.create(name="tiny", base_model=str(model))
    settings.DIFFUSION_PRELOAD = ["tiny", "no-such-profile", str(tmp_path / "missing")]
    loaded = diffusion_preload()
    assert [e["revision"] for e in loaded] == [model_revision(model)]
    assert model_revision(model) in {e["revision"] for e in engines_loaded()}
