"""A worker's share of its device's memory."""

import pytest

from gpu_worker.budget import (
    BudgetError,
    memory_budget_mb,
    memory_fraction,
    memory_fraction_setting,
)


@pytest.mark.parametrize(
    ("total_gib", "share"), [(141, 0.8), (40, 0.8), (24, 0.75), (16, 0.75), (12, 0.7)]
)
def test_the_default_share_follows_the_card(total_gib, share):
    assert memory_fraction(total_mb=total_gib * 1024, setting=None) == share


def test_a_setting_overrides_and_no_device_has_no_budget():
    assert memory_fraction(total_mb=80 * 1024, setting=0.5) == 0.5
    assert memory_budget_mb(total_mb=10_000, setting=0.6) == 6000.0
    assert memory_budget_mb(total_mb=None, setting=0.6) is None


@pytest.mark.parametrize(
    ("raw", "words"), [("0.9", "outside 0.5-0.8"), ("half", "not a number"), ("0.49", "outside")]
)
def test_an_unusable_setting_is_refused_naming_it(raw, words):
    with pytest.raises(BudgetError, match=words) as caught:
        memory_fraction_setting(raw)
    assert "PLITKA_GPU_MEMORY_FRACTION" in str(caught.value)


def test_unset_is_none():
    assert memory_fraction_setting(None) is None and memory_fraction_setting(" ") is None
    assert memory_fraction_setting("0.75") == 0.75
