import numpy as np
import pytest
from _gw_support import recipes
from hypothesis import given, settings
from hypothesis import strategies as st

from gpu_worker.colour.apportion import colours_for_areas, largest_remainder


@settings(max_examples=200, deadline=None)
@given(recipes(), st.integers(0, 10**7))
def test_largest_remainder_exact(percents, total):
    parts = largest_remainder(total=total, percents=percents)
    assert sum(parts) == total
    for part, p in zip(parts, percents, strict=True):
        assert abs(part - total * p / 100) < 1


@pytest.mark.parametrize("bad", [[60, 39], [60, 41], [0, 100], [50.5, 49.5]])
def test_largest_remainder_rejects_bad_percents(bad):
    with pytest.raises(ValueError, match="percents"):
        largest_remainder(total=100, percents=bad)


@settings(max_examples=60, deadline=None)
@given(recipes(), st.integers(0, 2**32 - 1))
def test_colours_for_areas_hits_targets(percents, seed):
    rng = np.random.default_rng(seed)
    areas = rng.integers(5, 60, size=1500)
    comp = colours_for_areas(areas=areas, percents=percents, rng=rng)
    got = np.bincount(comp, weights=areas, minlength=len(percents)) / areas.sum() * 100
    assert np.abs(got - percents).max() <= 0.5


@pytest.mark.parametrize("seed", range(5))
def test_few_large_granules_still_hit_targets_to_a_few_pixels(seed):
    # A thumbnail's swatch: ~200 granules of 40-120 px. Whole-granule moves leave up to
    # half a granule over or under; swaps of two granules close it to a few pixels.
    rng = np.random.default_rng(seed)
    areas = rng.integers(40, 120, size=200)
    percents = [37, 29, 17, 11, 6]
    comp = colours_for_areas(areas=areas, percents=percents, rng=rng)
    got = np.bincount(comp, weights=areas, minlength=len(percents))
    targets = largest_remainder(total=int(areas.sum()), percents=percents)
    assert np.abs(got - targets).max() <= 3, (got, targets)
