"""Engine lookup by name. Metadata is importable without loading any engine's libraries."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from gpu_worker.contract import Engine, UnknownEngine
from gpu_worker.params import RenderParams


@dataclass(frozen=True, slots=True)
class EngineInfo:
    name: str
    version: str
    module: str  # imported only when the engine is asked for
    attribute: str
    # "module:function" checking the engine's `options` at every door (plain Python, so
    # the web process runs it too); it raises ValueError naming the bad option.
    options_check: str | None = None
    # "module:function" giving a RenderParams' batch key (plain Python, so the job's row
    # can be matched before any engine loads); None: the engine renders one job per call.
    batch_key: str | None = None


# The version is part of every render_key: bump it whenever the same spec would give a
# different picture.
_ENGINES: dict[str, EngineInfo] = {
    "procedural": EngineInfo(
        name="procedural",
        version="2.1.0",
        module="gpu_worker.engines.procedural.engine",
        attribute="ProceduralEngine",
    ),
    # SDXL through diffusers; its worker needs requirements-gpu.txt and a model folder.
    "diffusion": EngineInfo(
        name="diffusion",
        version="0.2.0",
        module="gpu_worker.engines.diffusion.engine",
        attribute="DiffusionEngine",
        options_check="gpu_worker.engines.diffusion.options:diffusion_options_parse",
        batch_key="gpu_worker.engines.diffusion.options:diffusion_batch_key",
    ),
    # The procedural render redrawn by SDXL img2img, its chips' colours put back.
    "hybrid": EngineInfo(
        name="hybrid",
        version="0.2.0",
        module="gpu_worker.engines.diffusion.hybrid",
        attribute="HybridEngine",
        options_check="gpu_worker.engines.diffusion.options:diffusion_options_parse",
        batch_key="gpu_worker.engines.diffusion.options:diffusion_batch_key",
    ),
}


def engine_names() -> tuple[str, ...]:
    return tuple(sorted(_ENGINES))


def _info(name: str) -> EngineInfo:
    try:
        return _ENGINES[name]
    except KeyError:
        known = ", ".join(engine_names())
        raise UnknownEngine(f"unknown engine {name!r}; known engines: {known}") from None


def engine_version(name: str) -> str:
    return _info(name).version


def engine_options_check(name: str, options: Mapping[str, Any]) -> None:
    """Raise ValueError naming the first bad option of `options` for engine `name`."""
    check = _info(name).options_check
    if check is not None:
        module, function = check.split(":")
        getattr(importlib.import_module(module), function)(options)


def engine_batch_key(params: RenderParams) -> str | None:
    """The key under which jobs can share one engine call; None if the engine never batches
    (or the options are bad, which the job's own run will report)."""
    key = _info(params.engine).batch_key
    if key is None:
        return None
    module, function = key.split(":")
    try:
        found: str = getattr(importlib.import_module(module), function)(params)
    except ValueError:
        return None
    return found


@cache
def engine_get(name: str) -> Engine:
    """The (shared) engine instance for `name`; raises UnknownEngine."""
    info = _info(name)
    cls = getattr(importlib.import_module(info.module), info.attribute)
    engine: Engine = cls()
    _instances[name] = engine
    return engine


_instances: dict[str, Engine] = {}


def engines_loaded() -> list[dict[str, Any]]:
    """What the engines this process has used keep loaded (models, pipelines), each once.

    Asks only engines already made here, so a worker that never ran a diffusion job never
    imports torch to answer.
    """
    seen: dict[tuple[str, str, str], dict[str, Any]] = {}
    for name in sorted(_instances):
        describe = getattr(_instances[name], "loaded", None)
        for entry in describe() if describe is not None else []:
            seen.setdefault((entry["model"], entry["revision"], entry["device"]), entry)
    return list(seen.values())
