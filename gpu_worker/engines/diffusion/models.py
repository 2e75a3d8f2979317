"""Model folders: where a model is, which revision it is, and the loaded pipelines.

A model is a local folder in diffusers' layout (`save_pretrained`), or a Hugging Face id
found in the worker's Hugging Face cache. Nothing is downloaded: loading is
`local_files_only`. The revision recorded on each job is a snapshot's commit, or else a
content hash of the folder's files (computed once per folder state); adapters (textual
inversions, LoRAs) and a ControlNet join it in one hash. The cache keeps loaded models
under the worker's memory budget, with their adapters applied and, if set, compiled.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
import traceback
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from gpu_worker.budget import memory_fraction, memory_fraction_from_env

from .options import DiffusionOptions, Lora, OptionError, TextualInversion

# What is loaded on top of a model's own weights: textual inversions, then LoRAs (fused).
Adapters = tuple[tuple[TextualInversion, ...], tuple[Lora, ...]]
NO_ADAPTERS: Adapters = ((), ())


def adapters_of(opts: DiffusionOptions) -> Adapters:
    return (opts.textual_inversions, opts.loras)


ALLOW_CPU_ENV = "PLITKA_DIFFUSION_ALLOW_CPU"
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt")
# Loaded models kept per worker process (least recently used evicted first).
CACHE_MODELS = int(os.environ.get("PLITKA_DIFFUSION_CACHE_MODELS", "2"))
# torch.compile of each loaded UNet, once, with a warm-up call at load (off by default:
# the first call compiles for about a minute on an H200, which only pays back over many
# jobs). "1" compiles with the inductor backend; any other value names the backend.
COMPILE_ENV = "PLITKA_DIFFUSION_COMPILE"
WARMUP_SIZE_ENV = "PLITKA_DIFFUSION_WARMUP_SIZE"  # px of the warm-up call (default 1024)
_HASH_CHUNK = 1 << 20


# A Hugging Face model id, optionally at a revision: "stabilityai/sdxl-base@<commit>".
_HF_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+(@[\w.-]+)?$")


def model_folder(reference: str, option: str = "model", marker: str = "model_index.json") -> Path:
    """The model folder a job names: a local folder, or a Hugging Face id resolved in the
    local Hugging Face cache (never downloaded). An OptionError says what is wrong."""
    folder = Path(reference).expanduser()
    if not folder.is_dir() and _HF_ID.match(reference):
        folder = _hf_snapshot(reference, option)
    if not folder.is_dir():
        raise OptionError(f"options.{option}: no model folder at {reference}")
    if not (folder / marker).is_file():
        raise OptionError(f"options.{option}: {reference} has no {marker}")
    return folder.resolve()


def _hf_snapshot(reference: str, option: str) -> Path:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    repo_id, _, revision = reference.partition("@")
    try:
        # Read at call time (the library reads it once, at import).
        cache_dir = os.environ.get("HF_HUB_CACHE") or None
        path = snapshot_download(
            repo_id, revision=revision or None, cache_dir=cache_dir, local_files_only=True
        )
    except (LocalEntryNotFoundError, ValueError, OSError) as exc:
        raise OptionError(
            f"options.{option}: {reference} is not in this worker's Hugging Face cache "
            "(nothing is downloaded at render time)"
        ) from exc
    return Path(str(path))


def _path_state(path: Path) -> tuple[tuple[str, int, int], ...]:
    """(relative path, size, mtime) of a file, or of every file of a folder."""
    if not path.is_dir():
        stat = path.stat()
        return (("", stat.st_size, stat.st_mtime_ns),)
    files = sorted(p for p in path.rglob("*") if p.is_file())
    return tuple((str(p.relative_to(path)), p.stat().st_size, p.stat().st_mtime_ns) for p in files)


_digests: dict[tuple[Path, tuple[tuple[str, int, int], ...]], str] = {}


def _content_hash(path: Path) -> str:
    """sha256 (hex) over a file's bytes, or a folder's files' paths and bytes.

    Read once per state of the files: a job only stats them, so a model's or a LoRA's
    gigabytes are hashed when they change, not on every render.
    """
    state = _path_state(path)
    key = (path, state)
    if key not in _digests:
        digest = hashlib.sha256()
        for rel, _size, _mtime in state:
            digest.update(rel.encode() + b"\0")
            with (path / rel if rel else path).open("rb") as fh:
                while chunk := fh.read(_HASH_CHUNK):
                    digest.update(chunk)
        _digests[key] = digest.hexdigest()
    return _digests[key]


def model_revision(folder: Path) -> str:
    """sha256 over every file's path and bytes: the same weights give the same revision.

    A Hugging Face cache snapshot is named by its commit, which says the same for free.
    """
    if folder.parent.name == "snapshots" and re.fullmatch(r"[0-9a-f]{40}", folder.name):
        return f"hf:{folder.name}"
    return "sha256:" + _content_hash(folder)


def model_size_mb(folder: Path) -> float:
    """The model's weights as stored: what loading it puts on the device, about."""
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.suffix in WEIGHT_SUFFIXES)
    return round(size / 2**20, 1)


def device_pick() -> str:
    """The device this worker renders on: its CUDA GPU, Apple's MPS or an Ascend NPU; the
    CPU only where allowed (tests, tiny models)."""
    import torch

    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    try:  # Ascend NPUs: the torch_npu plugin registers torch.npu when imported
        import torch_npu  # noqa: F401

        if torch.npu.is_available():
            return "npu"
    except ImportError:
        pass
    if os.environ.get(ALLOW_CPU_ENV) == "1":
        return "cpu"
    raise RuntimeError(
        f"no GPU for the diffusion engine (set {ALLOW_CPU_ENV}=1 to allow the CPU, "
        "for tiny test models)"
    )


@dataclass
class LoadedModel:
    """One model's components on a device, shared by its txt2img and img2img pipelines."""

    revision: str
    device: str
    txt2img: Any
    size_mb: float = 0.0
    load_s: float = 0.0
    loaded_at: float = field(default_factory=time.time)
    pipelines: dict[str, Any] = field(default_factory=dict)
    controlnets: dict[Path, Any] = field(default_factory=dict)
    lightened: bool = False
    compiled: str = ""  # the torch.compile backend, when compiled
    warmup_s: float = 0.0
    schedulers: dict[str, Any] = field(default_factory=dict)

    def use_scheduler(self, pipe: Any, name: str) -> None:
        """Give `pipe` the named noise scheduler (SCHEDULERS), made once from the config the
        model was saved with; "default" is that scheduler itself."""
        if "default" not in self.schedulers:
            self.schedulers["default"] = self.txt2img.scheduler
        if name not in self.schedulers:
            self.schedulers[name] = _scheduler_make(name, self.schedulers["default"].config)
        pipe.scheduler = self.schedulers[name]

    def lighten(self) -> None:
        """Lighter from now on (after an out-of-memory error): the VAE in tiles and slices."""
        self.txt2img.vae.enable_tiling()
        self.txt2img.vae.enable_slicing()
        self.lightened = True

    def controlnet(self, folder: Path) -> Any:
        """A ControlNet for this model, loaded once beside it."""
        if folder not in self.controlnets:
            from diffusers import ControlNetModel

            model = ControlNetModel.from_pretrained(
                folder, dtype=self.txt2img.unet.dtype, local_files_only=True
            )
            self.controlnets[folder] = model.to(self.device)
        return self.controlnets[folder]

    def pipeline(self, mode: str, controlnet: Path | None = None) -> Any:
        """The pipeline for `mode` (txt2img, img2img), with a ControlNet if named."""
        if mode == "txt2img" and controlnet is None:
            return self.txt2img
        key = mode if controlnet is None else f"{mode}+controlnet:{controlnet}"
        if key not in self.pipelines:
            from diffusers import (
                StableDiffusionXLControlNetImg2ImgPipeline,
                StableDiffusionXLControlNetPipeline,
                StableDiffusionXLImg2ImgPipeline,
            )

            # The same UNet, VAE and text encoders: no second copy of any weight.
            parts = dict(self.txt2img.components)
            if controlnet is None:
                cls: Any = StableDiffusionXLImg2ImgPipeline
            else:
                parts["controlnet"] = self.controlnet(controlnet)
                cls = (
                    StableDiffusionXLControlNetPipeline
                    if mode == "txt2img"
                    else StableDiffusionXLControlNetImg2ImgPipeline
                )
            pipe = cls(**parts)
            pipe.set_progress_bar_config(disable=True)
            self.pipelines[key] = pipe
        return self.pipelines[key]


def _scheduler_make(name: str, config: Any) -> Any:
    import diffusers

    cls_name, extra = _SCHEDULER_CLASSES[name]
    return getattr(diffusers, cls_name).from_config(config, **extra)


# diffusers' scheduler class (and settings) behind each name of options.SCHEDULERS.
_SCHEDULER_CLASSES: dict[str, tuple[str, dict[str, Any]]] = {
    "euler": ("EulerDiscreteScheduler", {}),
    "euler_a": ("EulerAncestralDiscreteScheduler", {}),
    "dpmpp_2m": ("DPMSolverMultistepScheduler", {}),
    "dpmpp_2m_karras": ("DPMSolverMultistepScheduler", {"use_karras_sigmas": True}),
    "ddim": ("DDIMScheduler", {}),
    "unipc": ("UniPCMultistepScheduler", {}),
}


class ModelCache:
    """Loaded models by (folder, revision, device, dtype), least recently used evicted first:
    before a load, until both the count (`capacity`) and the memory (`budget_mb`, the
    models' stored weights) leave room for it."""

    def __init__(self, capacity: int = CACHE_MODELS, budget_mb: float | None = None) -> None:
        self.capacity = max(1, capacity)
        self.budget_mb = budget_mb
        self.evictions = 0
        self._models: OrderedDict[tuple[Path, str, str, str], LoadedModel] = OrderedDict()
        self._lock = threading.Lock()
        self.loads = 0

    def get(
        self, folder: Path, device: str, adapters: Adapters = NO_ADAPTERS, dtype: str = "auto"
    ) -> tuple[LoadedModel, bool]:
        """(the model with its adapters loaded, whether it was already loaded).

        Adapters change the weights (a LoRA is fused), and so does the number type: each
        set is its own entry.
        """
        revision = _with_adapters(model_revision(folder), adapters)
        dtype = dtype_resolve(dtype, device)
        key = (folder, revision, device, dtype)
        with self._lock:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key], True
            need = model_size_mb(folder)
            if self.budget_mb is not None and need > self.budget_mb:
                raise RuntimeError(
                    f"model {folder} needs about {need:.0f} MB, more than this worker's "
                    f"memory budget of {self.budget_mb:.0f} MB"
                )
            self._evict_for(need)
            try:
                loaded = _model_load(folder, device, dtype, adapters, revision, need)
            except BaseException as exc:
                # Nothing half-loaded stays: not in the cache, and its memory handed back
                # (the traceback would otherwise keep the loading frame's weights alive).
                traceback.clear_frames(exc.__traceback__)
                release_device_memory()
                raise
            self._models[key] = loaded
            self.loads += 1
            return loaded, False

    def _evict_for(self, need_mb: float) -> None:
        def full() -> bool:
            used = sum(m.size_mb for m in self._models.values())
            over = self.budget_mb is not None and used + need_mb > self.budget_mb
            return len(self._models) >= self.capacity or over

        evicted = False
        while self._models and full():
            self._models.popitem(last=False)
            self.evictions += 1
            evicted = True
        if evicted:
            release_device_memory()

    def describe(self) -> list[dict[str, Any]]:
        """What is loaded, least recently used first: for heartbeats and the admin."""
        with self._lock:
            return [
                {
                    "model": str(folder),
                    "revision": loaded.revision,
                    "device": device,
                    "dtype": dtype,
                    "pipelines": ["txt2img", *sorted(loaded.pipelines)],
                    "size_mb": loaded.size_mb,
                    "lightened": loaded.lightened,
                    "compiled": loaded.compiled,
                    "warmup_s": round(loaded.warmup_s, 3),
                    "load_s": round(loaded.load_s, 3),
                    "loaded_at": round(loaded.loaded_at, 3),
                }
                for (folder, _revision, device, dtype), loaded in self._models.items()
            ]


@cache
def shared_cache() -> ModelCache:
    """The worker process's one cache: the diffusion and hybrid engines share its models.

    On a CUDA device the process is held to its memory budget (gpu_worker.budget) by the
    allocator too, so a model that would overrun it fails to load instead of starving
    whatever else shares the card.
    """
    return ModelCache(budget_mb=device_budget_mb())


def device_budget_mb() -> float | None:
    """This process's device memory budget in MB; None on the CPU."""
    import torch

    if not torch.cuda.is_available():
        return None
    total_mb = torch.cuda.get_device_properties(0).total_memory / 2**20
    fraction = memory_fraction(total_mb=total_mb, setting=memory_fraction_from_env())
    if fraction is None:
        return None
    torch.cuda.set_per_process_memory_fraction(fraction)
    return round(total_mb * fraction, 1)


def release_device_memory() -> None:
    """After an eviction: give the freed blocks back, so the allocator's numbers show it."""
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def dtype_resolve(dtype: str, device: str) -> str:
    """The number type the weights get: "auto" is float16 on a GPU, float32 on the CPU
    (where half precision is slow or missing)."""
    if dtype != "auto":
        return dtype
    return "float32" if device == "cpu" else "float16"


def _model_load(
    folder: Path, device: str, dtype: str, adapters: Adapters, revision: str, size_mb: float
) -> LoadedModel:
    """A model on the device with its adapters applied (compiled and warmed up, if set)."""
    t0 = time.perf_counter()
    pipe = _load(folder, device, dtype)
    _adapters_apply(pipe, adapters)
    loaded = LoadedModel(
        revision=revision,
        device=device,
        txt2img=pipe,
        size_mb=size_mb,
        load_s=time.perf_counter() - t0,
    )
    _compile_and_warm(loaded)
    return loaded


def _load(folder: Path, device: str, dtype: str) -> Any:
    import torch
    from diffusers import StableDiffusionXLPipeline

    pipe = StableDiffusionXLPipeline.from_pretrained(
        folder, dtype=getattr(torch, dtype), local_files_only=True
    )
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device)


class ModelCacheUser:
    """An engine that renders with the worker's loaded models (the shared cache by default;
    a test may give one of its own)."""

    def __init__(self, cache: ModelCache | None = None) -> None:
        self.cache = shared_cache() if cache is None else cache

    def loaded(self) -> list[dict[str, Any]]:
        return self.cache.describe()


def _with_adapters(revision: str, adapters: Adapters) -> str:
    """The model's revision, or with adapters one hash over it and theirs (and settings)."""
    inversions, loras = adapters
    if not inversions and not loras:
        return revision
    digest = hashlib.sha256(revision.encode())
    for ti in inversions:
        digest.update(
            f"ti:{ti.token}:{_content_hash(_adapter_path(ti.path, 'textual_inversions'))}".encode()
        )
    for lora in loras:
        digest.update(
            f"lora:{lora.scale!r}:{_content_hash(_adapter_path(lora.path, 'loras'))}".encode()
        )
    return "sha256:" + digest.hexdigest()


def _adapter_path(raw: str, option: str) -> Path:
    path = Path(raw).expanduser()
    if not path.exists():
        raise OptionError(f"options.{option}: no file at {raw}")
    return path


def _adapters_apply(pipe: Any, adapters: Adapters) -> None:
    """Load the textual inversions into both text encoders, then fuse the LoRAs."""
    inversions, loras = adapters
    for ti in inversions:
        vectors = _inversion_vectors(_adapter_path(ti.path, "textual_inversions"))
        for key, encoder, tokenizer in (
            ("clip_l", pipe.text_encoder, pipe.tokenizer),
            ("clip_g", pipe.text_encoder_2, pipe.tokenizer_2),
        ):
            try:
                pipe.load_textual_inversion(
                    vectors[key], token=ti.token, text_encoder=encoder, tokenizer=tokenizer
                )
            except ValueError as exc:
                raise OptionError(
                    f"options.textual_inversions: {ti.path} does not fit this model's "
                    f"{key} text encoder ({exc})"
                ) from exc
    names = []
    for i, lora in enumerate(loras):
        name = f"lora{i}"
        try:
            pipe.load_lora_weights(str(_adapter_path(lora.path, "loras")), adapter_name=name)
        except (ValueError, KeyError, RuntimeError, OSError) as exc:
            raise OptionError(f"options.loras: {lora.path} does not load ({exc})") from exc
        names.append(name)
    if names:
        pipe.set_adapters(names, adapter_weights=[lora.scale for lora in loras])
        pipe.fuse_lora(adapter_names=names, lora_scale=1.0)
        pipe.unload_lora_weights()  # fused: the adapters' own copies are not needed


def _inversion_vectors(path: Path) -> dict[str, Any]:
    """SDXL textual-inversion embeddings: `clip_l` and `clip_g` tensors from one file."""
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            state = load_file(str(path))
        except Exception as exc:  # the library raises its own error types
            raise OptionError(f"options.textual_inversions: {path} is not safetensors") from exc
    else:
        import torch

        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise OptionError(f"options.textual_inversions: {path} does not load") from exc
    missing = [k for k in ("clip_l", "clip_g") if k not in state]
    if missing:
        raise OptionError(
            f"options.textual_inversions: {path} has no {' or '.join(missing)} embedding "
            "(SDXL needs one per text encoder)"
        )
    return state


def revision_with_controlnet(revision: str, controlnet: Path) -> str:
    """A job's revision when a ControlNet joins the model: one hash over both."""
    digest = hashlib.sha256(f"{revision}+controlnet:{model_revision(controlnet)}".encode())
    return "sha256:" + digest.hexdigest()


def compile_backend() -> str:
    """The torch.compile backend this worker uses ("" when it does not compile)."""
    raw = os.environ.get(COMPILE_ENV, "").strip()
    return "" if raw in {"", "0"} else ("inductor" if raw == "1" else raw)


def _compile_and_warm(loaded: LoadedModel) -> None:
    """Compile the UNet once and run one warm-up call, at load: never inside a job."""
    backend = compile_backend()
    if not backend:
        return
    import torch

    pipe = loaded.txt2img
    pipe.unet = torch.compile(pipe.unet, backend=backend)
    size = int(os.environ.get(WARMUP_SIZE_ENV, "1024"))
    t0 = time.perf_counter()
    with torch.inference_mode():
        pipe(
            "warm-up",
            num_inference_steps=1,
            height=size,
            width=size,
            output_type="latent",
            generator=torch.Generator(device="cpu").manual_seed(0),
        )
    loaded.compiled = backend
    loaded.warmup_s = time.perf_counter() - t0


def model_preload(reference: str) -> dict[str, Any]:
    """Load (and compile and warm up, if set) a model before any job asks for it."""
    shared_cache().get(model_folder(reference), device_pick())
    return shared_cache().describe()[-1]
