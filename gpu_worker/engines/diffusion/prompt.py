"""The prompt for a tile: one builder, from the canonical recipe's own percents.

A model template (a profile's, or a job's `options.prompt`) places the parts: the colours
with their shares, the model's trigger tokens (its textual inversions' words), the granule
size and the view. The default suits SDXL base.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from functools import cache

from gpu_worker.contract import RenderSpec

_VIEW = {
    "top": "top view, straight down",
    "perspective": "three-quarter view showing the tile's edge",
}
PLACEHOLDERS = ("colours", "tokens", "granules", "view")
DEFAULT_TEMPLATE = (
    "{colours} {tokens} rubber crumb granules, EPDM tile, {granules} granules, {view}, "
    "product photo, soft light, white background"
)


class TemplateError(ValueError):
    """A prompt template that cannot be filled; the message says why."""


def template_check(template: str) -> str:
    """The template if it names only PLACEHOLDERS, each plainly, and {colours} among them."""
    try:
        fields = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise TemplateError(f"{exc} (write {{{{ and }}}} for literal braces)") from exc
    names = set()
    for _text, name, spec, conversion in fields:
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            allowed = ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
            raise TemplateError(f"{{{name}}} is not a placeholder; use {allowed}")
        names.add(name)
    if "colours" not in names:
        raise TemplateError("it must place {colours}: the recipe is what is drawn")
    return template


@cache
def _colour_words() -> dict[str, str]:
    """Stock codes in words a text encoder knows ("GRNAPL" -> "green apple")."""
    from catalog.palette import stock_palette

    return {c["code"]: c["name_en"].lower() for c in stock_palette()}


def tile_prompt(
    spec: RenderSpec, *, template: str = DEFAULT_TEMPLATE, tokens: Sequence[str] = ()
) -> str:
    """What to draw: each colour with its share, largest first, then the rest as the
    template says.

    The shares are the recipe's percents as stored, never recomputed; and they come first
    in the default template: a text encoder reads 77 tokens and drops the rest, so what
    must not be lost comes first.
    """
    parts = sorted(spec.recipe.components, key=lambda c: (-c.percent, c.code))
    words = _colour_words()
    colours = ", ".join(f"{c.percent}% {words.get(c.code, c.code.lower())}" for c in parts)
    filled = template.format(
        colours=colours,
        tokens=" ".join(tokens),
        granules=spec.tile.granule_size,
        view=_VIEW.get(spec.params.view, spec.params.view),
    )
    return re.sub(r" {2,}", " ", filled).strip()
