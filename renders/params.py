"""Render parameters: validated once at the boundary, normalised, and hashed into a key.

Plain Python (no ORM): the API, the admin, the CLI, the scheduler and the worker all build
the same RenderParams, so the same request always gets the same render_key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from catalog.recipes import Recipe

VIEWS = ("top", "perspective")
QUALITIES = ("draft", "standard", "high")
MIN_SIZE, MAX_SIZE = 256, 2048
MAX_SEED = 2**31 - 1
# What "render all views" means for a product page.
STANDARD_VIEWS: tuple[tuple[str, int], ...] = (("top", 0), ("perspective", 0), ("perspective", 45))


class ParamError(ValueError):
    """Bad render parameters; `fields` maps each bad field to what is wrong with it."""

    def __init__(self, fields: Mapping[str, str]) -> None:
        self.fields = dict(fields)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.fields.items()))


@dataclass(frozen=True, slots=True)
class ProductGeometry:
    sku: str
    shape: str
    width_mm: int
    height_mm: int
    thickness_mm: int
    granule_size: str


@dataclass(frozen=True, slots=True)
class RenderParams:
    product: ProductGeometry
    recipe: Recipe
    view: str
    angle: int
    size: int
    seed: int
    engine: str
    quality: str = "standard"
    options: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The normalised parameters as stored on the job and shown by the API."""
        return {
            "product": asdict(self.product),
            "recipe": self.recipe.canonical,
            "view": self.view,
            "angle": self.angle,
            "size": self.size,
            "seed": self.seed,
            "engine": self.engine,
            "quality": self.quality,
            "options": dict(sorted(self.options.items())),
        }


def seed_derive(*, sku: str, recipe: Recipe) -> int:
    """The default seed: one per product and recipe, so identical requests dedup."""
    digest = hashlib.sha256(f"{sku}|{recipe.canonical}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & MAX_SEED


def _whole(value: object, name: str, low: int, high: int, errors: dict[str, str]) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value.strip())
        else:
            errors[name] = f"{value!r} is not a whole number; use {low}..{high}"
            return low
    if not low <= value <= high:
        errors[name] = f"{value} is out of range; use {low}..{high}"
    return int(value)


def render_params_build(
    *,
    product: ProductGeometry,
    recipe: Recipe,
    view: object = "top",
    angle: object = 0,
    size: object = 1024,
    seed: object = None,
    engine: object = "procedural",
    quality: object = "standard",
    options: object = None,
    engines: Mapping[str, bool],
) -> RenderParams:
    """Validate and normalise; `engines` maps each known engine to whether it is enabled."""
    errors: dict[str, str] = {}
    if view not in VIEWS:
        errors["view"] = f"{view!r} is not a view; use one of {', '.join(VIEWS)}"
    angle_int = _whole(angle, "angle", 0, 359, errors)
    size_int = _whole(size, "size", MIN_SIZE, MAX_SIZE, errors)
    seed_int = (
        seed_derive(sku=product.sku, recipe=recipe)
        if seed is None
        else _whole(seed, "seed", 0, MAX_SEED, errors)
    )
    if engine not in engines:
        errors["engine"] = f"{engine!r} is not an engine; known: {', '.join(sorted(engines))}"
    elif not engines[str(engine)]:
        errors["engine"] = f"engine {engine!r} is not enabled on this site"
    if quality not in QUALITIES:
        errors["quality"] = f"{quality!r} is not a quality preset; use {', '.join(QUALITIES)}"
    if options is None:
        options = {}
    if not isinstance(options, Mapping) or not all(isinstance(k, str) for k in options):
        errors["options"] = "options must be an object with string keys"
        options = {}
    elif len(json.dumps(options, default=str)) > 4096:
        errors["options"] = "options are larger than 4 KiB"
    if errors:
        raise ParamError(errors)
    return RenderParams(
        product=product,
        recipe=recipe,
        view=str(view),
        angle=angle_int,
        size=size_int,
        seed=seed_int,
        engine=str(engine),
        quality=str(quality),
        options=dict(options),
    )


def render_key_compute(
    *, params: RenderParams, engine_version: str, model_revision: str | None
) -> str:
    """Hash of the normalised parameters plus what the engine would render them with."""
    payload = {
        **params.as_dict(),
        "engine_version": engine_version,
        "model_revision": model_revision or "",
    }
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(blob.encode()).hexdigest()
