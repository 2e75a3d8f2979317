"""How much of its device's memory a render worker may use (plain Python).

`PLITKA_GPU_MEMORY_FRACTION` (0.5-0.8) sets the share; left unset, the share follows the
card's size: 80 % from 40 GiB, 75 % from 16 GiB, 70 % below (a small card keeps more
headroom for the allocator's fragmentation and the CUDA context). Anything else is refused
where the setting is read, at start.
"""

from __future__ import annotations

import os

FRACTION_ENV = "PLITKA_GPU_MEMORY_FRACTION"
FRACTION_RANGE = (0.5, 0.8)
_BY_CARD_GIB = ((40.0, 0.8), (16.0, 0.75), (0.0, 0.7))


class BudgetError(ValueError):
    """An unusable memory fraction setting; the message names it and the range."""


def memory_fraction_setting(raw: str | None) -> float | None:
    """The configured fraction, None when unset; BudgetError when unusable."""
    if raw is None or raw.strip() == "":
        return None
    lo, hi = FRACTION_RANGE
    try:
        value = float(raw)
    except ValueError:
        raise BudgetError(f"{FRACTION_ENV}={raw!r} is not a number; use {lo}-{hi}") from None
    if not lo <= value <= hi:
        raise BudgetError(f"{FRACTION_ENV}={raw!r} is outside {lo}-{hi}")
    return value


def memory_fraction(*, total_mb: float | None, setting: float | None) -> float | None:
    """The share of a device of `total_mb` this worker uses; None without a device."""
    if total_mb is None:
        return None
    if setting is not None:
        return setting
    gib = total_mb / 1024.0
    return next(share for floor, share in _BY_CARD_GIB if gib >= floor)


def memory_budget_mb(*, total_mb: float | None, setting: float | None = None) -> float | None:
    """The worker's budget in MB (None without a device)."""
    fraction = memory_fraction(total_mb=total_mb, setting=setting)
    return None if fraction is None or total_mb is None else round(total_mb * fraction, 1)


def memory_fraction_from_env() -> float | None:
    return memory_fraction_setting(os.environ.get(FRACTION_ENV))
