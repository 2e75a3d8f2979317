"""Fixtures for the gpu_worker tests: the stock palette read from palette.json."""

from __future__ import annotations

import pytest
from _gw_support import PALETTE

from catalog.palette import PaletteColor


@pytest.fixture(scope="session")
def palette() -> tuple[PaletteColor, ...]:
    return PALETTE
