"""Everyday colour words that are no stock colour's name, and the stock colours a shopper
or staff member most likely means by them: what an unknown colour's message suggests
("purple" is neither VIOLET nor LILAC by name, and spelling alone pointed at TURQSE).
Only suggestions: a recipe never silently takes one of them."""

from __future__ import annotations

COMMON_COLOUR_WORDS: dict[str, tuple[str, ...]] = {
    "purple": ("VIOLET", "LILAC"),
    "magenta": ("PINK", "VIOLET"),
    "fuchsia": ("PINK", "VIOLET"),
    "lavender": ("LILAC",),
    "navy": ("DKBLUE",),
    "cyan": ("TURQSE", "SKYBLUE"),
    "aqua": ("TURQSE", "SKYBLUE"),
    "teal": ("TURQSE", "EMERALD"),
    "mint": ("LTGREEN", "WHTGRN"),
    "olive": ("KHAKI", "DKGREEN"),
    "lime": ("LIMEGRN",),
    "green": ("GRSGRN", "LTGREEN", "DKGREEN"),
    "cream": ("BEIGE", "PEARL"),
    "ivory": ("PEARL", "BEIGE"),
    "tan": ("SAND", "BEIGE"),
    "gold": ("YELLOW", "SAND"),
    "silver": ("LTGRAY", "PEARL"),
    "charcoal": ("DKGRAY", "BLACK"),
    "graphite": ("DKGRAY",),
    "brick": ("TERCOT", "RED"),
    "coral": ("SALMON",),
    "rose": ("PINK", "SALMON"),
    "burgundy": ("RED", "BROWN"),
    "maroon": ("RED", "BROWN"),
    "chocolate": ("BROWN",),
    "пурпурный": ("VIOLET", "PINK"),
    "бордовый": ("RED", "BROWN"),
    "малиновый": ("PINK", "RED"),
    "зеленый": ("GRSGRN", "LTGREEN", "DKGREEN"),
    "кремовый": ("BEIGE", "PEARL"),
    "золотой": ("YELLOW", "SAND"),
    "серебряный": ("LTGRAY", "PEARL"),
    "кирпичный": ("TERCOT", "RED"),
}
