"""List parameters are strict: an unknown sort field, a page size out of bounds or a filter
value outside its choices is a 400 naming what is allowed (each was silently ignored or
clamped before, so a typo returned something else than asked, with a 200)."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("url", "parameter", "names"),
    [
        ("/api/v1/products/?ordering=sku,-nope", "ordering", "-width_mm"),
        ("/api/v1/renders/?ordering=attempts", "ordering", "finished_at"),
        ("/api/v1/products/?page_size=101", "page_size", "1 to 100"),
        ("/api/v1/products/?page_size=0", "page_size", "1 to 100"),
        ("/api/v1/products/?page_size=2.5", "page_size", "1 to 100"),
        ("/api/v1/products/?is_published=null", "is_published", "true"),
        ("/api/v1/renders/?view=sideways", "view", "perspective"),
        ("/api/v1/renders/?engine=magic", "engine", "procedural"),
    ],
)
def test_a_bad_list_parameter_is_a_400_naming_what_is_allowed(
    render_client, demo_catalog, url, parameter, names
):
    answer = render_client.get(url)
    assert answer.status_code == 400, answer.content
    assert names in " ".join(answer.json()["error"]["fields"][parameter])


def test_good_list_parameters_still_sort_page_and_filter(render_client, demo_catalog):
    answer = render_client.get("/api/v1/products/?ordering=-width_mm,sku&page_size=2")
    assert answer.status_code == 200
    widths = [product["width_mm"] for product in answer.json()["results"]]
    assert len(widths) == 2 and widths == sorted(widths, reverse=True)
    published = render_client.get("/api/v1/products/?is_published=true&shape=")
    assert published.status_code == 200 and published.json()["count"] >= 1  # empty: no filter
    assert render_client.get("/api/v1/renders/?view=perspective").status_code == 200


def test_the_schema_names_the_choices(render_client):
    schema = render_client.get("/api/schema/?format=json").json()
    products = {p["name"]: p for p in schema["paths"]["/api/v1/products/"]["get"]["parameters"]}
    assert "-created_at" in products["ordering"]["schema"]["enum"]
    assert products["is_published"]["schema"] == {"type": "boolean"}
    renders = {p["name"]: p for p in schema["paths"]["/api/v1/renders/"]["get"]["parameters"]}
    assert renders["view"]["schema"]["enum"] == ["perspective", "top"]
    submit = schema["paths"]["/api/v1/renders/"]["post"]["requestBody"]["content"]
    assert list(submit) == ["application/json"]
