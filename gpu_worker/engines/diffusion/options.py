"""The diffusion engine's options (RenderParams.options), checked before any work.

Plain Python: the options are checked the same way wherever they arrive, and a bad one is
named with what is wrong with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MODES = ("txt2img", "img2img")
# Denoising steps per quality preset (RenderParams.quality); `steps` overrides.
PRESET_STEPS = {"draft": 12, "standard": 25, "high": 40}
STEPS_RANGE = (1, 100)
STRENGTH_RANGE = (0.05, 1.0)
GUIDANCE_RANGE = (0.0, 20.0)
TEXT_MAX = 300  # characters of a negative prompt
MODEL_MAX = 500  # characters of a model reference


class OptionError(ValueError):
    """A bad diffusion option; the message names it."""


@dataclass(frozen=True, slots=True)
class DiffusionOptions:
    model: str
    mode: str = "txt2img"
    steps: int | None = None
    strength: float = 0.6
    guidance: float = 5.0
    negative_prompt: str = ""

    def steps_for(self, quality: str) -> int:
        return self.steps if self.steps is not None else PRESET_STEPS.get(quality, 25)


def _number(raw: Any, name: str, lo: float, hi: float, *, whole: bool) -> Any:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise OptionError(f"options.{name} must be a number")
    if whole and int(raw) != raw:
        raise OptionError(f"options.{name} must be a whole number")
    if not lo <= raw <= hi:
        raise OptionError(f"options.{name} must be {lo:g}..{hi:g}, got {raw:g}")
    return int(raw) if whole else float(raw)


def _text(raw: Any, name: str, limit: int) -> str:
    if not isinstance(raw, str):
        raise OptionError(f"options.{name} must be a string")
    if len(raw) > limit:
        raise OptionError(f"options.{name} is longer than {limit} characters")
    return raw


def diffusion_options_parse(options: Mapping[str, Any]) -> DiffusionOptions:
    known = {"model", "mode", "steps", "strength", "guidance", "negative_prompt"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise OptionError(f"options.{unknown[0]} is not a diffusion option")
    if "model" not in options:
        raise OptionError("options.model is required: a model folder")
    model = _text(options["model"], "model", MODEL_MAX).strip()
    if not model:
        raise OptionError("options.model is empty")
    mode = options.get("mode", "txt2img")
    if mode not in MODES:
        raise OptionError(f"options.mode must be one of {', '.join(MODES)}")
    steps = options.get("steps")
    return DiffusionOptions(
        model=model,
        mode=mode,
        steps=None if steps is None else _number(steps, "steps", *STEPS_RANGE, whole=True),
        strength=_number(options.get("strength", 0.6), "strength", *STRENGTH_RANGE, whole=False),
        guidance=_number(options.get("guidance", 5.0), "guidance", *GUIDANCE_RANGE, whole=False),
        negative_prompt=_text(options.get("negative_prompt", ""), "negative_prompt", TEXT_MAX),
    )
