"""Colour correction of a diffusion picture back to the procedural render it started from."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from gpu_worker.colour.convert import LINEAR16_TO_SRGB8
from gpu_worker.colour.segmentation import LIN32

CORRECTION_PASSES = 3


def chip_colour_transfer(
    image: NDArray[np.uint8], base: NDArray[np.uint8], labels: NDArray[np.int32]
) -> NDArray[np.uint8]:
    """`image` with each chip's mean colour set to the base render's, texture kept.

    `labels` names the chip of every pixel (0: off the tile, which is matched too, as the
    background). Per chip and channel, in linear light, one gain: the diffusion picture's
    shading, grain and edges inside a chip stay as it drew them, while the chip's colour,
    and so every colour's share of the tile, is the procedural render's, which is exact by
    construction.
    """
    if image.shape != base.shape or labels.shape != image.shape[:2]:
        raise ValueError("image, base and labels must be the same size")
    flat = labels.ravel().astype(np.intp)
    n = int(flat.max()) + 1
    count = np.maximum(np.bincount(flat, minlength=n), 1).astype(np.float64)

    def means(pixels: NDArray[np.float32]) -> NDArray[np.float64]:
        return np.stack(
            [np.bincount(flat, weights=pixels[:, c], minlength=n) / count for c in range(3)], 1
        )

    out = LIN32[image.reshape(-1, 3)]
    target = means(LIN32[base.reshape(-1, 3)])
    # A second pass makes up what the first lost where bright pixels clipped at white.
    for _ in range(CORRECTION_PASSES):
        gains = (target / np.maximum(means(out), 1e-4)).astype(np.float32)
        out = np.clip(out * gains[flat], 0.0, 1.0)
    corrected: NDArray[np.uint8] = LINEAR16_TO_SRGB8[np.rint(out * 65535.0).astype(np.intp)]
    return corrected.reshape(image.shape)
