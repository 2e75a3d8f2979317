"""Render engines behind one Protocol (gpu_worker/contract.py), found by name in registry.py."""

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
