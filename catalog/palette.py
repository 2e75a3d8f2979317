"""The measured stock palette shipped with the code (copied from the shop's measurements)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

PALETTE_PATH = Path(__file__).resolve().parent / "data" / "palette.json"


@cache
def stock_palette() -> tuple[dict[str, Any], ...]:
    """The 29 stock colours as dicts: code, name_en, name_ru, hex, lab, lightness_spread."""
    with PALETTE_PATH.open(encoding="utf-8") as handle:
        return tuple(json.load(handle)["colors"])
