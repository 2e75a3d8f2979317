"""Numbers written as text, read the one strict way every door uses.

Only ASCII: Python's int() and float() also read Arabic-Indic and full-width digits,
underscores ("1_0"), "nan" and "infinity", and take quadratic time on long digit strings.
A caller's number is a few characters; anything longer is refused before it is read.
"""

from __future__ import annotations

import re

# No value any parameter accepts needs more characters than this.
MAX_NUMBER_TEXT = 32

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
