"""What makes two render requests the same render: the derived seed and the render key.

The key hashes the normalised request (product geometry, canonical recipe, the render
parameters as `RenderParams.normalised()` gives them) with the engine's version and model
revision. Its payload must not change shape: stored jobs and catalog images are matched by
it, and the stale sweep re-renders every image whose key no longer matches.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from catalog.geometry import TileGeometry
from catalog.recipes import Recipe
from gpu_worker.params import MAX_SEED, RenderParams


def seed_derive(*, sku: str, recipe: Recipe) -> int:
    """The default seed: one per product and recipe, so identical requests dedup."""
    digest = hashlib.sha256(f"{sku}|{recipe.canonical}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & MAX_SEED


def render_request_normalise(
    *, sku: str, tile: TileGeometry, recipe: Recipe, params: RenderParams
) -> dict[str, Any]:
    """The request as a job stores it and as its render key hashes it (seed resolved)."""
    return {
        "product": {"sku": sku, **tile.as_dict()},
        "recipe": recipe.canonical,
        **params.normalised(),
    }


def render_key_compute(
    *, normalised: Mapping[str, Any], engine_version: str, model_revision: str | None
) -> str:
    """Hash of the normalised request plus what the engine would render it with."""
    payload = {
        **normalised,
        "engine_version": engine_version,
        "model_revision": model_revision or "",
    }
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(blob.encode()).hexdigest()
