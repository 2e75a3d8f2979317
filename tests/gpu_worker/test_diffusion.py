"""The diffusion engine on the tiny random-weight SDXL model, on the CPU."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace

import numpy as np
import pytest
from _gw_support import make_spec

from gpu_worker.contract import RenderCanceled
from gpu_worker.engines.diffusion.engine import DiffusionEngine
from gpu_worker.engines.diffusion.models import (
    ALLOW_CPU_ENV,
    ModelCache,
    adapters_of,
    model_revision,
)
from gpu_worker.engines.diffusion.options import OptionError, diffusion_options_parse
from gpu_worker.engines.diffusion.prompt import tile_prompt
from gpu_worker.engines.diffusion.tiny import tiny_sdxl_save


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    return tiny_sdxl_save(tmp_path_factory.mktemp("models") / "tiny-sdxl")


@pytest.fixture(autouse=True)
def cpu_allowed(monkeypatch):
    monkeypatch.setenv(ALLOW_CPU_ENV, "1")


def diffusion_spec(model, recipe=None, **options):
    spec = make_spec(recipe or {"RED": 60, "BLACK": 40}, size=256, seed=3)
    opts = {"model": str(model), "steps": 4, **options}
    return replace(spec, params=replace(spec.params, engine="diffusion", options=opts))


def test_txt2img_renders_the_spec_and_measures_it(tiny_model):
    seen: list[int] = []
    result = DiffusionEngine().render(diffusion_spec(tiny_model), progress=seen.append)
    assert result.image.shape == (256, 256, 3) and result.image.dtype == np.uint8
    assert result.engine == "diffusion" and result.engine_version
    # The colour fidelity is measured on the picture, as for every engine.
    assert set(result.fidelity.shares) == {"BLACK", "RED"}
    assert result.fidelity.max_share_error_pp is not None
    assert result.model_revision == model_revision(tiny_model)
    # Progress per denoising step, then the measurement.
    assert seen[0] == 0 and seen[-1] == 100 and seen == sorted(seen) and len(seen) >= 6
    assert {"load", "inference", "postprocess", "total"} <= set(result.timings)


def test_the_same_spec_gives_the_same_picture_from_one_load(tiny_model):
    engine = DiffusionEngine(ModelCache())
    first = engine.render(diffusion_spec(tiny_model))
    second = engine.render(diffusion_spec(tiny_model))
    assert np.array_equal(first.image, second.image)
    assert engine.cache.loads == 1
    other_seed = diffusion_spec(tiny_model)
    other_seed = replace(other_seed, params=replace(other_seed.params, seed=4))
    assert not np.array_equal(first.image, engine.render(other_seed).image)


def test_img2img_starts_from_the_procedural_render_and_shares_the_weights(tiny_model):
    engine = DiffusionEngine(ModelCache())
    txt = engine.render(diffusion_spec(tiny_model))
    img = engine.render(diffusion_spec(tiny_model, mode="img2img", strength=0.5))
    assert img.image.shape == (256, 256, 3)
    assert not np.array_equal(txt.image, img.image)
    loaded, hit = engine.cache.get(tiny_model, "cpu")
    assert hit and engine.cache.loads == 1
    assert loaded.pipeline("img2img").unet is loaded.pipeline("txt2img").unet


def test_the_scheduler_is_chosen_per_job_on_the_same_weights(tiny_model):
    engine = DiffusionEngine(ModelCache())
    default = engine.render(diffusion_spec(tiny_model))
    euler_a = engine.render(diffusion_spec(tiny_model, scheduler="euler_a"))
    dpm = engine.render(diffusion_spec(tiny_model, scheduler="dpmpp_2m_karras"))
    assert not np.array_equal(default.image, euler_a.image)
    assert not np.array_equal(euler_a.image, dpm.image)
    loaded, _ = engine.cache.get(tiny_model, "cpu")
    assert type(loaded.txt2img.scheduler).__name__ == "DPMSolverMultistepScheduler"
    assert loaded.txt2img.scheduler.config.use_karras_sigmas
    # Back to the model's own scheduler: the first picture again, from one load.
    assert np.array_equal(default.image, engine.render(diffusion_spec(tiny_model)).image)
    assert engine.cache.loads == 1


def test_the_dtype_is_part_of_what_is_loaded(tiny_model):
    engine = DiffusionEngine(ModelCache(capacity=2))
    engine.render(diffusion_spec(tiny_model))
    result = engine.render(diffusion_spec(tiny_model, dtype="bfloat16"))
    assert not result.cache_hit and engine.cache.loads == 2
    assert {m["dtype"] for m in engine.loaded()} == {"float32", "bfloat16"}
    assert str(engine.cache.get(tiny_model, "cpu", dtype="bfloat16")[0].txt2img.unet.dtype) == (
        "torch.bfloat16"
    )


def test_a_profiles_preset_steps_replace_the_standard_ones():
    opts = diffusion_options_parse({"model": "x", "preset_steps": {"draft": 4, "high": 8}})
    assert [opts.steps_for(q) for q in ("draft", "standard", "high")] == [4, 25, 8]
    explicit = diffusion_options_parse({"model": "x", "steps": 6, "preset_steps": {"draft": 4}})
    assert explicit.steps_for("draft") == 6


def test_cancel_stops_between_denoising_steps(tiny_model):
    calls = []

    def stop() -> bool:
        calls.append(1)
        return len(calls) >= 2

    seen: list[int] = []
    with pytest.raises(RenderCanceled, match="denoising step 2"):
        DiffusionEngine().render(
            diffusion_spec(tiny_model, steps=8), progress=seen.append, should_stop=stop
        )
    assert seen[-1] < 50


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "options.model is required"),
        ({"model": "x", "sampler": "euler"}, "options.sampler is not a diffusion option"),
        ({"model": "x", "mode": "inpaint"}, "options.mode must be one of txt2img, img2img"),
        ({"model": "x", "steps": 0}, "options.steps must be 1..100"),
        ({"model": "x", "steps": 2.5}, "options.steps must be a whole number"),
        ({"model": "x", "strength": "high"}, "options.strength must be a number"),
        ({"model": "x", "negative_prompt": "n" * 301}, "longer than 300"),
        ({"model": "x", "scheduler": "lms"}, "options.scheduler must be one of default, euler"),
        ({"model": "x", "dtype": "int8"}, "options.dtype must be one of auto, float16"),
        ({"model": "x", "preset_steps": [4]}, "options.preset_steps must be an object"),
        ({"model": "x", "preset_steps": {"turbo": 4}}, "'turbo' is not a preset"),
        ({"model": "x", "preset_steps": {"draft": 0}}, "preset_steps.draft must be 1..100"),
    ],
)
def test_bad_options_are_named(options, message):
    with pytest.raises(OptionError, match=message):
        diffusion_options_parse(options)


def test_a_missing_model_folder_is_named(tmp_path):
    with pytest.raises(OptionError, match="no model folder at"):
        DiffusionEngine().render(diffusion_spec(tmp_path / "nowhere"))
    with pytest.raises(OptionError, match=r"has no model_index\.json"):
        DiffusionEngine().render(diffusion_spec(tmp_path))


def test_the_cpu_is_refused_unless_allowed(tiny_model, monkeypatch):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    monkeypatch.delenv(ALLOW_CPU_ENV)
    with pytest.raises(RuntimeError, match=ALLOW_CPU_ENV):
        DiffusionEngine().render(diffusion_spec(tiny_model))


def test_the_revision_follows_the_weights(tiny_model, tmp_path):
    copy = shutil.copytree(tiny_model, tmp_path / "copy")
    assert model_revision(copy) == model_revision(tiny_model)
    scheduler = copy / "scheduler" / "scheduler_config.json"
    scheduler.write_text(scheduler.read_text().replace("0.012", "0.013"))
    assert model_revision(copy) != model_revision(tiny_model)


def test_the_cache_evicts_the_least_recently_used_model(tiny_model, tmp_path):
    other = tiny_sdxl_save(tmp_path / "other", seed=1)
    cache = ModelCache(capacity=1)
    for folder in (tiny_model, other, tiny_model):
        cache.get(folder, "cpu")
    assert cache.loads == 3
    assert cache.get(tiny_model, "cpu")[1]  # the last one stayed


def test_the_prompt_names_every_colour_first_with_its_percent():
    spec = make_spec({"RED": 60, "BLACK": 30, "YELLOW": 10}, view="perspective")
    prompt = tile_prompt(spec)
    assert prompt.startswith("60% red, 30% black, 10% yellow rubber crumb granules")
    assert "three-quarter view" in prompt
    # Codes a text encoder cannot read are said in words.
    words = tile_prompt(make_spec({"GRNAPL": 70, "TURQSE": 30}))
    assert words.startswith("70% green apple, 30% turquoise rubber crumb")


def test_a_model_template_places_the_colours_and_its_trigger_tokens():
    spec = make_spec({"RED": 60, "BLACK": 40})
    template = "photo of <epdm> {tokens} tile: {colours}, {granules} crumb"
    prompt = tile_prompt(spec, template=template, tokens=["<crumb>", "<shop>"])
    assert prompt == "photo of <epdm> <crumb> <shop> tile: 60% red, 40% black, medium crumb"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{view} only", "it must place {colours}"),
        ("{colours} {colors}", "{colors} is not a placeholder"),
        ("{colours} {view!r}", "{view} is not a placeholder"),
        ("{colours} {0}", "{0} is not a placeholder"),
        ("{colours} {", "Single '{' encountered"),
        ("{colours} " + "x" * 300, "longer than 300"),
    ],
)
def test_a_bad_prompt_template_is_named(template, message):
    with pytest.raises(OptionError, match=re.escape(message)):
        diffusion_options_parse({"model": "x", "prompt": template})


def test_hybrid_redraws_the_render_and_puts_its_colours_back(tiny_model):
    from gpu_worker.engines.diffusion.hybrid import HybridEngine

    spec = diffusion_spec(tiny_model, recipe={"RED": 60, "BLACK": 30, "YELLOW": 10})
    spec = replace(
        spec,
        params=replace(
            spec.params,
            engine="hybrid",
            options={"model": str(tiny_model), "steps": 4, "strength": 0.5},
        ),
    )
    seen: list[int] = []
    result = HybridEngine().render(spec, progress=seen.append)
    before = result.fidelity.before_correction
    assert before is not None and before.max_share_error_pp is not None
    # A random-weight model draws noise; the correction gives every chip its colour back,
    # so the shares are the render's again (measured with the chips it drew).
    assert result.fidelity.max_share_error_pp is not None
    assert result.fidelity.max_share_error_pp <= 1.0 < before.max_share_error_pp
    assert "before_correction" in result.fidelity.to_dict()
    assert result.model_revision == model_revision(tiny_model)
    assert seen[-1] == 100 and seen == sorted(seen)


def test_hybrid_refuses_txt2img():
    from gpu_worker.engines.diffusion.hybrid import HybridEngine

    spec = diffusion_spec("unused", mode="txt2img")
    with pytest.raises(OptionError, match="always starts from the render"):
        HybridEngine().render(spec)


def test_chip_colour_transfer_sets_each_chip_mean_and_keeps_texture():
    from gpu_worker.colour.segmentation import LIN32
    from gpu_worker.engines.diffusion.correct import chip_colour_transfer

    rng = np.random.default_rng(0)
    labels = np.zeros((40, 40), np.int32)
    labels[:, 20:] = 1
    base = np.where(labels[..., None] == 1, [200, 40, 40], [30, 30, 30]).astype(np.uint8)
    noisy = rng.integers(60, 200, (40, 40, 3)).astype(np.uint8)
    out = chip_colour_transfer(noisy, base, labels)
    for chip in (0, 1):
        m = labels == chip
        assert np.allclose(LIN32[out[m]].mean(0), LIN32[base[m]].mean(0), atol=0.01)
        # The texture stays: pixels keep their order of brightness within the chip.
        assert np.corrcoef(noisy[m][:, 1].astype(float), out[m][:, 1].astype(float))[0, 1] > 0.9


def test_the_engines_share_one_cache_and_say_what_is_loaded(tiny_model):
    from gpu_worker.engines.registry import engine_get, engines_loaded

    engine_get("diffusion").render(diffusion_spec(tiny_model))
    hybrid = diffusion_spec(tiny_model)
    hybrid = replace(hybrid, params=replace(hybrid.params, engine="hybrid"))
    engine_get("hybrid").render(hybrid)
    loaded = [e for e in engines_loaded() if e["model"] == str(tiny_model)]
    assert len(loaded) == 1  # one copy of the weights for both engines
    assert loaded[0]["revision"] == model_revision(tiny_model)
    assert loaded[0]["pipelines"] == ["img2img", "txt2img"] or set(loaded[0]["pipelines"]) == {
        "txt2img",
        "img2img",
    }


def test_a_budget_smaller_than_two_models_evicts_before_loading(tiny_model, tmp_path):
    from gpu_worker.engines.diffusion.models import model_size_mb

    other = tiny_sdxl_save(tmp_path / "other", seed=1)
    one = model_size_mb(tiny_model)
    cache = ModelCache(capacity=4, budget_mb=1.5 * one)
    cache.get(tiny_model, "cpu")
    cache.get(other, "cpu")
    assert cache.evictions == 1
    assert [e["model"] for e in cache.describe()] == [str(other)]
    assert cache.describe()[0]["size_mb"] == model_size_mb(other)


def test_a_model_larger_than_the_budget_is_refused_by_name(tiny_model):
    cache = ModelCache(budget_mb=0.01)
    with pytest.raises(RuntimeError, match="memory budget of 0 MB"):
        cache.get(tiny_model, "cpu")
    assert cache.loads == 0


class _RunsOutOfMemory:
    """A pipeline that raises the CUDA out-of-memory error on its first `fail` calls."""

    def __init__(self, real, fail: int) -> None:
        self.real, self.fail, self.calls = real, fail, 0

    def __getattr__(self, name):
        return getattr(self.real, name)

    def __call__(self, **kwargs):
        import torch

        self.calls += 1
        if self.calls <= self.fail:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return self.real(**kwargs)


def test_out_of_memory_is_retried_once_with_lighter_settings(tiny_model):
    engine = DiffusionEngine(ModelCache())
    loaded, _ = engine.cache.get(tiny_model, "cpu")
    loaded.txt2img = _RunsOutOfMemory(loaded.txt2img, fail=1)
    result = engine.render(diffusion_spec(tiny_model))
    assert result.oom_retries == 1 and result.cache_hit
    assert loaded.lightened and engine.loaded()[0]["lightened"]


def test_a_second_out_of_memory_is_the_jobs_error(tiny_model):
    import torch

    engine = DiffusionEngine(ModelCache())
    loaded, _ = engine.cache.get(tiny_model, "cpu")
    loaded.txt2img = _RunsOutOfMemory(loaded.txt2img, fail=2)
    with pytest.raises(torch.OutOfMemoryError):
        engine.render(diffusion_spec(tiny_model))


def test_textual_inversions_load_into_both_text_encoders(tiny_model, tmp_path, monkeypatch):
    from gpu_worker.engines.diffusion import engine as engine_module
    from gpu_worker.engines.diffusion.tiny import tiny_textual_inversion_save

    ti = tiny_textual_inversion_save(tmp_path / "plitka.safetensors")
    engine = DiffusionEngine(ModelCache())
    plain = engine.render(diffusion_spec(tiny_model))
    prompts: list[str] = []

    def spy(*args, **kwargs):
        prompts.append(tile_prompt(*args, **kwargs))
        return prompts[-1]

    monkeypatch.setattr(engine_module, "tile_prompt", spy)
    options = {"textual_inversions": [{"path": str(ti), "token": "<plitka>"}]}
    spec = diffusion_spec(tiny_model, **options)
    with_ti = engine.render(spec)
    # The token is the model's trigger word: the prompt uses it.
    assert prompts == ["60% red, 40% black <plitka> rubber crumb granules" + prompts[0][49:]]
    loaded, _ = engine.cache.get(
        tiny_model, "cpu", adapters_of(diffusion_options_parse(spec.params.options))
    )
    for tokenizer in (loaded.txt2img.tokenizer, loaded.txt2img.tokenizer_2):
        assert "<plitka>" in tokenizer.get_vocab()
    # Another set of weights: another revision, and a model of its own in the cache.
    assert with_ti.model_revision != plain.model_revision
    assert engine.cache.loads == 2


@pytest.mark.parametrize(
    ("width", "drop", "message"),
    [(16, None, "does not fit this model's clip_l text encoder"), (32, "clip_g", "has no clip_g")],
)
def test_a_textual_inversion_that_does_not_fit_is_named(tiny_model, tmp_path, width, drop, message):
    from safetensors.torch import load_file, save_file

    from gpu_worker.engines.diffusion.tiny import tiny_textual_inversion_save

    path = tiny_textual_inversion_save(tmp_path / "bad.safetensors", width=width)
    if drop:
        state = load_file(str(path))
        del state[drop]
        save_file(state, str(path))
    spec = diffusion_spec(tiny_model, textual_inversions=[{"path": str(path), "token": "<x>"}])
    engine = DiffusionEngine(ModelCache())
    with pytest.raises(OptionError, match=message) as caught:
        engine.render(spec)
    assert "bad.safetensors" in str(caught.value)
    # The load failed midway: nothing of it is in the cache, and the next job loads cleanly.
    assert engine.loaded() == [] and engine.cache.loads == 0
    assert not engine.render(diffusion_spec(tiny_model)).cache_hit
    assert engine.cache.loads == 1


def test_a_lora_is_fused_at_its_scale(tiny_model, tmp_path):
    from gpu_worker.engines.diffusion.tiny import tiny_lora_save

    lora = tiny_lora_save(tiny_model, tmp_path / "lora")
    engine = DiffusionEngine(ModelCache())
    plain = engine.render(diffusion_spec(tiny_model))
    fused = engine.render(diffusion_spec(tiny_model, loras=[{"path": str(lora), "scale": 1.0}]))
    assert not np.array_equal(plain.image, fused.image)
    assert fused.model_revision != plain.model_revision
    half = engine.render(diffusion_spec(tiny_model, loras=[{"path": str(lora), "scale": 0.5}]))
    assert half.model_revision not in {plain.model_revision, fused.model_revision}
    with pytest.raises(OptionError, match="no file at"):
        engine.render(diffusion_spec(tiny_model, loras=[{"path": str(tmp_path / "x"), "scale": 1}]))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"loras": {"path": "a"}}, "options.loras must be a list"),
        ({"loras": [{"path": "a"}]}, r"options.loras\[0\] must have exactly path and scale"),
        ({"loras": [{"path": "a", "scale": 3}]}, "must be 0..2"),
        (
            {"textual_inversions": [{"path": "a", "token": "two words"}]},
            "token must be one word",
        ),
        (
            {"textual_inversions": [{"path": "a", "token": "<t>"}, {"path": "b", "token": "<t>"}]},
            "each token once",
        ),
    ],
)
def test_bad_adapter_options_are_named(options, message):
    with pytest.raises(OptionError, match=message):
        diffusion_options_parse({"model": "m", **options})


@pytest.fixture(scope="session")
def tiny_controlnet(tiny_model, tmp_path_factory):
    from gpu_worker.engines.diffusion.tiny import controlnet_from_unet_save

    return controlnet_from_unet_save(tiny_model, tmp_path_factory.mktemp("models") / "controlnet")


@pytest.mark.parametrize("kind", ["canny", "softedge", "lineart"])
@pytest.mark.parametrize("mode", ["txt2img", "img2img"])
def test_a_controlnet_conditions_on_the_procedural_geometry(
    tiny_model, tiny_controlnet, kind, mode
):
    engine = DiffusionEngine(ModelCache())
    plain = engine.render(diffusion_spec(tiny_model, mode=mode))
    control = {"type": kind, "model": str(tiny_controlnet), "scale": 1.0, "end": 0.8}
    steered = engine.render(diffusion_spec(tiny_model, mode=mode, controlnet=control))
    assert steered.image.shape == (256, 256, 3)
    assert not np.array_equal(plain.image, steered.image)
    assert steered.model_revision not in {None, plain.model_revision}
    # The ControlNet shares the model's UNet, VAE and text encoders.
    loaded, hit = engine.cache.get(tiny_model, "cpu")
    assert hit and engine.cache.loads == 1 and len(loaded.controlnets) == 1


@pytest.mark.parametrize("kind", ["canny", "softedge", "lineart"])
def test_the_edge_maps_show_the_tiles_geometry(kind):
    from gpu_worker.engines.diffusion.control import control_image
    from gpu_worker.engines.procedural.render import render_layers

    spec = make_spec({"RED": 60, "BLACK": 40}, size=256, seed=3)
    edges = control_image(kind, render_layers(spec), 256)
    assert edges.shape == (256, 256, 3) and edges.dtype == np.uint8
    # Edges on the tile (chips), none on the empty background corner.
    assert edges[100:156, 100:156].mean() > 5 and edges[:4, :4].max() == 0


@pytest.mark.parametrize(
    ("control", "message"),
    [
        ({"type": "depth", "model": "c"}, "controlnet.type must be one of canny"),
        ({"type": "canny"}, "options.controlnet.model is required"),
        ({"type": "canny", "model": "c", "start": 0.6, "end": 0.4}, "start must be before"),
        ({"type": "canny", "model": "c", "window": 1}, "controlnet.window is not"),
    ],
)
def test_bad_controlnet_options_are_named(control, message):
    with pytest.raises(OptionError, match=message):
        diffusion_options_parse({"model": "m", "controlnet": control})


def test_a_hugging_face_id_resolves_in_the_local_cache_only(tiny_model, tmp_path, monkeypatch):
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hub" / "models--plitka--tiny-sdxl"
    shutil.copytree(tiny_model, repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    engine = DiffusionEngine(ModelCache())
    for reference in ("plitka/tiny-sdxl", f"plitka/tiny-sdxl@{commit}"):
        result = engine.render(diffusion_spec(reference))
        # The snapshot's commit is its revision: nothing to hash.
        assert result.model_revision == f"hf:{commit}"
    with pytest.raises(OptionError, match="not in this worker's Hugging Face cache"):
        engine.render(diffusion_spec("plitka/other-model"))


def test_compile_happens_once_at_load_with_a_warm_up(tiny_model, monkeypatch):
    from gpu_worker.engines.diffusion.models import COMPILE_ENV, WARMUP_SIZE_ENV

    monkeypatch.setenv(COMPILE_ENV, "eager")  # the real one is inductor, on a GPU host
    monkeypatch.setenv(WARMUP_SIZE_ENV, "256")
    engine = DiffusionEngine(ModelCache())
    result = engine.render(diffusion_spec(tiny_model))
    entry = engine.loaded()[0]
    assert entry["compiled"] == "eager" and entry["warmup_s"] > 0
    # The job itself paid no compile: its load was the cache's, the warm-up before it.
    again = engine.render(diffusion_spec(tiny_model))
    assert again.cache_hit and np.array_equal(result.image, again.image)


def test_progress_is_passed_on_at_most_every_ten_percent_or_second(tiny_model):
    seen: list[int] = []
    DiffusionEngine(ModelCache()).render(diffusion_spec(tiny_model, steps=40), progress=seen.append)
    steps = [p for p in seen if 5 < p <= 90]
    assert steps[-1] == 90  # the last denoising step always
    # 40 steps, but about one report per 10 % (a slow step may add one at a second).
    assert len(steps) <= 12, steps


def test_a_batch_renders_each_spec_as_it_would_alone(tiny_model):
    from gpu_worker.engines.diffusion.hybrid import HybridEngine

    cache = ModelCache()
    specs = []
    for seed, recipe in ((3, {"RED": 60, "BLACK": 40}), (8, {"BLUE": 30, "WHITE": 70})):
        spec = diffusion_spec(tiny_model, recipe)
        specs.append(replace(spec, params=replace(spec.params, engine="hybrid", seed=seed)))
    engine = HybridEngine(cache)
    together = engine.render_batch(specs)
    assert engine.cache.loads == 1 and len(together) == 2
    for spec, batched in zip(specs, together, strict=True):
        alone = engine.render(spec)
        assert set(batched.fidelity.shares) == set(alone.fidelity.shares)
        assert batched.fidelity.before_correction is not None
        # The same noise and prompt per picture; only the floating point of a batched call
        # may differ.
        diff = np.abs(batched.image.astype(int) - alone.image.astype(int))
        assert diff.mean() < 1.0
    assert not np.array_equal(together[0].image, together[1].image)


def test_the_batch_key_leaves_out_what_differs_per_picture(tiny_model):
    from gpu_worker.engines.registry import engine_batch_key

    spec = diffusion_spec(tiny_model)
    key = engine_batch_key(spec.params)
    assert key is not None
    same = replace(spec.params, seed=99, angle=45, view="perspective")
    assert engine_batch_key(same) == key
    for other in (
        replace(spec.params, size=512),
        replace(spec.params, options={**spec.params.options, "steps": 5}),
        replace(spec.params, options={**spec.params.options, "scheduler": "ddim"}),
        replace(spec.params, engine="hybrid"),
    ):
        assert engine_batch_key(other) not in {key, None}
    assert engine_batch_key(replace(spec.params, engine="procedural", options={})) is None
    assert engine_batch_key(replace(spec.params, options={"mode": "x"})) is None


def test_a_drawn_picture_is_measured_on_a_small_copy_with_its_shares(monkeypatch):
    from gpu_worker.colour import measure
    from gpu_worker.engines.diffusion import engine as engine_module
    from gpu_worker.engines.procedural.render import render_layers

    spec = make_spec({"RED": 60, "BLACK": 40}, size=1024, seed=2)
    picture = render_layers(spec).image
    seen: list[tuple[int, ...]] = []

    def spy(*, image, palette, recipe):
        seen.append(image.shape)
        return measure.fidelity_measure(image=image, palette=palette, recipe=recipe)

    monkeypatch.setattr(engine_module, "fidelity_measure", spy)
    found = engine_module.picture_measure(picture, spec)
    assert seen == [(512, 512, 3)]
    assert found.max_share_error_pp is not None and found.max_share_error_pp <= 3.0
