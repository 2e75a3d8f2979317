"""The measured stock palette: the colours as plain data, and the file shipped with the code.

Plain Python (no ORM), like `recipes.py`: the engines and the colour analyzer take these
very `PaletteColor` values.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

PALETTE_PATH = Path(__file__).resolve().parent / "data" / "palette.json"


def hex_to_rgb(value: str) -> tuple[int, int, int]:
    """'#D05042' -> (208, 80, 66)."""
    text = value.strip().lstrip("#")
    if len(text) != 6:
        raise ValueError(f"not a #RRGGBB colour: {value!r}")
    return (int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16))


@dataclass(frozen=True, slots=True)
class PaletteColor:
    """One stock granule colour as measured (see data/palette.json)."""

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

    @property
    def hex(self) -> str:
        return "#{:02X}{:02X}{:02X}".format(*self.rgb)

    def as_snapshot(self) -> dict[str, Any]:
        """The figures a render job keeps, so it renders the colour as measured when asked."""
        return {"hex": self.hex, "lab": list(self.lab), "lightness_spread": self.lightness_spread}

    @classmethod
    def from_snapshot(cls, code: str, values: dict[str, Any]) -> PaletteColor:
        return cls.measured(
            code=code,
            lab=values["lab"],
            hex_code=values["hex"],
            lightness_spread=values["lightness_spread"],
        )


@cache
def stock_palette() -> tuple[dict[str, Any], ...]:
    """The 29 stock colours as dicts: code, name_en, name_ru, hex, lab, lightness_spread."""
    with PALETTE_PATH.open(encoding="utf-8") as handle:
        return tuple(json.load(handle)["colors"])


@cache
def stock_palette_colors() -> tuple[PaletteColor, ...]:
    """The 29 stock colours as measured, for code that runs without the database (the
    render library's tests, benchmarks and scripts); the site reads them from its Color
    rows instead."""
    return tuple(
        PaletteColor.measured(
            code=c["code"], lab=c["lab"], hex_code=c["hex"], lightness_spread=c["lightness_spread"]
        )
        for c in stock_palette()
    )
