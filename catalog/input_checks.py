"""Strict readers for what comes from outside, shared by every door (API, admin, CLI).

Numbers written as text: only ASCII. Python's int() and float() also read Arabic-Indic and
full-width digits, underscores ("1_0"), "nan" and "infinity", and take quadratic time on
long digit strings; a caller's number is a few characters, and anything longer is refused
before it is read.

Parsed JSON: bounded depth, and no text that the database or the reply cannot hold (NUL,
which PostgreSQL refuses in text and JSON, and lone surrogates, which no UTF-8 can encode).

Plain Python, so the worker's parameter declarations use it as the web process does.
"""

from __future__ import annotations

import re
from typing import Any

# No value any parameter accepts needs more characters than this.
MAX_NUMBER_TEXT = 32
# A caller's value is quoted in an error message at most this long.
MAX_QUOTED = 40


def quoted(raw: object) -> str:
    """A caller's value as an error message quotes it (its repr): never more than
    MAX_QUOTED characters, however long the value."""
    text = repr(raw)
    return text if len(text) <= MAX_QUOTED else text[: MAX_QUOTED - 3] + "..."


# One optional sign, digits with an optional fraction, an optional exponent. Anchored,
# ASCII-only and without nested repetition, so it matches in time linear in the text.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?", re.ASCII)


def number_from_text(
    raw: str, *, decimal_comma: bool = False, exponent: bool = True
) -> int | float | None:
    """The number that `raw` spells ("30", " +30 ", "30.0", "1e3"), or None.

    Whole numbers without a point or exponent come back as int, others as float.
    `decimal_comma` also reads "0,6" as 0.6 (a recipe's percent typed in Russian);
    `exponent=False` refuses "1e2" (a percent is written as the whole number it is).
    """
    if len(raw) > MAX_NUMBER_TEXT:
        return None
    text = raw.strip()
    if decimal_comma:
        text = text.replace(",", ".")
    if _NUMBER.fullmatch(text) is None or (not exponent and "e" in text.lower()):
        return None
    if text.lstrip("+-").isdigit():
        return int(text)
    return float(text)


# Objects and arrays inside one another in any JSON a caller sends: a render's options are
# three deep at most; the recipe list two.
MAX_JSON_DEPTH = 16


def text_problem(text: str) -> str | None:
    """Why `text` cannot be stored or sent back (NUL, a lone surrogate), or None."""
    if "\x00" in text:
        return "contains a NUL character"
    # A lone surrogate is the one thing that cannot be encoded as UTF-8; encoding is the
    # fastest test for it (C speed, and almost every string passes).
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate (not a character)"
    return None


def json_problem(value: Any, *, max_depth: int = MAX_JSON_DEPTH) -> str | None:
    """The first problem in parsed JSON, with where it is ("at options.a[2]"), or None.

    Iterative, so a value nested past Python's recursion limit is measured, not a crash.
    """
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        item, where, depth = stack.pop()
        if isinstance(item, str):
            problem = text_problem(item)
            if problem:
                return f"the text at {where or 'the top'} {problem}"
        elif isinstance(item, dict | list):
            if depth >= max_depth:
                return f"the JSON is nested deeper than {max_depth} levels (at {where})"
            if isinstance(item, dict):
                for key, child in item.items():
                    if isinstance(key, str) and (problem := text_problem(key)):
                        return f"a key at {where or 'the top'} {problem}"
                    stack.append(
                        (
                            child,
                            f"{where}.{_shown_key(key)}" if where else _shown_key(key),
                            depth + 1,
                        )
                    )
            else:
                for index, child in enumerate(item):
                    stack.append((child, f"{where}[{index}]", depth + 1))
    return None


def _shown_key(key: object) -> str:
    text = str(key)
    return text if len(text) <= 20 and text.isprintable() else repr(text[:17]) + "..."
