"""Engine lookup by name. Metadata is importable without loading any engine's libraries."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache

from gpu_worker.contract import Engine, UnknownEngine


@dataclass(frozen=True, slots=True)
class EngineInfo:
    name: str
    version: str
    module: str  # imported only when the engine is asked for
    attribute: str


# The version is part of every render_key: bump it whenever the same spec would give a
# different picture.
_ENGINES: dict[str, EngineInfo] = {
    "procedural": EngineInfo(
        name="procedural",
        version="2.1.0",
        module="gpu_worker.engines.procedural.engine",
        attribute="ProceduralEngine",
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


@cache
def engine_get(name: str) -> Engine:
    """The (shared, stateless) engine instance for `name`; raises UnknownEngine."""
    info = _info(name)
    cls = getattr(importlib.import_module(info.module), info.attribute)
    return cls()
