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
