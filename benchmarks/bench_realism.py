"""Do renders pass for photographs? The procedural engine against ../shared/photos/.

Run: .venv/bin/python benchmarks/bench_realism.py [--photos DIR] [--sheet FILE.jpg] [--json]
The hybrid engine's renders instead (on a GPU worker host, with a real model):
     ... --engine hybrid --options '{"model": "/models/sdxl-base", "steps": 25}'

For each mix photo it renders the same recipe at the photo's scale (a 200 mm square of
medium granules spanning as many pixels as the photo's tile) and compares the middle of
the tile face, render against photo:
- C2ST: a classifier two-sample test on patches (see realism.py), with hand-made colour,
  gradient and texture features, with random convolutional features, and with a small
  trained CNN where torch is installed (cnn_c2st.py); leave-images-out;
  0.5 means indistinguishable. Beside it, the same test between two halves of the photo
  set (real against real), which is what indistinguishable looks like here;
- the distance between the Lab pixel distributions (1-D Wasserstein, mean of L*, a*, b*);
- the granule size distribution (median and quartiles of the analyzer's granule cores).
The photos are a development set; do not tune constants to single files.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from cnn_c2st import cnn_c2st, torch_missing  # noqa: E402  (beside this script)
from machine import cpu_model  # noqa: E402
from numpy.typing import NDArray  # noqa: E402
from realism import (  # noqa: E402  (beside this script)
    c2st,
    granule_diameters,
    handmade_features,
    lab_distance,
    patches,
    random_filter_features,
    standardised,
)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from catalog.geometry import TileGeometry  # noqa: E402
from catalog.palette import stock_palette, stock_palette_colors  # noqa: E402
from catalog.recipes import ColorName, Recipe, recipe_parse  # noqa: E402
from gpu_worker.colour.measure import fidelity_measure  # noqa: E402
from gpu_worker.contract import RenderSpec  # noqa: E402
from gpu_worker.engines.registry import engine_get, engine_version  # noqa: E402
from gpu_worker.imageio import image_decode, thumbnail_webp  # noqa: E402
from gpu_worker.params import RenderParams  # noqa: E402

cv2.setNumThreads(1)

PHOTOS = ROOT.parent / "shared" / "photos"
# The photos' scale (see their README): a 200 mm square of medium granules.
PHOTO_TILE = TileGeometry(
    shape="square", width_mm=200, height_mm=200, thickness_mm=30, granule_size="medium"
)
CAMERA_MARGIN = 0.09  # the top view leaves this fraction of the picture on each side
FACE_CROP = 0.6  # the middle of the tile face that is compared (no edges, no background)


@dataclass(frozen=True, slots=True)
class Pair:
    name: str
    recipe: Recipe
    photo: NDArray[np.uint8]  # the middle of the photo's tile face
    render: NDArray[np.uint8]  # the same crop of the render
    thumbnail_error_pp: float  # analyze_colors on the job's WebP thumbnail, told the recipe
    appearance_render: float | None  # ΔE2000 of the whole top face from the recipe mix
    appearance_photo: float | None


def recipe_of_name(stem: str) -> Recipe | None:
    """'REDp30_BLUEp70_top' -> RED:30,BLUE:70 through the one recipe parser; None if single."""
    parts = re.findall(r"([A-Z]+)p(\d+)", stem)
    if not parts:
        return None
    names = [ColorName(code=c["code"]) for c in stock_palette()]
    return recipe_parse(value=[{"color": c, "percent": int(p)} for c, p in parts], colors=names)


def _tile_box(image: NDArray[np.uint8]) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of the tile on the white background."""
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    mask = cv2.morphologyEx((grey < 200).view(np.uint8), cv2.MORPH_OPEN, np.ones((9, 9), np.uint8))
    ys, xs = np.nonzero(mask)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def _face_crop(image: NDArray[np.uint8], box: tuple[int, int, int, int]) -> NDArray[np.uint8]:
    x0, y0, x1, y1 = box
    side = int(min(x1 - x0, y1 - y0) * FACE_CROP)
    cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
    return np.ascontiguousarray(
        image[cy - side // 2 : cy + side // 2, cx - side // 2 : cx + side // 2]
    )


@dataclass(frozen=True, slots=True)
class Renderer:
    """Which engine draws the renders (hybrid with a real model: is it more photographic
    than the procedural engine while keeping the colours?)."""

    engine: str = "procedural"
    options: dict[str, Any] = field(default_factory=dict)
    max_size: int = 2048


def _render(
    recipe: Recipe, span_px: int, seed: int, renderer: Renderer
) -> tuple[NDArray[np.uint8], float | None, NDArray[np.uint8]]:
    """The render at the photo's scale, its own appearance ΔE2000, and its thumbnail."""
    size = int(np.clip(round(span_px / (1.0 - 2.0 * CAMERA_MARGIN)), 256, renderer.max_size))
    spec = RenderSpec(
        tile=PHOTO_TILE,
        recipe=recipe,
        palette=stock_palette_colors(),
        params=RenderParams(
            engine=renderer.engine, size=size, seed=seed, options=dict(renderer.options)
        ),
    )
    result = engine_get(renderer.engine).render(spec)
    # The job's thumbnail is what the engine drew for it, else the picture shrunk.
    thumbnail = result.image if result.thumbnail is None else result.thumbnail
    return result.image, result.fidelity.appearance_delta_e00, thumbnail


def _thumbnail_error(thumbnail: NDArray[np.uint8], recipe: Recipe) -> float:
    """The largest share error analyze_colors finds on the job's WebP thumbnail."""
    small = image_decode(thumbnail_webp(thumbnail))
    found = fidelity_measure(image=small, palette=stock_palette_colors(), recipe=recipe.components)
    return float(found.max_share_error_pp or 0.0)


def load_pairs(folder: Path, renderer: Renderer | None = None, limit: int = 0) -> list[Pair]:
    renderer = renderer or Renderer()
    pairs: list[Pair] = []
    for index, path in enumerate(sorted(folder.glob("*_top.jpg"))):
        if limit and len(pairs) >= limit:
            break
        recipe = recipe_of_name(path.stem)
        if recipe is None:
            continue
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise SystemExit(f"cannot read {path}")
        photo: NDArray[np.uint8] = np.ascontiguousarray(bgr[..., ::-1], dtype=np.uint8)
        box = _tile_box(photo)
        render, appearance, thumbnail = _render(
            recipe, span_px=min(box[2] - box[0], box[3] - box[1]), seed=index, renderer=renderer
        )
        measured = fidelity_measure(
            image=photo, palette=stock_palette_colors(), recipe=recipe.components
        )
        pairs.append(
            Pair(
                name=path.stem.removesuffix("_top"),
                recipe=recipe,
                photo=_face_crop(photo, box),
                render=_face_crop(render, _tile_box(render)),
                thumbnail_error_pp=_thumbnail_error(thumbnail, recipe),
                appearance_render=appearance,
                appearance_photo=measured.appearance_delta_e00,
            )
        )
    return pairs


def _two_sample(sides: list[tuple[NDArray[np.uint8], int, int]]) -> dict[str, float]:
    """C2ST accuracy for (picture, label, group) triples, by feature set."""
    cut = [patches(standardised(picture)) for picture, _, _ in sides]
    labels = [label for _, label, _ in sides]
    groups = [group for _, _, group in sides]
    handmade = [handmade_features(p) for p in cut]
    conv = [random_filter_features(p) for p in cut]
    both = [np.hstack([h, c]) for h, c in zip(handmade, conv, strict=True)]
    result = {
        "handmade": c2st(handmade, labels, groups).accuracy,
        "random_conv": c2st(conv, labels, groups).accuracy,
        "both": c2st(both, labels, groups).accuracy,
    }
    if torch_missing() is None:
        result["cnn"] = cnn_c2st(cut, labels, groups)
    return result


def _size_stats(diameters: NDArray[np.float64]) -> dict[str, float]:
    q1, median, q3 = np.percentile(diameters, [25, 50, 75]) if len(diameters) else (0, 0, 0)
    return {"median_px": float(median), "q1_px": float(q1), "q3_px": float(q3)}


def _halves(picture: NDArray[np.uint8]) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    middle = picture.shape[1] // 2
    return np.ascontiguousarray(picture[:, :middle]), np.ascontiguousarray(picture[:, middle:])


def measure(pairs: list[Pair]) -> dict[str, object]:
    """Render against photo, and beside it photo against photo (the null: what
    indistinguishable looks like with these pictures and this much data)."""
    render_vs_photo = _two_sample(
        [(p.render, 1, i) for i, p in enumerate(pairs)]
        + [(p.photo, 0, i) for i, p in enumerate(pairs)]
    )
    # Real against real: the left halves of the photos against their right halves. Both
    # sides hold every recipe, so only a difference in look could tell them apart.
    halves = [_halves(p.photo) for p in pairs]
    photo_vs_photo = _two_sample(
        [(left, 0, i) for i, (left, _) in enumerate(halves)]
        + [(right, 1, i) for i, (_, right) in enumerate(halves)]
    )
    palette = {c.code: c for c in stock_palette_colors()}
    per_recipe = []
    for p, (left, right) in zip(pairs, halves, strict=True):
        cand = np.array([palette[c.code].lab for c in p.recipe.components])
        per_recipe.append(
            {
                "recipe": p.recipe.canonical,
                "lab_distance_render_photo": lab_distance(p.render, p.photo),
                "lab_distance_photo_halves": lab_distance(left, right),
                "granules_render": _size_stats(granule_diameters(p.render, cand)),
                "granules_photo": _size_stats(granule_diameters(p.photo, cand)),
                "thumbnail_error_pp": p.thumbnail_error_pp,
                "appearance_render": p.appearance_render,
                "appearance_photo": p.appearance_photo,
            }
        )
    return {
        "c2st_render_vs_photo": render_vs_photo,
        "c2st_photo_vs_photo": photo_vs_photo,
        "lab_distance_render_photo_median": float(
            np.median([r["lab_distance_render_photo"] for r in per_recipe])
        ),
        "lab_distance_photo_halves_median": float(
            np.median([r["lab_distance_photo_halves"] for r in per_recipe])
        ),
        "per_recipe": per_recipe,
    }


def sheet(pairs: list[Pair], out: Path, cell_px: int = 200, columns: int = 3) -> None:
    """Render | photo for each recipe, the same crop at the same scale, as one JPEG."""
    rows = -(-len(pairs) // columns)
    label_px = 18
    canvas = np.full((rows * (cell_px + label_px), columns * (2 * cell_px + 8), 3), 255, np.uint8)
    for i, p in enumerate(pairs):
        r, c = divmod(i, columns)
        y = r * (cell_px + label_px) + label_px
        x = c * (2 * cell_px + 8)
        side = cell_px * 2  # the crops are shown at half the photo's pixels: 2x2 px to 1
        for j, picture in enumerate((p.render, p.photo)):
            crop = picture[:side, :side]
            canvas[y : y + cell_px, x + j * cell_px : x + (j + 1) * cell_px] = cv2.resize(
                crop, (cell_px, cell_px), interpolation=cv2.INTER_AREA
            )
        cv2.putText(
            canvas,
            f"{p.recipe.canonical}  (render | photo)",
            (x + 2, y - 5),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.4,
            (0, 0, 0),
            1,
            cv2.LINE_AA,
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), canvas[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 85])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=Path, default=PHOTOS)
    parser.add_argument("--sheet", type=Path, default=None, help="write render|photo sheet")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--engine", default="procedural", choices=["procedural", "hybrid"])
    parser.add_argument(
        "--options", default="{}", help='the engine\'s options as JSON: {"model": DIR, ...}'
    )
    parser.add_argument("--max-size", type=int, default=2048, help="largest render, px")
    parser.add_argument("--limit", type=int, default=0, help="only the first N photos")
    args = parser.parse_args()
    renderer = Renderer(
        engine=args.engine, options=json.loads(args.options), max_size=args.max_size
    )
    if not args.photos.is_dir():
        print(f"skipped: no photos at {args.photos} (see ../shared/photos/README.md)")
        return
    started = time.perf_counter()
    pairs = load_pairs(args.photos, renderer, limit=args.limit)
    if not pairs:
        print(f"skipped: no mix photos (NAMEpNN_..._top.jpg) in {args.photos}")
        return
    if args.sheet:
        sheet(pairs, args.sheet)
    result = measure(pairs)
    result["engine"] = f"{args.engine} {engine_version(args.engine)}"
    if args.options != "{}":
        result["options"] = renderer.options
    result["machine"] = cpu_model()
    result["seconds"] = round(time.perf_counter() - started, 1)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    rvp, pvp = result["c2st_render_vs_photo"], result["c2st_photo_vs_photo"]
    assert isinstance(rvp, dict) and isinstance(pvp, dict)
    print(f"{len(pairs)} mix photos; {result['engine']}; {result['machine']}")
    print(f"{'C2ST accuracy (0.5 = indistinguishable)':<44}{'render/photo':>14}{'photo/photo':>13}")
    for key in ("handmade", "random_conv", "both"):
        print(f"{'  features: ' + key:<44}{rvp[key]:>14.3f}{pvp[key]:>13.3f}")
    if "cnn" in rvp:
        print(f"{'  a small trained CNN':<44}{rvp['cnn']:>14.3f}{pvp['cnn']:>13.3f}")
    else:
        print(f"  a small trained CNN: skipped, {torch_missing()}")
    print(
        f"{'Lab distribution distance, median':<44}"
        f"{result['lab_distance_render_photo_median']:>14.2f}"
        f"{result['lab_distance_photo_halves_median']:>13.2f}"
    )
    per = result["per_recipe"]
    assert isinstance(per, list)
    render_sizes = [r["granules_render"]["median_px"] for r in per]
    photo_sizes = [r["granules_photo"]["median_px"] for r in per]
    print(
        f"{'granule core diameter, median px (render; photo)':<44}"
        f"{np.median(render_sizes):>14.1f}{np.median(photo_sizes):>13.1f}"
    )
    looks = [(r["appearance_render"], r["appearance_photo"]) for r in per]
    print(
        f"{'whole face vs recipe mix, ΔE2000 median (render; photo)':<44}"
        f"{np.median([a for a, _ in looks if a is not None]):>14.2f}"
        f"{np.median([b for _, b in looks if b is not None]):>13.2f}"
    )
    thumbs = [r["thumbnail_error_pp"] for r in per]
    median, worst = f"median {np.median(thumbs):.1f}", f"max {max(thumbs):.1f}"
    print(f"{'job thumbnail (WebP 256 px) share error, pp':<44}{median:>14}{worst:>13}")


if __name__ == "__main__":
    main()
