"""The plain-data contract between the job rows and the engines."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

View = Literal["top", "perspective"]
Shape = Literal["square", "brick", "puzzle"]
GranuleSize = Literal["fine", "medium", "coarse"]

# Granule diameters in millimetres, by the catalog's granule-size grade.
GRANULE_DIAMETER_MM: Mapping[str, tuple[float, float]] = {
    "fine": (1.0, 2.0),
    "medium": (2.0, 3.0),
    "coarse": (3.0, 4.0),
}

MIN_SIZE_PX = 256
MAX_SIZE_PX = 2048


def hex_to_rgb(value: str) -> tuple[int, int, int]:
    """'#D05042' -> (208, 80, 66)."""
    text = value.strip().lstrip("#")
    if len(text) != 6:
        raise ValueError(f"not a #RRGGBB colour: {value!r}")
    return (int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16))


@dataclass(frozen=True, slots=True)
class PaletteColor:
    """One stock granule colour as measured (see catalog/data/palette.json)."""

    code: str
    lab: tuple[float, float, float]
    rgb: tuple[int, int, int]
    lightness_spread: float

    @classmethod
    def measured(
        cls, *, code: str, lab: Sequence[float], hex_code: str, lightness_spread: float
    ) -> PaletteColor:
        """From the figures as the palette file, the catalog and job snapshots keep them."""
        l_star, a_star, b_star = (float(v) for v in lab)
        return cls(
            code=code,
            lab=(l_star, a_star, b_star),
            rgb=hex_to_rgb(hex_code),
            lightness_spread=float(lightness_spread),
        )


@dataclass(frozen=True, slots=True)
class RecipeComponent:
    """One colour of a recipe; percent is a whole number 1..100."""

    code: str
    percent: int


@dataclass(frozen=True, slots=True)
class TileGeometry:
    shape: Shape
    width_mm: float
    height_mm: float
    thickness_mm: float
    granule: GranuleSize


@dataclass(frozen=True, slots=True)
class RenderSpec:
    """Everything an engine needs to render one picture, and nothing from the ORM."""

    tile: TileGeometry
    recipe: tuple[RecipeComponent, ...]
    palette: tuple[PaletteColor, ...]
    view: View = "top"
    angle: int = 0
    size: int = 1024
    seed: int = 0
    quality: str = "standard"
    options: Mapping[str, Any] = field(default_factory=dict)

    def palette_by_code(self) -> dict[str, PaletteColor]:
        return {c.code: c for c in self.palette}
