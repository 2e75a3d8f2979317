"""CIEDE2000 colour difference (Sharma, Wu and Dalal 2005), vectorised."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def delta_e00(
    lab1: ArrayLike, lab2: ArrayLike, *, kl: float = 1.0, kc: float = 1.0, kh: float = 1.0
) -> NDArray[np.float64]:
    """CIEDE2000 between Lab arrays of shape (..., 3); broadcasts like numpy."""
    a = np.asarray(lab1, dtype=np.float64)
    b = np.asarray(lab2, dtype=np.float64)
    l1, a1, b1 = a[..., 0], a[..., 1], a[..., 2]
    l2, a2, b2 = b[..., 0], b[..., 1], b[..., 2]

    c1 = np.hypot(a1, b1)
    c2 = np.hypot(a2, b2)
    c_bar7 = ((c1 + c2) / 2.0) ** 7
    g = 0.5 * (1.0 - np.sqrt(c_bar7 / (c_bar7 + 25.0**7)))
    a1p = (1.0 + g) * a1
    a2p = (1.0 + g) * a2
    c1p = np.hypot(a1p, b1)
    c2p = np.hypot(a2p, b2)
    # atan2(0, 0) is 0 in numpy, which is the convention the formula asks for.
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360.0
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360.0

    dlp = l2 - l1
    dcp = c2p - c1p
    chroma_zero = (c1p * c2p) == 0.0
    dh = h2p - h1p
    dh = np.where(dh > 180.0, dh - 360.0, np.where(dh < -180.0, dh + 360.0, dh))
    dh = np.where(chroma_zero, 0.0, dh)
    dhp = 2.0 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh) / 2.0)

    lbp = (l1 + l2) / 2.0
    cbp = (c1p + c2p) / 2.0
    hsum = h1p + h2p
    far = np.abs(h1p - h2p) > 180.0
    hbp = np.where(
        far, np.where(hsum < 360.0, (hsum + 360.0) / 2.0, (hsum - 360.0) / 2.0), hsum / 2.0
    )
    hbp = np.where(chroma_zero, hsum, hbp)

    t = (
        1.0
        - 0.17 * np.cos(np.radians(hbp - 30.0))
        + 0.24 * np.cos(np.radians(2.0 * hbp))
        + 0.32 * np.cos(np.radians(3.0 * hbp + 6.0))
        - 0.20 * np.cos(np.radians(4.0 * hbp - 63.0))
    )
    d_theta = 30.0 * np.exp(-(((hbp - 275.0) / 25.0) ** 2))
    cbp7 = cbp**7
    rc = 2.0 * np.sqrt(cbp7 / (cbp7 + 25.0**7))
    sl = 1.0 + 0.015 * (lbp - 50.0) ** 2 / np.sqrt(20.0 + (lbp - 50.0) ** 2)
    sc = 1.0 + 0.045 * cbp
    sh = 1.0 + 0.015 * cbp * t
    rt = -np.sin(np.radians(2.0 * d_theta)) * rc

    tl = dlp / (kl * sl)
    tc = dcp / (kc * sc)
    th = dhp / (kh * sh)
    return np.sqrt(tl**2 + tc**2 + th**2 + rt * tc * th)


def distinct_codes(labs: dict[str, ArrayLike], min_de: float) -> tuple[str, ...]:
    """Codes, in the given order, each at least `min_de` ΔE2000 from every one kept before.

    The colours no one would confuse granule by granule under any light (the shop's mixes
    are chosen that way): what a picture alone can be asked to tell apart.
    """
    kept: list[str] = []
    for code, lab in labs.items():
        if all(float(delta_e00(lab, labs[k])) >= min_de for k in kept):
            kept.append(code)
    return tuple(kept)
