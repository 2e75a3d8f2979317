"""The one recipe parser: every door (API, admin, CLI, renderer) goes through here.

A recipe is up to eight (colour, percent) components with whole percents 1..100 that sum
to exactly 100. Percent is the only unit: nothing here or anywhere else multiplies or
divides a percent by 100, which is how the prototype once showed "10000 %".

This module is plain Python (no ORM) so the worker and the tests can use it anywhere; the
caller passes in the colours that may be used.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from catalog.colour_words import COMMON_COLOUR_WORDS
from catalog.i18n import gettext
from catalog.input_checks import number_from_text, quoted

MAX_COMPONENTS = 8
TOTAL_PERCENT = 100
# Bounds checked before any other work, so no input costs more than a valid one does.
# The longest colour name (English or Russian) is under 20 characters; eight components
# written out in full ("Тёмно-зелёный: 12 %") fit many times over.
MAX_RECIPE_TEXT = 1000
MAX_COLOR_NAME = 60
# Problems listed in one error; the rest are counted ("and 3 more").
MAX_PROBLEMS = 10

_ITEM_SEPARATORS = re.compile(r"[,;\n]")


@dataclass(frozen=True, slots=True)
class ColorName:
    """The names under which a colour may be written in a recipe."""

    code: str
    name_en: str = ""
    name_ru: str = ""


@dataclass(frozen=True, slots=True)
class Component:
    code: str
    percent: int


@dataclass(frozen=True, slots=True)
class Recipe:
    """A valid recipe, components sorted by colour code (the canonical order)."""

    components: tuple[Component, ...]

    @property
    def canonical(self) -> str:
        return ",".join(f"{c.code}:{c.percent}" for c in self.components)

    def as_list(self) -> list[dict[str, Any]]:
        return [{"color": c.code, "percent": c.percent} for c in self.components]

    def percent_of(self, code: str) -> int:
        return next((c.percent for c in self.components if c.code == code), 0)

    @classmethod
    def from_canonical(cls, text: str) -> Recipe:
        """Read back a canonical string that `canonical` wrote (a stored job's recipe).

        Not for input: what comes from outside goes through `recipe_parse`. This only undoes
        `canonical`, and refuses any string that `canonical` would not have written.
        """
        try:
            pairs = [item.split(":") for item in text.split(",")]
            recipe = cls(components=tuple(Component(code, int(p)) for code, p in pairs))
        except ValueError:
            raise ValueError(f"not a canonical recipe: {text!r}") from None
        if recipe.canonical != text or sorted(recipe.components, key=_by_code) != list(
            recipe.components
        ):
            raise ValueError(f"not a canonical recipe: {text!r}")
        return recipe


def _by_code(component: Component) -> str:
    return component.code


class RecipeError(ValueError):
    """Why a recipe is not acceptable; every message says what would be right."""

    def __init__(self, problems: Sequence[str]) -> None:
        shown = list(problems[:MAX_PROBLEMS])
        if len(problems) > MAX_PROBLEMS:
            shown.append(gettext("and %(count)d more") % {"count": len(problems) - MAX_PROBLEMS})
        self.problems = shown
        super().__init__("; ".join(self.problems))

    @property
    def message(self) -> str:
        return str(self)


def _fold(name: str) -> str:
    # Case-, space-, dash- and ё-insensitive: "dk blue", "Dkblue", "Темно-синий",
    # "тёмно синий" all find the same colour.
    return re.sub(r"[\s\-_]+", "", name.casefold().replace("ё", "е"))


class _ColorIndex:
    def __init__(self, colors: Iterable[ColorName]) -> None:
        self.by_key: dict[str, str] = {}
        self.codes: list[str] = []
        for color in colors:
            self.codes.append(color.code)
            for name in (color.code, color.name_en, color.name_ru):
                if name:
                    self.by_key.setdefault(_fold(name), color.code)

    def resolve(self, name: str) -> str | None:
        return self.by_key.get(_fold(name))

    def suggest(self, name: str) -> str | None:
        folded = _fold(name)
        meant = [code for code in COMMON_COLOUR_WORDS.get(folded, ()) if code in self.codes]
        if meant:
            return " or ".join(meant)
        matches = difflib.get_close_matches(folded, list(self.by_key), n=1, cutoff=0.5)
        return self.by_key[matches[0]] if matches else None


def _percent_problem(raw: object, label: str) -> tuple[int | None, str | None]:
    """Turn one raw percent into an int 1..100, or say why it cannot be one."""
    value: object = raw
    if isinstance(raw, str):
        text = raw.strip()
        value = number_from_text(
            text[:-1] if text.endswith("%") else text, decimal_comma=True, exponent=False
        )
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return None, gettext(
            "%(label)s: percent %(value)s is not a number; use a whole number 1..100"
        ) % {"label": label, "value": quoted(raw)}
    if isinstance(value, float) and not value.is_integer():
        hint = (
            gettext(
                " (%(value)s looks like a fraction: percent is a whole number 1..100, "
                "so write %(whole)d for %(whole)d %%)"
            )
            % {"value": value, "whole": round(value * 100)}
            if 0 < value < 1
            else ""
        )
        return None, gettext(
            "%(label)s: percent %(value)s is not a whole number%(hint)s; use 1..100"
        ) % {"label": label, "value": quoted(value), "hint": hint}
    if not 1 <= value <= TOTAL_PERCENT:
        return None, gettext(
            "%(label)s: percent %(value)s is out of range; use a whole number 1..100"
        ) % {"label": label, "value": quoted(value)}
    return int(value), None


def _split_pair(chunk: str) -> tuple[str, str] | None:
    """("name", "percent") of "name: percent %" (or "name=percent"), or None.

    The last ':' or '=' separates them, so a name may hold either; no regex, so the time
    is linear in the chunk however its spaces fall.
    """
    cut = max(chunk.rfind(":"), chunk.rfind("="))
    if cut < 0:
        return None
    name, percent = chunk[:cut].strip(), chunk[cut + 1 :].strip()
    if not name or not percent:
        return None
    return name, percent


def _items_from_string(text: str) -> list[tuple[object, object]]:
    if len(text) > MAX_RECIPE_TEXT:
        raise RecipeError(
            [
                gettext("the recipe is %(length)d characters long; at most %(limit)d are allowed")
                % {"length": len(text), "limit": MAX_RECIPE_TEXT}
            ]
        )
    chunks = [chunk for chunk in _ITEM_SEPARATORS.split(text) if chunk.strip()]
    _check_count(len(chunks))
    items: list[tuple[object, object]] = []
    for chunk in chunks:
        pair = _split_pair(chunk)
        if pair is None:
            raise RecipeError(
                [
                    gettext("%(chunk)s is not COLOR:PERCENT; write e.g. 'RED:60,BLACK:40'")
                    % {"chunk": quoted(chunk.strip())}
                ]
            )
        items.append(pair)
    return items


def _check_count(count: int) -> None:
    if count > MAX_COMPONENTS:
        raise RecipeError(
            [
                gettext("the recipe has %(count)d colours; at most %(limit)d are allowed")
                % {"count": count, "limit": MAX_COMPONENTS}
            ]
        )


def _items_from_list(value: Sequence[object]) -> list[tuple[object, object]]:
    _check_count(len(value))
    items: list[tuple[object, object]] = []
    for index, item in enumerate(value, start=1):
        if not isinstance(item, Mapping) or set(item) - {"color", "percent"}:
            raise RecipeError(
                [
                    gettext(
                        "component %(index)d must be an object with 'color' and 'percent', "
                        'e.g. {"color": "RED", "percent": 60}'
                    )
                    % {"index": index}
                ]
            )
        if "color" not in item or "percent" not in item:
            missing = "color" if "color" not in item else "percent"
            raise RecipeError(
                [
                    gettext("component %(index)d has no '%(field)s'")
                    % {"index": index, "field": missing}
                ]
            )
        items.append((item["color"], item["percent"]))
    return items


def recipe_parse(*, value: object, colors: Iterable[ColorName]) -> Recipe:
    """Parse a recipe in list or string form against the colours that may be used.

    Raises RecipeError naming every problem found, each with what would be right.
    """
    if isinstance(value, str):
        items = _items_from_string(value)
    elif isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        items = _items_from_list(value)
    else:
        raise RecipeError(
            [
                gettext(
                    "a recipe is a list of {color, percent} objects or a string like "
                    "'RED:60,BLACK:40'"
                )
            ]
        )
    if not items:
        raise RecipeError(
            [gettext("the recipe is empty; give 1 to 8 colours whose percents sum to 100")]
        )

    index = _ColorIndex(colors)
    problems: list[str] = []
    seen: dict[str, str] = {}
    components: list[Component] = []
    for position, (raw_name, raw_percent) in enumerate(items, start=1):
        name = raw_name.strip() if isinstance(raw_name, str) else ""
        label = gettext("component %(position)d (%(name)s)") % {
            "position": position,
            "name": quoted(name) if name else gettext("no colour"),
        }
        # Only name-sized text is looked up (suggestions compare strings pairwise).
        name_sized = 0 < len(name) <= MAX_COLOR_NAME
        code = index.resolve(name) if name_sized else None
        if not isinstance(raw_name, str):
            problems.append(
                gettext('%(label)s: the colour must be a name or code, e.g. "RED"')
                % {"label": label}
            )
        elif code is None:
            suggestion = index.suggest(name) if name_sized else None
            hint = (
                gettext("; did you mean %(suggestion)s?") % {"suggestion": suggestion}
                if suggestion
                else ""
            )
            problems.append(
                gettext("%(label)s: unknown colour %(name)s%(hint)s")
                % {"label": label, "name": quoted(name), "hint": hint}
            )
        elif code in seen:
            problems.append(
                gettext(
                    "%(label)s: colour %(code)s is listed twice (also as %(other)r); "
                    "give each colour once with its total percent"
                )
                % {"label": label, "code": code, "other": seen[code]}
            )
        else:
            seen[code] = name
        percent, problem = _percent_problem(raw_percent, label)
        if problem:
            problems.append(problem)
        if code is not None and percent is not None:
            components.append(Component(code=code, percent=percent))

    if not problems:
        total = sum(c.percent for c in components)
        if total != TOTAL_PERCENT:
            problems.append(
                gettext("the percents sum to %(total)d; they must sum to exactly %(required)d")
                % {"total": total, "required": TOTAL_PERCENT}
            )
    if problems:
        raise RecipeError(problems)
    return Recipe(components=tuple(sorted(components, key=lambda c: c.code)))
