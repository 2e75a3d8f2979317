"""The plain-data contract between the job rows and the engines.

A `RenderSpec` goes in (the tile, the recipe, the palette as measured, the render
parameters), a `RenderResult` comes out (the picture and its measured `Fidelity`). Nothing
here touches the ORM or imports an engine's libraries: the web process reads engine
metadata through this module and must stay light.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from catalog.geometry import TileGeometry
from catalog.palette import PaletteColor
from catalog.recipes import Recipe
from gpu_worker.params import RenderParams

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray


@dataclass(frozen=True, slots=True, kw_only=True)
class RenderSpec:
    """Everything an engine needs to render one picture, and nothing from the ORM."""

    tile: TileGeometry
    recipe: Recipe
    palette: tuple[PaletteColor, ...]
    params: RenderParams

    @property
    def seed(self) -> int:
        """The seed to draw with; a job's seed is resolved before it reaches an engine."""
        if self.params.seed is None:
            raise ValueError("the seed must be resolved before rendering")
        return self.params.seed

    def palette_by_code(self) -> dict[str, PaletteColor]:
        return {c.code: c for c in self.palette}


@dataclass(frozen=True, slots=True)
class Fidelity:
    """How well a picture shows its recipe. Percent values are 0..100."""

    shares: dict[str, float]
    max_share_error_pp: float | None
    delta_e00: dict[str, float]
    tile_fraction: float
    # ΔE2000 of the whole visible top face's mean colour from the recipe's palette mix
    # (None without a recipe): the colour a shopper sees, crevices and shading included.
    appearance_delta_e00: float | None = None
    # An engine that corrects its picture's colours (hybrid): the same measure before.
    before_correction: Fidelity | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "shares": dict(self.shares),
            "max_share_error_pp": self.max_share_error_pp,
            "delta_e00": dict(self.delta_e00),
            "appearance_delta_e00": self.appearance_delta_e00,
            "tile_fraction": self.tile_fraction,
        }
        if self.before_correction is not None:
            out["before_correction"] = self.before_correction.to_dict()
        return out


Progress = Callable[[int], None]
ShouldStop = Callable[[], bool]
# Called once with the final picture as soon as it exists, before the engine measures it,
# so the caller can encode and store it in parallel with the measurement.
OnImage = Callable[["NDArray[np.uint8]"], None]


class RenderCanceled(Exception):
    """Raised by an engine when `should_stop()` turned true mid-render."""


class UnknownEngine(LookupError):
    """No engine is registered under the requested name."""


@dataclass(frozen=True, slots=True)
class RenderResult:
    image: NDArray[np.uint8]  # (H, W, 3) sRGB
    fidelity: Fidelity
    engine: str
    engine_version: str
    model_revision: str | None = None
    # Seconds per phase; always has "inference" and "postprocess".
    timings: dict[str, float] = field(default_factory=dict)
    # The picture for the thumbnail, drawn at thumbnail size by an engine that can (its
    # texture then stays visible and measurable there); None: the image is shrunk.
    thumbnail: NDArray[np.uint8] | None = None
    # Engines with a model cache: whether the model was loaded already (None: the runner
    # judges by the engine alone), and how often an out-of-memory error was retried.
    cache_hit: bool | None = None
    oom_retries: int = 0


@runtime_checkable
class Engine(Protocol):
    name: str
    version: str

    def render(
        self,
        spec: RenderSpec,
        *,
        progress: Progress | None = None,
        should_stop: ShouldStop | None = None,
        on_image: OnImage | None = None,
    ) -> RenderResult: ...


@runtime_checkable
class BatchEngine(Engine, Protocol):
    """An engine that renders several specs with one batch key in one call."""

    def render_batch(
        self,
        specs: Sequence[RenderSpec],
        *,
        progress: Progress | None = None,
        should_stop: ShouldStop | None = None,
        on_image: OnImage | None = None,
    ) -> list[RenderResult]: ...
