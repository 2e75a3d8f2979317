"""ControlNet conditioning images, computed with OpenCV from the procedural render.

The procedural render knows the tile's geometry exactly: its outline, its chips and their
facets. Each kind of edge map hands that geometry to the diffusion model differently:

- `canny`: Canny edges of the rendered picture (chips, facets and the outline);
- `softedge`: the picture's gradient magnitude, blurred (soft boundaries, HED-like);
- `lineart`: the chips' own outlines from the render's label map, one px wide: the
  geometry without any shading.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from ..procedural.engine import output_labels
from ..procedural.render import Layers
from ..procedural.shading import granule_boundaries

CANNY_THRESHOLDS = (60, 160)
SOFT_BLUR_PX = 1.2


def control_image(kind: str, layers: Layers, size: int) -> NDArray[np.uint8]:
    """The (size, size, 3) conditioning image of `kind` for a procedural render."""
    grey = cv2.cvtColor(layers.image, cv2.COLOR_RGB2GRAY)
    if kind == "canny":
        edges = cv2.Canny(grey, *CANNY_THRESHOLDS)
    elif kind == "softedge":
        gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
        magnitude = cv2.GaussianBlur(cv2.magnitude(gx, gy), (0, 0), SOFT_BLUR_PX)
        peak = max(float(magnitude.max()), 1e-6)
        edges = np.clip(magnitude * np.float32(255.0 / peak), 0, 255).astype(np.uint8)
    elif kind == "lineart":
        lines = granule_boundaries(output_labels(layers, size))
        edges = np.where(lines, 255, 0).astype(np.uint8)
    else:
        raise ValueError(f"unknown control type {kind!r}")
    out: NDArray[np.uint8] = np.ascontiguousarray(np.repeat(edges[..., None], 3, axis=2))
    return out
