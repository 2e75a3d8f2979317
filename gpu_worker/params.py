"""The render parameters, each declared exactly once: type, bounds, choices, default, help.

`RenderParams` is the one definition. The API serializer, the admin forms and the `render`
command build their fields from it, every door parses through `Param.parse`, the job stores
`RenderParams.normalised()`, and the engines read the typed attributes. Plain Python, so
the web process and the engines share it without either importing the other.

Adding a parameter: declare it in `RenderParams` below, read it in the engine that uses it,
and (only if stored jobs need a value other than the default) write a data migration.
Nothing else changes: the forms, the CLI options, the OpenAPI schema, the admin filters and
the render key follow from the declaration.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Self

MAX_SEED = 2**31 - 1
OPTIONS_MAX_BYTES = 4096
VIEWS = ("top", "perspective")
QUALITIES = ("draft", "standard", "high")
# Key of the declaration in a dataclass field's metadata.
_DECLARATION = "render_param"


class ParamProblem(ValueError):
    """One parameter's value is not acceptable; the message says what would be."""


class ParamError(ValueError):
    """Bad render parameters; `fields` maps each bad parameter to what is wrong with it."""

    def __init__(self, fields: Mapping[str, str]) -> None:
        self.fields = dict(fields)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.fields.items()))


@dataclass(frozen=True, slots=True, kw_only=True)
class Param:
    """How one parameter is written, checked and documented. Subclasses say the type."""

    help: str
    # Whether the render key hashes the value even at its default. The first parameters do
    # (their keys predate this rule); a parameter added later enters the key only when a
    # caller sets it to something else, so adding one leaves every existing key valid.
    keyed_at_default: bool = False
    kind: ClassVar[str] = "value"

    @property
    def default(self) -> Any:
        raise NotImplementedError

    def parse(self, raw: object) -> Any:
        """The typed value of `raw` (JSON, form text or a CLI string); raises ParamProblem."""
        raise NotImplementedError

    def schema(self) -> dict[str, Any]:
        """An OpenAPI/JSON-schema fragment with the same bounds and choices."""
        raise NotImplementedError

    def describe(self) -> str:
        """One line for help texts: what it is and what it accepts."""
        return self.help


@dataclass(frozen=True, slots=True, kw_only=True)
class WholeParam(Param):
    """A whole number in low..high. A default of None means "derived when not given"."""

    low: int
    high: int
    initial: int | None
    unit: str = ""
    kind: ClassVar[str] = "whole"

    @property
    def default(self) -> int | None:
        return self.initial

    def parse(self, raw: object) -> int:
        value: object = raw
        if isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
            value = int(raw.strip())
        elif isinstance(raw, float) and raw.is_integer():
            value = int(raw)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParamProblem(f"{raw!r} is not a whole number; use {self.low}..{self.high}")
        if not self.low <= value <= self.high:
            raise ParamProblem(f"{value} is out of range; use {self.low}..{self.high}")
        return value

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "integer", "minimum": self.low, "maximum": self.high}
        if self.initial is None:
            out["nullable"] = True
        else:
            out["default"] = self.initial
        return {**out, "description": self.describe()}

    def describe(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.help} ({self.low}..{self.high}{unit})"


@dataclass(frozen=True, slots=True, kw_only=True)
class RealParam(Param):
    """A finite number in low..high."""

    low: float
    high: float
    initial: float
    kind: ClassVar[str] = "real"

    @property
    def default(self) -> float:
        return self.initial

    def parse(self, raw: object) -> float:
        value: object = raw
        if isinstance(raw, str):
            try:
                value = float(raw.strip())
            except ValueError:
                raise ParamProblem(
                    f"{raw!r} is not a number; use {self.low}..{self.high}"
                ) from None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ParamProblem(f"{raw!r} is not a number; use {self.low}..{self.high}")
        number = float(value)
        if not math.isfinite(number) or not self.low <= number <= self.high:
            raise ParamProblem(f"{raw} is out of range; use {self.low}..{self.high}")
        return number

    def schema(self) -> dict[str, Any]:
        return {
            "type": "number",
            "minimum": self.low,
            "maximum": self.high,
            "default": self.initial,
            "description": self.describe(),
        }

    def describe(self) -> str:
        return f"{self.help} ({self.low}..{self.high})"


@dataclass(frozen=True, slots=True, kw_only=True)
class ChoiceParam(Param):
    """One of a fixed list of names (or of a list that a function gives, e.g. engines)."""

    choices: tuple[str, ...] | Callable[[], tuple[str, ...]]
    initial: str
    noun: str = "value"
    kind: ClassVar[str] = "choice"

    @property
    def default(self) -> str:
        return self.initial

    def options(self) -> tuple[str, ...]:
        return self.choices() if callable(self.choices) else self.choices

    def parse(self, raw: object) -> str:
        allowed = self.options()
        if not isinstance(raw, str) or raw not in allowed:
            raise ParamProblem(f"{raw!r} is not {self.noun}; use one of {', '.join(allowed)}")
        return raw

    def schema(self) -> dict[str, Any]:
        return {
            "type": "string",
            "enum": list(self.options()),
            "default": self.initial,
            "description": self.describe(),
        }

    def describe(self) -> str:
        return f"{self.help} ({' | '.join(self.options())})"


@dataclass(frozen=True, slots=True, kw_only=True)
class ObjectParam(Param):
    """A JSON object with string keys, at most max_bytes when written as JSON."""

    max_bytes: int
    kind: ClassVar[str] = "object"

    @property
    def default(self) -> dict[str, Any]:
        return {}

    def parse(self, raw: object) -> dict[str, Any]:
        if not isinstance(raw, Mapping) or not all(isinstance(k, str) for k in raw):
            raise ParamProblem("must be an object with string keys")
        if len(json.dumps(raw, default=str)) > self.max_bytes:
            raise ParamProblem(f"is larger than {self.max_bytes // 1024} KiB")
        return dict(sorted(raw.items()))

    def schema(self) -> dict[str, Any]:
        return {"type": "object", "additionalProperties": True, "description": self.describe()}


def declare(param: Param) -> Any:
    """A dataclass field whose default and declaration come from `param`."""
    if isinstance(param, ObjectParam):
        return field(default_factory=dict, metadata={_DECLARATION: param})
    return field(default=param.default, metadata={_DECLARATION: param})


def _engine_names() -> tuple[str, ...]:
    # Late import: the registry's module imports the engine contract, which imports this.
    from gpu_worker.engines.registry import engine_names

    return engine_names()


@dataclass(frozen=True, slots=True, kw_only=True)
class RenderParams:
    """How to render a product in a recipe: every parameter a caller may set, typed."""

    engine: str = declare(
        ChoiceParam(
            help="Render engine",
            choices=_engine_names,
            initial="procedural",
            noun="an engine",
            keyed_at_default=True,
        )
    )
    view: str = declare(
        ChoiceParam(
            help="Camera: straight down, or tilted to show the side walls",
            choices=VIEWS,
            initial="top",
            noun="a view",
            keyed_at_default=True,
        )
    )
    angle: int = declare(
        WholeParam(
            help="The tile's rotation about the vertical axis",
            low=0,
            high=359,
            initial=0,
            unit="degrees",
            keyed_at_default=True,
        )
    )
    size: int = declare(
        WholeParam(
            help="Width and height of the picture",
            low=256,
            high=2048,
            initial=1024,
            unit="px",
            keyed_at_default=True,
        )
    )
    seed: int | None = declare(
        WholeParam(
            help="Random seed; leave it out to share renders of the same product and recipe",
            low=0,
            high=MAX_SEED,
            initial=None,
            keyed_at_default=True,
        )
    )
    quality: str = declare(
        ChoiceParam(
            help="Quality preset",
            choices=QUALITIES,
            initial="standard",
            noun="a quality preset",
            keyed_at_default=True,
        )
    )
    options: Mapping[str, Any] = declare(
        ObjectParam(
            help='Engine-specific extras, e.g. {"tilt": 30} for the perspective camera',
            max_bytes=OPTIONS_MAX_BYTES,
            keyed_at_default=True,
        )
    )

    def as_dict(self) -> dict[str, Any]:
        """Every parameter with its value (defaults included), as the API shows them."""
        declared = render_param_declarations(type(self))
        return {name: _plain(getattr(self, name)) for name, _ in declared}

    def normalised(self) -> dict[str, Any]:
        """What a job stores and the render key hashes: parameters at a default are left
        out unless they are `keyed_at_default` (see `Param`)."""
        return {
            name: _plain(value)
            for name, param in render_param_declarations(type(self))
            if (value := getattr(self, name)) != param.default or param.keyed_at_default
        }

    @classmethod
    def from_normalised(cls, values: Mapping[str, Any]) -> Self:
        """Back from `normalised()` (a stored job): trusted, a missing parameter is its default.

        Keys that are not parameters (a job's product and recipe) are ignored.
        """
        declared = dict(render_param_declarations(cls))
        return cls(**{k: v for k, v in values.items() if k in declared})


def _plain(value: Any) -> Any:
    return dict(sorted(value.items())) if isinstance(value, Mapping) else value


def render_param_declarations(
    params_type: type[RenderParams] | None = None,
) -> Iterator[tuple[str, Param]]:
    """(name, declaration) of every render parameter, in declaration order."""
    for item in fields(params_type or RenderParams):
        yield item.name, item.metadata[_DECLARATION]


def render_param_declaration(name: str) -> Param:
    return dict(render_param_declarations())[name]


def render_params_parse(values: Mapping[str, object]) -> RenderParams:
    """Check raw values (JSON, form text, CLI strings) against their declarations.

    A missing or None value takes the default. Every bad or unknown parameter is named in
    one ParamError.
    """
    declared = dict(render_param_declarations())
    errors = {name: "is not a render parameter" for name in values if name not in declared}
    parsed: dict[str, Any] = {}
    for name, param in declared.items():
        raw = values.get(name)
        if raw is None:
            continue
        try:
            parsed[name] = param.parse(raw)
        except ParamProblem as exc:
            errors[name] = str(exc)
    if errors:
        raise ParamError(errors)
    return RenderParams(**parsed)
