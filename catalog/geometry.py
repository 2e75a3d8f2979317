"""A tile's geometry as plain data: what the catalog stores and what every engine draws.

Plain Python (no ORM), like `recipes.py`, so the render engines use this very type.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal, cast, get_args

Shape = Literal["square", "brick", "puzzle"]
GranuleSize = Literal["fine", "medium", "coarse"]

SHAPE_LABELS: Mapping[Shape, str] = {
    "square": "Square",
    "brick": "Brick",
    "puzzle": "Puzzle (interlocking edges)",
}
GRANULE_SIZE_LABELS: Mapping[GranuleSize, str] = {
    "fine": "Fine, 1-2 mm",
    "medium": "Medium, 2-3 mm",
    "coarse": "Coarse, 3-4 mm",
}
# Granule diameters in millimetres, by granule-size grade (the labels above in numbers).
GRANULE_DIAMETER_MM: Mapping[GranuleSize, tuple[float, float]] = {
    "fine": (1.0, 2.0),
    "medium": (2.0, 3.0),
    "coarse": (3.0, 4.0),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class TileGeometry:
    """Shape, size in whole millimetres and granule grade of one tile product."""

    shape: Shape
    width_mm: int
    height_mm: int
    thickness_mm: int
    granule_size: GranuleSize

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> TileGeometry:
        """From `as_dict()` output (a job's snapshot); unknown shapes or grades are refused."""
        shape, grade = values["shape"], values["granule_size"]
        if shape not in get_args(Shape):
            raise ValueError(f"unknown tile shape {shape!r}")
        if grade not in get_args(GranuleSize):
            raise ValueError(f"unknown granule size {grade!r}")
        return cls(
            shape=cast(Shape, shape),
            width_mm=int(values["width_mm"]),
            height_mm=int(values["height_mm"]),
            thickness_mm=int(values["thickness_mm"]),
            granule_size=cast(GranuleSize, grade),
        )
