"""The kinds of render parameter: how a value is written, checked, documented and defaulted.

`gpu_worker/params.py` declares each render parameter with one of these; every door
(API, admin, CLI) parses through `Param.parse`, so the same value gets the same message.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from catalog.input_checks import json_problem, number_from_text, quoted

# Key of the declaration in a dataclass field's metadata.
DECLARATION = "render_param"


class ParamProblem(ValueError):
    """One parameter's value is not acceptable; the message says what would be."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Param:
    """How one parameter is written, checked and documented. Subclasses say the type."""

    help: str
    # Whether the render key hashes the value even at its default. The first parameters do
    # (their keys predate this rule); a parameter added later enters the key only when a
    # caller sets it to something else, so adding one leaves every existing key valid.
    keyed_at_default: bool = False

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

    @property
    def default(self) -> int | None:
        return self.initial

    def parse(self, raw: object) -> int:
        value: object = number_from_text(raw) if isinstance(raw, str) else raw
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParamProblem(f"{quoted(raw)} is not a whole number; use {self.low}..{self.high}")
        if not self.low <= value <= self.high:
            raise ParamProblem(f"{quoted(value)} is out of range; use {self.low}..{self.high}")
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
    unit: str = ""

    @property
    def default(self) -> float:
        return self.initial

    def parse(self, raw: object) -> float:
        value: object = number_from_text(raw) if isinstance(raw, str) else raw
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ParamProblem(f"{quoted(raw)} is not a number; use {self.low:g}..{self.high:g}")
        number = float(value)
        if not math.isfinite(number) or not self.low <= number <= self.high:
            raise ParamProblem(f"{number:g} is out of range; use {self.low:g}..{self.high:g}")
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
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.help} ({self.low:g}..{self.high:g}{unit})"


@dataclass(frozen=True, slots=True, kw_only=True)
class ChoiceParam(Param):
    """One of a fixed list of names (or of a list that a function gives, e.g. engines)."""

    choices: tuple[str, ...] | Callable[[], tuple[str, ...]]
    initial: str
    noun: str = "value"

    @property
    def default(self) -> str:
        return self.initial

    def options(self) -> tuple[str, ...]:
        return self.choices() if callable(self.choices) else self.choices

    def parse(self, raw: object) -> str:
        allowed = self.options()
        if not isinstance(raw, str) or raw not in allowed:
            raise ParamProblem(f"{quoted(raw)} is not {self.noun}; use one of {', '.join(allowed)}")
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

    @property
    def default(self) -> dict[str, Any]:
        return {}

    def parse(self, raw: object) -> dict[str, Any]:
        if not isinstance(raw, Mapping) or not all(isinstance(k, str) for k in raw):
            raise ParamProblem("must be an object with string keys")
        problem = json_problem(dict(raw))
        if problem:
            raise ParamProblem(problem)
        if len(json.dumps(raw, default=str)) > self.max_bytes:
            raise ParamProblem(f"is larger than {self.max_bytes // 1024} KiB")
        return dict(sorted(raw.items()))

    def schema(self) -> dict[str, Any]:
        return {"type": "object", "additionalProperties": True, "description": self.describe()}


def declare(param: Param) -> Any:
    """A dataclass field whose default and declaration come from `param`."""
    if isinstance(param, ObjectParam):
        return field(default_factory=dict, metadata={DECLARATION: param})
    return field(default=param.default, metadata={DECLARATION: param})
