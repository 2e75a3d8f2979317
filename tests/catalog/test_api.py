"""Catalog API v1: colours, products, recipes, as the storefront and staff see them."""

from __future__ import annotations

import pytest

from catalog.models import ColorRecipe, TileProduct

pytestmark = pytest.mark.django_db


def test_palette_reads_as_in_the_contract(read_client):
    response = read_client.get("/api/v1/colors/")
    assert response.status_code == 200
    colors = response.json()
    assert len(colors) == 29
    red = next(c for c in colors if c["code"] == "RED")
    assert set(red) == {"code", "name_en", "name_ru", "hex", "lab"}
    assert red["name_ru"] == "Красный"
    assert red["hex"].startswith("#") and len(red["hex"]) == 7
    assert len(red["lab"]) == 3


def test_one_colour_by_code(read_client):
    assert read_client.get("/api/v1/colors/BLACK/").json()["name_en"] == "Black"
    missing = read_client.get("/api/v1/colors/NOPE/")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


def test_storefront_keys_see_published_products_only(read_client, staff_client, demo_catalog):
    hidden = TileProduct.objects.filter(is_published=False).values_list("sku", flat=True)
    assert hidden
    seen = {p["sku"] for p in read_client.get("/api/v1/products/").json()["results"]}
    assert seen and not seen & set(hidden)
    assert read_client.get(f"/api/v1/products/{hidden[0]}/").status_code == 404
    everything = {p["sku"] for p in staff_client.get("/api/v1/products/").json()["results"]}
    assert set(hidden) <= everything


def test_products_filter_and_paginate_with_a_maximum_page_size(read_client, demo_catalog):
    bricks = read_client.get("/api/v1/products/?shape=brick").json()["results"]
    assert bricks and {p["shape"] for p in bricks} == {"brick"}
    page = read_client.get("/api/v1/products/?page_size=1").json()
    assert len(page["results"]) == 1 and page["next"]
    # Past the maximum is a 400 naming it (it used to be cut to the maximum silently).
    too_many = read_client.get("/api/v1/products/?page_size=100000")
    assert too_many.status_code == 400 and "1 to 100" in too_many.json()["error"]["message"]


def test_products_reject_ordering_on_undeclared_fields(read_client, demo_catalog):
    response = read_client.get("/api/v1/products/?ordering=-sku")
    skus = [p["sku"] for p in response.json()["results"]]
    assert skus == sorted(skus, reverse=True)


def test_create_recipe_from_list_and_read_it_back_canonical(render_client):
    body = {
        "name": "Autumn",
        "components": [{"color": "RED", "percent": 60}, {"color": "BLACK", "percent": 40}],
    }
    response = render_client.post("/api/v1/recipes/", body, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["canonical"] == "BLACK:40,RED:60"
    assert response["Location"].endswith(f"/api/v1/recipes/{created['id']}/")
    again = render_client.get(f"/api/v1/recipes/{created['id']}/").json()
    assert again["components"] == [
        {"color": "BLACK", "percent": 40},
        {"color": "RED", "percent": 60},
    ]


def test_create_recipe_from_the_string_form(render_client):
    response = render_client.post(
        "/api/v1/recipes/", {"name": "Mix", "components": "красный:70, black:30"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["canonical"] == "BLACK:30,RED:70"


BAD_RECIPES = [
    ([{"color": "RED", "percent": 59}, {"color": "BLACK", "percent": 40}], "sum to 99"),
    ([{"color": "RED", "percent": 0.6}, {"color": "BLACK", "percent": 0.4}], "fraction"),
    ([{"color": "REDD", "percent": 60}, {"color": "BLACK", "percent": 40}], "unknown colour"),
    ([{"color": "RED", "percent": 60}, {"color": "red", "percent": 40}], "listed twice"),
]


@pytest.mark.parametrize(("components", "expected"), BAD_RECIPES)
def test_bad_recipes_are_400_with_the_envelope_naming_the_problem(
    render_client, components, expected
):
    response = render_client.post(
        "/api/v1/recipes/", {"name": "Bad", "components": components}, format="json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert expected in error["message"]
    assert any(expected in m for m in error["fields"]["components"])
    assert not ColorRecipe.objects.exists()


def test_missing_name_is_named(render_client):
    response = render_client.post("/api/v1/recipes/", {"components": "RED:100"}, format="json")
    assert response.status_code == 400
    assert "name" in response.json()["error"]["fields"]


def test_malformed_json_is_400_in_the_envelope(render_client):
    response = render_client.post(
        "/api/v1/recipes/", data="{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_a_read_key_may_not_create(read_client):
    response = read_client.post(
        "/api/v1/recipes/", {"name": "X", "components": "RED:100"}, format="json"
    )
    assert response.status_code == 403
    assert "scope" in response.json()["error"]["message"]


def test_staff_session_may_create(staff_client):
    response = staff_client.post(
        "/api/v1/recipes/", {"name": "Staff mix", "components": "RED:100"}, format="json"
    )
    assert response.status_code == 201
    created_by = ColorRecipe.objects.get().created_by
    assert created_by is not None and created_by.username == "staff"


def test_recipes_list_filters_by_canonical(read_client, demo_catalog):
    results = read_client.get("/api/v1/recipes/?canonical=BLACK:40,RED:60").json()["results"]
    assert [r["name"] for r in results] == ["Autumn"]
