"""The diffusion engine's options (RenderParams.options), checked before any work.

Plain Python: the options are checked the same way wherever they arrive, and a bad one is
named with what is wrong with it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gpu_worker.params import RenderParams

from .prompt import DEFAULT_TEMPLATE, TemplateError, template_check

MODES = ("txt2img", "img2img")
# Denoising steps per quality preset (RenderParams.quality); `steps` overrides.
PRESET_STEPS = {"draft": 12, "standard": 25, "high": 40}
STEPS_RANGE = (1, 100)
STRENGTH_RANGE = (0.05, 1.0)
GUIDANCE_RANGE = (0.0, 20.0)
TEXT_MAX = 300  # characters of a negative prompt
MODEL_MAX = 500  # characters of a model reference or a file path
ADAPTERS_MAX = 8  # textual inversions, and LoRAs, per job
TOKEN_MAX = 40  # characters of a textual-inversion token
LORA_SCALE_RANGE = (0.0, 2.0)
CONTROL_TYPES = ("canny", "softedge", "lineart")
CONTROL_SCALE_RANGE = (0.0, 2.0)
# Noise schedulers a job may pick; "default" keeps the one the model was saved with.
SCHEDULERS = ("default", "euler", "euler_a", "dpmpp_2m", "dpmpp_2m_karras", "ddim", "unipc")
# The weights' number type on the device; "auto" is float16 on a GPU, float32 on the CPU.
DTYPES = ("auto", "float16", "bfloat16", "float32")


class OptionError(ValueError):
    """A bad diffusion option; the message names it."""


@dataclass(frozen=True, slots=True)
class TextualInversion:
    path: str  # safetensors (or .bin) with `clip_l` and `clip_g` embeddings, SDXL's two
    token: str  # the word the prompt uses for it


@dataclass(frozen=True, slots=True)
class Lora:
    path: str  # a LoRA file or folder diffusers loads
    scale: float  # fused at this scale


@dataclass(frozen=True, slots=True)
class Control:
    type: str  # which edge map of the procedural render conditions it (CONTROL_TYPES)
    model: str  # the ControlNet's folder (diffusers layout)
    scale: float = 0.5  # conditioning scale
    start: float = 0.0  # the share of the steps it guides: from ...
    end: float = 1.0  # ... to


@dataclass(frozen=True, slots=True)
class DiffusionOptions:
    model: str
    mode: str = "txt2img"
    steps: int | None = None
    strength: float = 0.6
    guidance: float = 5.0
    negative_prompt: str = ""
    textual_inversions: tuple[TextualInversion, ...] = ()
    loras: tuple[Lora, ...] = ()
    controlnet: Control | None = None
    scheduler: str = "default"
    dtype: str = "auto"
    # Steps per quality preset for this model (a profile's own, e.g. a distilled model's
    # few steps); PRESET_STEPS where it names none.
    preset_steps: tuple[tuple[str, int], ...] = ()
    prompt: str = DEFAULT_TEMPLATE  # the model's prompt template (prompt.PLACEHOLDERS)

    def steps_for(self, quality: str) -> int:
        if self.steps is not None:
            return self.steps
        return dict(self.preset_steps).get(quality, PRESET_STEPS.get(quality, 25))


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


def _entries(raw: Any, name: str, keys: set[str]) -> list[Mapping[str, Any]]:
    if not isinstance(raw, list):
        raise OptionError(f"options.{name} must be a list")
    if len(raw) > ADAPTERS_MAX:
        raise OptionError(f"options.{name} has more than {ADAPTERS_MAX} entries")
    for i, entry in enumerate(raw):
        if not isinstance(entry, Mapping) or set(entry) != keys:
            wanted = " and ".join(sorted(keys))
            raise OptionError(f"options.{name}[{i}] must have exactly {wanted}")
    return raw


def _textual_inversions(raw: Any) -> tuple[TextualInversion, ...]:
    found = []
    for i, entry in enumerate(_entries(raw, "textual_inversions", {"path", "token"})):
        name = f"textual_inversions[{i}]"
        token = _text(entry["token"], f"{name}.token", TOKEN_MAX).strip()
        if not token or any(c.isspace() for c in token):
            raise OptionError(f"options.{name}.token must be one word")
        found.append(
            TextualInversion(path=_text(entry["path"], f"{name}.path", MODEL_MAX), token=token)
        )
    if len({t.token for t in found}) < len(found):
        raise OptionError("options.textual_inversions: each token once")
    return tuple(found)


def _loras(raw: Any) -> tuple[Lora, ...]:
    return tuple(
        Lora(
            path=_text(entry["path"], f"loras[{i}].path", MODEL_MAX),
            scale=_number(entry["scale"], f"loras[{i}].scale", *LORA_SCALE_RANGE, whole=False),
        )
        for i, entry in enumerate(_entries(raw, "loras", {"path", "scale"}))
    )


def _control(raw: Any) -> Control | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise OptionError("options.controlnet must be an object (or null for none)")
    unknown = sorted(set(raw) - {"type", "model", "scale", "start", "end"})
    if unknown:
        raise OptionError(f"options.controlnet.{unknown[0]} is not a ControlNet option")
    kind = raw.get("type")
    if kind not in CONTROL_TYPES:
        raise OptionError(f"options.controlnet.type must be one of {', '.join(CONTROL_TYPES)}")
    if "model" not in raw:
        raise OptionError("options.controlnet.model is required: a ControlNet folder")
    control = Control(
        type=kind,
        model=_text(raw["model"], "controlnet.model", MODEL_MAX),
        scale=_number(raw.get("scale", 0.5), "controlnet.scale", *CONTROL_SCALE_RANGE, whole=False),
        start=_number(raw.get("start", 0.0), "controlnet.start", 0.0, 1.0, whole=False),
        end=_number(raw.get("end", 1.0), "controlnet.end", 0.0, 1.0, whole=False),
    )
    if control.start >= control.end:
        raise OptionError("options.controlnet.start must be before its end")
    return control


def _choice(raw: Any, name: str, choices: tuple[str, ...]) -> str:
    if raw not in choices:
        raise OptionError(f"options.{name} must be one of {', '.join(choices)}")
    return str(raw)


def _template(raw: Any) -> str:
    try:
        return template_check(_text(raw, "prompt", TEXT_MAX))
    except TemplateError as exc:
        raise OptionError(f"options.prompt: {exc}") from exc


def _preset_steps(raw: Any) -> tuple[tuple[str, int], ...]:
    if not isinstance(raw, Mapping):
        raise OptionError("options.preset_steps must be an object: {preset: steps}")
    for preset in raw:
        if preset not in PRESET_STEPS:
            names = ", ".join(PRESET_STEPS)
            raise OptionError(f"options.preset_steps: {preset!r} is not a preset ({names})")
    return tuple(
        (preset, _number(raw[preset], f"preset_steps.{preset}", *STEPS_RANGE, whole=True))
        for preset in PRESET_STEPS
        if preset in raw
    )


def diffusion_options_parse(options: Mapping[str, Any]) -> DiffusionOptions:
    known = {
        "model",
        "mode",
        "steps",
        "strength",
        "guidance",
        "negative_prompt",
        "textual_inversions",
        "loras",
        "controlnet",
        "scheduler",
        "dtype",
        "preset_steps",
        "prompt",
        "profile",  # the model profile these options came from (a label; renders nothing)
    }
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
        textual_inversions=_textual_inversions(options.get("textual_inversions", [])),
        loras=_loras(options.get("loras", [])),
        controlnet=_control(options.get("controlnet")),
        scheduler=_choice(options.get("scheduler", "default"), "scheduler", SCHEDULERS),
        dtype=_choice(options.get("dtype", "auto"), "dtype", DTYPES),
        preset_steps=_preset_steps(options.get("preset_steps", {})),
        prompt=_template(options.get("prompt", DEFAULT_TEMPLATE)),
    )


def diffusion_batch_key(params: RenderParams) -> str:
    """Jobs with equal keys can share one pipeline call: one engine, model and settings,
    one picture size and one number of steps. What differs per picture (recipe, seed,
    view, angle) is not in it."""
    opts = diffusion_options_parse(params.options)
    shared = [params.engine, params.size, opts.steps_for(params.quality), dict(params.options)]
    return json.dumps(shared, sort_keys=True, default=str)
