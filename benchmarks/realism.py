"""How far renders are from photographs: a classifier two-sample test and distribution gaps.

Used by bench_realism.py. A classifier is trained to tell small patches of one set of
pictures from patches of another and scored on pictures it never saw (leave-images-out):
0.5 means it cannot tell them apart, 1.0 that every patch gives itself away. Each picture's
Lab channels are standardised first, so that a photo session's white balance and exposure
give nothing away: what is left to tell is texture (edges, facets, crevices, grain) and the
arrangement of colour.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

PATCH_PX = 32  # after shrinking: a patch spans about 4-5 granules of the photos
SHRINK = 2  # both sides are shrunk the same way before patches are cut
RANDOM_FILTERS = 24
RANDOM_FILTER_PX = 5


def lab_of(image: NDArray[np.uint8]) -> NDArray[np.float32]:
    """CIELAB (L* 0..100) of an sRGB uint8 picture."""
    scaled = image.astype(np.float32) / np.float32(255.0)
    return cv2.cvtColor(scaled, cv2.COLOR_RGB2LAB).astype(np.float32, copy=False)


def standardised(image: NDArray[np.uint8]) -> NDArray[np.float32]:
    """The picture shrunk by SHRINK, in Lab, each channel at zero mean and unit spread."""
    h, w = image.shape[:2]
    small = cv2.resize(image, (w // SHRINK, h // SHRINK), interpolation=cv2.INTER_AREA).astype(
        np.uint8, copy=False
    )
    lab = lab_of(small)
    mean = lab.reshape(-1, 3).mean(axis=0)
    std = lab.reshape(-1, 3).std(axis=0) + 1e-6
    return ((lab - mean) / std).astype(np.float32)


def patches(picture: NDArray[np.float32]) -> NDArray[np.float32]:
    """Non-overlapping PATCH_PX squares of a standardised picture, (n, P, P, 3)."""
    h, w = picture.shape[:2]
    rows, cols = h // PATCH_PX, w // PATCH_PX
    cut = picture[: rows * PATCH_PX, : cols * PATCH_PX]
    return (
        cut.reshape(rows, PATCH_PX, cols, PATCH_PX, 3)
        .swapaxes(1, 2)
        .reshape(rows * cols, PATCH_PX, PATCH_PX, 3)
    )


def _colour_features(p: NDArray[np.float32]) -> list[float]:
    flat = p.reshape(-1, 3)
    out: list[float] = []
    for c in range(3):
        v = flat[:, c]
        out += [float(v.mean()), float(v.std()), *map(float, np.percentile(v, [5, 25, 50, 75, 95]))]
    out += [
        float(np.corrcoef(flat[:, 0], flat[:, c])[0, 1]) if flat[:, c].std() > 0 else 0.0
        for c in (1, 2)
    ]
    return out


def _texture_features(lightness: NDArray[np.float32]) -> list[float]:
    gx = cv2.Sobel(lightness, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(lightness, cv2.CV_32F, 0, 1, ksize=3)
    mag = np.hypot(gx, gy)
    lap = np.abs(cv2.Laplacian(lightness, cv2.CV_32F, ksize=3))
    angle = np.arctan2(gy, gx)
    hist, _ = np.histogram(angle, bins=8, range=(-np.pi, np.pi), weights=mag)
    hist = hist / (hist.sum() + 1e-6)
    out = [
        float(mag.mean()),
        float(mag.std()),
        *map(float, np.percentile(mag, [50, 90, 99])),
        float(lap.mean()),
        float(lap.std()),
        float((lightness < -1.5).mean()),  # crevices: far darker than the picture's mean
        float((lightness > 1.5).mean()),  # sheen: far brighter
        *map(float, hist),
    ]
    centred = lightness - lightness.mean()
    var = float((centred * centred).mean()) + 1e-6
    for lag in (1, 2, 4, 8):  # how fast the texture decorrelates: granule and edge scale
        out.append(float((centred[:, lag:] * centred[:, :-lag]).mean()) / var)
        out.append(float((centred[lag:] * centred[:-lag]).mean()) / var)
    return out


def handmade_features(batch: NDArray[np.float32]) -> NDArray[np.float64]:
    """Colour, gradient and texture statistics per patch."""
    return np.array(
        [_colour_features(p) + _texture_features(np.ascontiguousarray(p[..., 0])) for p in batch]
    )


def random_filter_features(batch: NDArray[np.float32], seed: int = 0) -> NDArray[np.float64]:
    """A one-layer convolutional net with fixed random filters: ReLU, then mean and max pool.

    Random convolutional features see local shape (facets, edges, crevice widths) that the
    hand-made statistics summarise away; a trained CNN would see more.
    """
    rng = np.random.default_rng(seed)
    k = RANDOM_FILTER_PX
    filters = rng.normal(size=(RANDOM_FILTERS, k, k, 3)).astype(np.float32)
    filters -= filters.mean(axis=(1, 2, 3), keepdims=True)
    out = np.empty((len(batch), 2 * RANDOM_FILTERS))
    for i, p in enumerate(batch):
        for f in range(RANDOM_FILTERS):
            resp = np.zeros(p.shape[:2], np.float32)
            for c in range(3):
                resp += cv2.filter2D(
                    np.ascontiguousarray(p[..., c]), cv2.CV_32F, filters[f, ..., c]
                )
            act = np.maximum(resp[k // 2 : -(k // 2), k // 2 : -(k // 2)], 0.0)
            out[i, f] = act.mean()
            out[i, RANDOM_FILTERS + f] = act.max()
    return out


def _logistic_fit(
    x: NDArray[np.float64], y: NDArray[np.float64], l2: float = 1e-2, steps: int = 400
) -> NDArray[np.float64]:
    """L2-regularised logistic regression by Newton steps (x already has a bias column)."""
    w = np.zeros(x.shape[1])
    for _ in range(min(steps, 50)):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -30, 30)))
        grad = x.T @ (p - y) / len(y) + l2 * w
        hess = (x.T * (p * (1 - p))) @ x / len(y) + l2 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-6:
            break
    return w


@dataclass(frozen=True, slots=True)
class TwoSampleResult:
    accuracy: float  # held-out patch accuracy; 0.5: the two sets cannot be told apart
    patches: int
    folds: int


def c2st(
    features: Sequence[NDArray[np.float64]],
    labels: Sequence[int],
    groups: Sequence[int],
) -> TwoSampleResult:
    """Classifier two-sample test, leave-groups-out.

    `features[i]` are the patch features of picture i, `labels[i]` its side (0 or 1) and
    `groups[i]` its fold: all pictures of one group are held out together (a photo with the
    render of the same recipe), so no picture is ever scored by a model that saw it.
    """
    right = total = 0
    unique = sorted(set(groups))
    for held in unique:
        train = [i for i, g in enumerate(groups) if g != held]
        test = [i for i, g in enumerate(groups) if g == held]
        xtr = np.concatenate([features[i] for i in train])
        ytr = np.concatenate([np.full(len(features[i]), labels[i], float) for i in train])
        mean, std = xtr.mean(axis=0), xtr.std(axis=0) + 1e-9
        design = np.column_stack([(xtr - mean) / std, np.ones(len(xtr))])
        w = _logistic_fit(design, ytr)
        for i in test:
            xte = np.column_stack([(features[i] - mean) / std, np.ones(len(features[i]))])
            guess = (xte @ w) > 0
            right += int((guess == bool(labels[i])).sum())
            total += len(features[i])
    return TwoSampleResult(accuracy=right / max(total, 1), patches=total, folds=len(unique))


def lab_distance(a: NDArray[np.uint8], b: NDArray[np.uint8]) -> float:
    """Mean over L*, a*, b* of the 1-D Wasserstein distance between two pictures' pixels."""
    la, lb = lab_of(a).reshape(-1, 3), lab_of(b).reshape(-1, 3)
    q = np.linspace(0.005, 0.995, 199)
    return float(
        np.mean(
            [np.abs(np.quantile(la[:, c], q) - np.quantile(lb[:, c], q)).mean() for c in range(3)]
        )
    )


def granule_diameters(
    image: NDArray[np.uint8], cand_lab: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Equivalent diameters (px) of the granule cores the analyzer finds in a tile crop."""
    from gpu_worker.colour.segmentation import LOG_LUMA, granules_find

    luma = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    ln = cv2.LUT(luma, LOG_LUMA).astype(np.float32, copy=False)
    interior = np.ones(luma.shape, bool)
    found = granules_find(image, interior, ln, cand_lab, split_lookalikes=True)
    area = found.area[1:]
    area = area[area >= 9]  # a few px is a speck of a border, not a granule
    return np.sqrt(4.0 * area / np.pi)
