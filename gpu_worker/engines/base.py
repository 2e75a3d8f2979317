"""What every render engine promises: plain data in (RenderSpec), plain data out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from gpu_worker.spec import RenderSpec

if TYPE_CHECKING:  # the web process reads engine metadata through here: keep it light
    import numpy as np
    from numpy.typing import NDArray

    from gpu_worker.colour.analyzer import Fidelity

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
