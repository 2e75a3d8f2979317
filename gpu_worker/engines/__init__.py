"""Render engines behind one Protocol; see base.py and registry.py."""

from gpu_worker.contract import Engine, RenderCanceled, RenderResult, UnknownEngine

from .registry import engine_get, engine_names, engine_version

__all__ = [
    "Engine",
    "RenderCanceled",
    "RenderResult",
    "UnknownEngine",
    "engine_get",
    "engine_names",
    "engine_version",
]
