"""Input refused before any view runs, and text the parsers refuse: each a 4xx in the
envelope (issue 11: each of these was a 500 or an HTML page)."""

from __future__ import annotations

import json

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db

RENDERS = "/api/v1/renders/"
GOOD = {"product": "SQ-500-30", "recipe": "RED:60,BLACK:40"}


def _error(response) -> dict:
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    return response.json()["error"]


@override_settings(API_MAX_BODY_BYTES=1000)
def test_a_body_over_the_limit_is_413_in_the_envelope_before_it_is_read(render_client):
    response = render_client.generic(
        "POST", RENDERS, b'{"product": "' + b"x" * 5000 + b'"}', content_type="application/json"
    )
    assert response.status_code == 413
    error = _error(response)
    assert error["code"] == "payload_too_large"
    assert "at most 1000" in error["message"]


@pytest.mark.parametrize(
    ("path", "where"),
    [
        ("/api/v1/products/SQ%00/", "URL path"),
        ("/api/v1/renders/?product=%00", "query parameter 'product'"),
        ("/api/v1/renders/?ordering=%01", "query parameter 'ordering'"),
    ],
)
def test_control_characters_in_the_url_are_400(render_client, path, where):
    response = render_client.get(path)
    assert response.status_code == 400
    assert where in _error(response)["message"]


@pytest.mark.parametrize(
    "header", ["HTTP_IDEMPOTENCY_KEY", "HTTP_IF_NONE_MATCH", "HTTP_AUTHORIZATION"]
)
def test_control_characters_in_a_header_are_400_even_without_a_key(db, client, header):
    response = client.get("/api/v1/products/", **{header: "a\x00b"})
    assert response.status_code == 400
    assert "header has a control character" in _error(response)["message"]


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ('{"product": "SQ-500-30\\u0000", "recipe": "RED:100"}', "the text at product"),
        ('{"product": "\\ud800", "recipe": "RED:100"}', "lone surrogate"),
        ('{"product": "SQ-500-30", "recipe": "RED:100", "options": {"a\\u0000": 1}}', "a key"),
        (
            '{"product": "SQ-500-30", "recipe": [{"color": "RED\\u0000", "percent": 100}]}',
            "recipe[0].color",
        ),
    ],
)
def test_nul_and_lone_surrogates_in_json_are_400_naming_where(render_client, body, where):
    response = render_client.generic("POST", RENDERS, body, content_type="application/json")
    assert response.status_code == 400
    assert where in _error(response)["message"]


@pytest.mark.parametrize(
    "nested",
    [
        '{"a": ' * 17 + "1" + "}" * 17,  # just past the limit
        "[" * 30_000 + "]" * 30_000,  # past Python's recursion limit, under the size limit
    ],
)
def test_deep_json_is_400_not_a_crash(render_client, nested):
    body = '{"product": "SQ-500-30", "recipe": "RED:100", "options": ' + nested + "}"
    response = render_client.generic("POST", RENDERS, body, content_type="application/json")
    assert response.status_code == 400
    assert "nested" in _error(response)["message"]


def test_deep_json_inside_a_form_field_is_400(render_client):
    response = render_client.post(
        RENDERS,
        {"product": "SQ-500-30", "recipe": "[" * 3000 + "]" * 3000},
        format="multipart",
    )
    assert response.status_code == 400
    assert "nested" in json.dumps(_error(response))


@pytest.mark.parametrize(
    "moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59.999999-14:00"]
)
def test_a_date_filter_outside_utc_years_is_400(render_client, moment):
    response = render_client.get(RENDERS, {"created_after": moment})
    assert response.status_code == 400
    assert "between years 1 and 9999" in _error(response)["message"]


def test_a_date_filter_with_an_offset_postgresql_refuses_is_read_in_utc(render_client):
    # Python reads offsets up to 23:59; PostgreSQL only up to 15:59 (found by schemathesis).
    response = render_client.get(RENDERS, {"created_after": "2000-01-01T00:00:00.1-17:52"})
    assert response.status_code == 200


def test_a_recipe_id_in_other_digits_is_no_id(render_client, demo_catalog):
    from catalog.models import ColorRecipe

    pk = str(ColorRecipe.objects.values_list("pk", flat=True)[0])
    assert render_client.get(f"/api/v1/recipes/{pk}/").status_code == 200
    # The same id in Arabic-Indic digits, which int() would read as the same number.
    other = "".join(chr(0x660 + int(d)) for d in pk)
    response = render_client.get(f"/api/v1/recipes/{other}/")
    assert response.status_code == 404
    assert _error(response)["code"] == "not_found"


def test_a_huge_number_is_quoted_short_in_the_message(render_client, demo_catalog):
    body = '{"product": "SQ-500-30", "recipe": "RED:100", "seed": ' + "9" * 4000 + "}"
    response = render_client.generic("POST", RENDERS, body, content_type="application/json")
    assert response.status_code == 400
    assert len(response.content) < 1000


def test_an_idempotency_key_over_the_limit_is_400_not_cut_short(render_client, demo_catalog):
    first = render_client.post(RENDERS, GOOD, format="json", HTTP_IDEMPOTENCY_KEY="k" * 200)
    assert first.status_code == 201
    longer = render_client.post(RENDERS, GOOD, format="json", HTTP_IDEMPOTENCY_KEY="k" * 201)
    assert longer.status_code == 400
    assert "Idempotency-Key" in _error(longer)["fields"]


def test_a_query_parameter_given_twice_is_400_not_the_last_one_silently(render_client):
    answer = render_client.get("/api/v1/products/?shape=bogus&shape=brick")
    assert answer.status_code == 400
    assert "'shape' is given 2 times" in answer.json()["error"]["message"]
