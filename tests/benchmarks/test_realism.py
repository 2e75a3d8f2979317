"""The realism benchmark's two-sample test says 0.5 for one source and 1.0 for two."""

from __future__ import annotations

import numpy as np
from realism import c2st, handmade_features, patches, standardised


def _texture(seed: int, *, blocky: bool) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if blocky:  # flat cells with hard edges
        small = rng.integers(0, 255, (24, 24, 3), dtype=np.uint8)
        return np.kron(small, np.ones((16, 16, 1), np.uint8))
    return rng.integers(0, 255, (384, 384, 3), dtype=np.uint8)  # fine noise


def _features(pictures: list[np.ndarray]) -> list[np.ndarray]:
    return [handmade_features(patches(standardised(p))) for p in pictures]


def test_pictures_from_one_source_cannot_be_told_apart():
    pictures = [_texture(seed, blocky=False) for seed in range(8)]
    result = c2st(_features(pictures), [i % 2 for i in range(8)], [i // 2 for i in range(8)])
    assert 0.3 <= result.accuracy <= 0.7
    assert result.folds == 4


def test_pictures_of_different_texture_are_told_apart():
    pictures = [_texture(seed, blocky=seed % 2 == 1) for seed in range(8)]
    result = c2st(_features(pictures), [i % 2 for i in range(8)], [i // 2 for i in range(8)])
    assert result.accuracy >= 0.95
