"""From a measured mix to recipes: the nearest whole-percent stock mix, and the nearest of
the catalog's recipes, each with how far it is.

Two distances, because a shopper and a production check ask different questions:
- in share points: the total variation distance, half the sum of the absolute share
  differences, i.e. the percent of the tile's area that would have to change colour to
  turn one mix into the other (0 = the same mix, 100 = no colour in common);
- in appearance: CIEDE2000 between the two mixes' mean colours, the palette colours mixed
  in linear light in their shares (as light from many small granules mixes), i.e. how
  different the two tiles look from a step back. Two different mixes can look alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from catalog.palette import PaletteColor

from .ciede2000 import delta_e00
from .convert import lab_to_linear, linear_to_lab

Mix = Mapping[str, float]  # colour code -> percent (0..100, summing to about 100)


@dataclass(frozen=True, slots=True)
class RecipeMatch:
    """One candidate recipe and how far the measured mix is from it."""

    key: str  # the caller's id for it (a recipe's id, or "" for a made-up mix)
    name: str
    components: tuple[tuple[str, int], ...]  # (code, whole percent), summing to 100
    distance_pp: float
    delta_e00: float


def share_distance(a: Mix, b: Mix) -> float:
    """Half the sum of |a - b| over every colour in either: the share of the area that
    differs, in percentage points."""
    codes = set(a) | set(b)
    return 0.5 * sum(abs(float(a.get(code, 0.0)) - float(b.get(code, 0.0))) for code in codes)


def mix_lab(mix: Mix, palette: Mapping[str, PaletteColor]) -> np.ndarray:
    """The mix's mean colour: its palette colours averaged in linear light by share."""
    total = sum(mix.values())
    if total <= 0:
        raise ValueError("an empty mix has no colour")
    linear = sum(
        (share / total) * lab_to_linear(np.asarray(palette[code].lab, dtype=np.float64))
        for code, share in mix.items()
    )
    return linear_to_lab(np.asarray(linear))


def appearance_distance(a: Mix, b: Mix, palette: Mapping[str, PaletteColor]) -> float:
    return float(delta_e00(mix_lab(a, palette), mix_lab(b, palette)))


def whole_percents(measured: Mix, *, min_percent: float = 1.0) -> tuple[tuple[str, int], ...]:
    """The nearest mix in whole percents 1..100 summing to 100 (what a recipe can say).

    Colours under `min_percent` are left out (a recipe cannot hold 0.4 %), the rest scaled
    to 100 and rounded by largest remainder, so no rounding breaks the sum; a colour that
    would round to 0 gets 1, taken from the largest.
    """
    kept = {code: float(share) for code, share in measured.items() if share >= min_percent}
    if not kept:
        raise ValueError("no colour reaches the minimum share")
    total = sum(kept.values())
    exact = {code: 100.0 * share / total for code, share in kept.items()}
    whole = {code: max(1, int(value)) for code, value in exact.items()}
    left = 100 - sum(whole.values())
    by_remainder = sorted(exact, key=lambda code: (-(exact[code] - int(exact[code])), code))
    for code in by_remainder[: max(0, left)]:
        whole[code] += 1
    while sum(whole.values()) > 100:  # the floor of 1 overshot: take from the largest
        largest = max(whole, key=lambda code: (whole[code], code))
        whole[largest] -= 1
    return tuple(sorted(whole.items(), key=lambda item: (-item[1], item[0])))


def recipes_nearest(
    *,
    measured: Mix,
    candidates: Sequence[tuple[str, str, Sequence[tuple[str, int]]]],
    palette: Sequence[PaletteColor],
    limit: int = 5,
) -> list[RecipeMatch]:
    """The catalog recipes (key, name, components) nearest the measured mix, nearest first
    by share distance, then by appearance; the palette must hold every colour named."""
    by_code = {colour.code: colour for colour in palette}
    matches = []
    for key, name, components in candidates:
        recipe = {code: float(percent) for code, percent in components}
        if not recipe or any(code not in by_code for code in recipe):
            continue  # a recipe of a retired colour cannot be compared by appearance
        matches.append(
            RecipeMatch(
                key=key,
                name=name,
                components=tuple((code, int(percent)) for code, percent in components),
                distance_pp=round(share_distance(measured, recipe), 1),
                delta_e00=round(appearance_distance(measured, recipe, by_code), 2),
            )
        )
    matches.sort(key=lambda match: (match.distance_pp, match.delta_e00, match.name))
    return matches[:limit]


def stock_mix_nearest(*, measured: Mix, palette: Sequence[PaletteColor]) -> RecipeMatch:
    """The closest whole-percent mix of stock colours, with its distances."""
    by_code = {colour.code: colour for colour in palette}
    components = whole_percents(measured)
    mix = {code: float(percent) for code, percent in components}
    return RecipeMatch(
        key="",
        name=",".join(f"{code}:{percent}" for code, percent in components),
        components=components,
        distance_pp=round(share_distance(measured, mix), 1),
        delta_e00=round(appearance_distance(measured, mix, by_code), 2),
    )
