"""The one declaration of the render parameters: parsing, defaults, schema, key rules."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gpu_worker.param_kinds import (
    ChoiceParam,
    ObjectParam,
    ParamProblem,
    RealParam,
    WholeParam,
    declare,
)
from gpu_worker.params import (
    ParamError,
    RenderParams,
    render_param_declaration,
    render_param_declarations,
    render_params_parse,
)


def test_defaults_come_from_the_declarations():
    params = RenderParams()
    for name, param in render_param_declarations():
        assert getattr(params, name) == param.default
    assert (params.engine, params.view, params.angle, params.size) == ("procedural", "top", 0, 1024)
    assert params.seed is None  # derived at submit unless the caller chooses one


def test_parse_accepts_json_form_and_cli_spellings_of_the_same_values():
    from_json = render_params_parse({"size": 512, "angle": 30.0, "view": "perspective"})
    from_text = render_params_parse({"size": "512", "angle": " 30 ", "view": "perspective"})
    assert from_json == from_text
    assert (from_json.size, from_json.angle) == (512, 30)


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({"size": 100}, "size", "256..2048"),
        ({"size": 4096}, "size", "out of range"),
        ({"size": True}, "size", "not a whole number"),
        ({"size": 512.5}, "size", "not a whole number"),
        ({"angle": 360}, "angle", "0..359"),
        ({"seed": -1}, "seed", "out of range"),
        ({"view": "side"}, "view", "top, perspective"),
        ({"engine": "magic"}, "engine", "not an engine"),
        ({"quality": "ultra"}, "quality", "quality preset"),
        ({"options": [1, 2]}, "options", "object"),
        ({"options": {"x": "y" * 5000}}, "options", "4 KiB"),
        ({"colour": "red"}, "colour", "not a render parameter"),
        ({"size": "²"}, "size", "not a whole number"),
        ({"size": "--5"}, "size", "not a whole number"),
        ({"size": "9" * 5000}, "size", "not a whole number"),
        ({"angle": "1e400"}, "angle", "not a whole number"),
    ],
)
def test_bad_values_name_the_parameter_and_what_would_be_right(values, field, words):
    with pytest.raises(ParamError) as caught:
        render_params_parse(values)
    assert field in caught.value.fields
    assert words in caught.value.fields[field]


def test_every_problem_is_named_at_once():
    with pytest.raises(ParamError) as caught:
        render_params_parse({"size": 1, "angle": -1, "view": "x"})
    assert set(caught.value.fields) == {"size", "angle", "view"}


def test_signs_and_whole_decimals_read_as_whole_numbers():
    assert render_params_parse({"size": "+512", "angle": "30.0"}).size == 512
    assert render_params_parse({"angle": "30.0"}).angle == 30


def test_none_means_the_default():
    assert render_params_parse({"size": None, "seed": None}) == RenderParams()


def test_real_parameters_are_finite_and_bounded():
    strength = RealParam(help="img2img strength", low=0.0, high=1.0, initial=0.6)
    assert strength.parse("0.25") == 0.25
    for bad in ("nan", "inf", 1.5, "much", True):
        with pytest.raises(ParamProblem):
            strength.parse(bad)


def test_the_schema_carries_the_same_bounds_and_choices():
    size = render_param_declaration("size").schema()
    assert (size["minimum"], size["maximum"], size["default"]) == (256, 2048, 1024)
    assert render_param_declaration("view").schema()["enum"] == ["top", "perspective"]
    assert "procedural" in render_param_declaration("engine").schema()["enum"]
    assert render_param_declaration("seed").schema()["nullable"] is True
    assert isinstance(render_param_declaration("options"), ObjectParam)
    assert isinstance(render_param_declaration("quality"), ChoiceParam)


def test_normalised_round_trips_through_storage():
    params = RenderParams(view="perspective", angle=45, size=512, seed=7, options={"b": 1, "a": 2})
    stored = params.normalised()
    assert list(stored["options"]) == ["a", "b"]  # sorted, so equal options hash equally
    assert RenderParams.from_normalised({**stored, "product": {}, "recipe": "RED:100"}) == params


@dataclass(frozen=True, slots=True, kw_only=True)
class _WithSteps(RenderParams):
    """What adding a parameter looks like: one declared field."""

    steps: int = declare(WholeParam(help="Denoising steps", low=1, high=150, initial=30))


def test_a_parameter_added_later_keys_only_when_it_is_set():
    assert "steps" not in _WithSteps(seed=1).normalised()  # existing render keys stay valid
    assert _WithSteps(seed=1).normalised() == RenderParams(seed=1).normalised()
    assert _WithSteps(seed=1, steps=40).normalised()["steps"] == 40
    assert _WithSteps.from_normalised(RenderParams(seed=1).normalised()).steps == 30
    assert "steps" in _WithSteps(seed=1).as_dict()  # the API still shows every value


def test_a_bad_value_is_quoted_short_whatever_its_length():
    with pytest.raises(ParamError) as caught:
        render_params_parse({"view": "x" * 10_000, "size": "y" * 10_000})
    for name in ("view", "size"):
        assert len(caught.value.fields[name]) < 120


# -- any value from outside: a value or a ParamProblem, nothing else (issue 11) -------------

_ANY_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)
_NUMBER_TEXT = st.from_regex(r"\A[ +\-0-9.eE_٠-٩０-９]{0,40}\Z")


@settings(max_examples=300, deadline=None)
@given(value=_ANY_JSON | _NUMBER_TEXT)
def test_any_value_for_any_parameter_parses_or_names_its_problem(value):
    for _name, param in render_param_declarations():
        problem = ""
        try:
            parsed = param.parse(value)
        except ParamProblem as refused:
            problem = str(refused)
        if problem:
            assert len(problem) < 300
            continue
        # What parses is within what the schema documents.
        schema = param.schema()
        if isinstance(param, WholeParam | RealParam):
            assert schema["minimum"] <= parsed <= schema["maximum"]
        elif isinstance(param, ChoiceParam):
            assert parsed in schema["enum"]


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_every_value_the_schema_allows_parses_to_itself(data):
    for _name, param in render_param_declarations():
        schema = param.schema()
        if isinstance(param, WholeParam):
            value = data.draw(st.integers(schema["minimum"], schema["maximum"]))
        elif isinstance(param, RealParam):
            value = data.draw(st.floats(schema["minimum"], schema["maximum"]))
        elif isinstance(param, ChoiceParam):
            value = data.draw(st.sampled_from(schema["enum"]))
        else:
            continue
        assert param.parse(value) == value
        assert param.parse(str(value)) == value  # as a form or the CLI writes it
