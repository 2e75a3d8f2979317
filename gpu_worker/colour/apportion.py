"""Turning whole-percent recipes into exact integer amounts."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray


def largest_remainder(*, total: int, percents: Sequence[int]) -> list[int]:
    """Split `total` units in proportion to whole percents summing to 100.

    Hamilton's method: floor every quota, then hand the leftover units to the largest
    remainders (ties to the earlier component, so the result is deterministic).
    """
    if total < 0:
        raise ValueError("total must be non-negative")
    if any(int(p) != p or p < 1 or p > 100 for p in percents):
        raise ValueError("percents must be whole numbers 1..100")
    if sum(percents) != 100:
        raise ValueError(f"percents must sum to 100, got {sum(percents)}")
    floors = [total * p // 100 for p in percents]
    remainders = [total * p % 100 for p in percents]
    left = total - sum(floors)
    order = sorted(range(len(percents)), key=lambda i: (-remainders[i], i))
    for i in order[:left]:
        floors[i] += 1
    return floors


def colours_for_areas(
    *, areas: NDArray[np.int64], percents: Sequence[int], rng: np.random.Generator
) -> NDArray[np.int64]:
    """Give each granule (by its visible area in pixels) a recipe component index.

    Each component's total area hits its largest-remainder target to within about one
    small granule: granules are taken in a seeded random order (so colours are scattered
    in space) and the order is cut at the targets; then a few greedy moves of the
    best-fitting granule from over- to under-served components, and swaps of two granules
    between them, close the leftovers.
    Granules with zero area still get a component, so every label has a colour.
    """
    areas = np.asarray(areas, dtype=np.int64)
    n = areas.size
    k = len(percents)
    if k == 1 or n == 0:
        return np.zeros(n, dtype=np.int64)
    targets = np.array(largest_remainder(total=int(areas.sum()), percents=percents))
    order = rng.permutation(n)
    mid = np.cumsum(areas[order]) - areas[order] / 2.0
    cut = np.searchsorted(np.cumsum(targets)[:-1], mid, side="right")
    comp = np.empty(n, dtype=np.int64)
    comp[order] = cut
    got = np.bincount(comp, weights=areas, minlength=k).astype(np.int64)
    for _ in range(8 * k + 16):
        over, under, want = _worst_pair(got, targets)
        if want <= 0:
            break
        cand = np.flatnonzero((comp == over) & (areas > 0) & (areas < 2 * want))
        if cand.size == 0:
            break
        # The granule whose area best matches the gap; moving it can only shrink both errors.
        best = cand[np.argmin(np.abs(areas[cand] - want))]
        comp[best] = under
        got[over] -= areas[best]
        got[under] += areas[best]
    # With few granules (a thumbnail has ~200) the leftover can still be a sizeable part
    # of one: swapping a granule of the over-served colour for a slightly smaller one of
    # the under-served colour moves just their difference.
    for _ in range(4 * k + 8):
        over, under, want = _worst_pair(got, targets)
        if want <= 0:
            break
        give = np.flatnonzero((comp == over) & (areas > 0))
        take = np.flatnonzero(comp == under)
        if give.size == 0 or take.size == 0:
            break
        moved = areas[give][:, None] - areas[take][None, :]
        gap = np.where((moved > 0) & (moved < 2 * want), np.abs(moved - want), np.inf)
        if not np.isfinite(gap).any():
            break
        i, j = np.unravel_index(int(np.argmin(gap)), gap.shape)
        comp[give[i]], comp[take[j]] = under, over
        got[over] -= moved[i, j]
        got[under] += moved[i, j]
    return comp


def _worst_pair(got: NDArray[np.int64], targets: NDArray[np.int64]) -> tuple[int, int, int]:
    """(most over-served component, most under-served one, the area that would even them)."""
    diff = got - targets
    over = int(np.argmax(diff))
    under = int(np.argmin(diff))
    return over, under, int(min(diff[over], -diff[under]))
