"""The one strict reader of numbers written as text."""

from __future__ import annotations

import pytest

from catalog.input_checks import MAX_NUMBER_TEXT, number_from_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [("30", 30), (" +30 ", 30), ("-5", -5), ("30.0", 30.0), (".5", 0.5), ("1e3", 1000.0)],
)
def test_ascii_numbers_are_read(text: str, expected: float):
    value = number_from_text(text)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    "text",
    ["", "٣٠", "３０", "1_0", "nan", "inf", "Infinity", "0x1f", "1e", "1e1000", "--1", "1 0"],
)
def test_anything_else_is_not_a_number(text: str):
    assert number_from_text(text) is None


def test_long_digit_strings_are_refused_before_conversion():
    assert number_from_text("9" * MAX_NUMBER_TEXT) is not None
    assert number_from_text("9" * (MAX_NUMBER_TEXT + 1)) is None
    assert number_from_text("9" * 1_000_000) is None


def test_a_decimal_comma_and_no_exponent_on_request():
    assert number_from_text("0,6") is None
    assert number_from_text("0,6", decimal_comma=True) == 0.6
    assert number_from_text("1e2", exponent=False) is None


# -- parsed JSON ---------------------------------------------------------------------------


def test_json_problem_names_where_the_bad_text_is():
    from catalog.input_checks import json_problem

    assert json_problem({"a": [1, "ok", {"b": "x\x00"}]}) == (
        "the text at a[2].b contains a NUL character"
    )
    assert "a key at a" in (json_problem({"a": {"\ud800": 1}}) or "")
    assert json_problem({"a": ["fine", 1, 2.5, None, True]}) is None


def test_json_problem_measures_depth_past_the_recursion_limit():
    from catalog.input_checks import MAX_JSON_DEPTH, json_problem

    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    assert "nested deeper than" in (json_problem(deep) or "")
    shallow: list = []
    for _ in range(MAX_JSON_DEPTH - 1):
        shallow = [shallow]
    assert json_problem(shallow) is None
