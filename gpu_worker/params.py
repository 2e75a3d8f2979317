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

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from typing import Any, Self

from gpu_worker.param_kinds import (
    DECLARATION,
    ChoiceParam,
    ObjectParam,
    Param,
    ParamProblem,
    RealParam,
    WholeParam,
    declare,
)

MAX_SEED = 2**31 - 1
OPTIONS_MAX_BYTES = 4096
VIEWS = ("top", "perspective")
QUALITIES = ("draft", "standard", "high")


class ParamError(ValueError):
    """Bad render parameters; `fields` maps each bad parameter to what is wrong with it."""

    def __init__(self, fields: Mapping[str, str]) -> None:
        self.fields = dict(fields)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.fields.items()))


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
    tilt: float = declare(
        RealParam(
            help="Perspective view: the camera's angle from straight down",
            low=0.0,
            high=75.0,
            initial=55.0,
            unit="degrees",
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
            help="Quality preset: draft (fastest; a diffusion model takes 12 steps), standard "
            "(25 steps), high (40 steps; the procedural engine draws pictures up to 1024 px at "
            "twice the size and scales them down, for crisper granules)",
            choices=QUALITIES,
            initial="standard",
            noun="a quality preset",
            keyed_at_default=True,
        )
    )
    options: Mapping[str, Any] = declare(
        ObjectParam(
            help='Engine-specific extras, e.g. {"model": "sdxl-base"} for a diffusion engine',
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
        yield item.name, item.metadata[DECLARATION]


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
