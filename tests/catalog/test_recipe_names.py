"""Recipe names are unique ignoring case, an identical mix under another name is pointed
out, and "render this recipe" renders chosen products and views (issue 12, item 2)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from catalog.models import ColorRecipe, TileProduct
from renders.models import RenderJob
from tests.catalog.test_admin import ADD_URL, recipe_form


def create(client: Any, name: str, components: str = "RED:60,BLACK:40") -> Any:
    return client.post("/api/v1/recipes/", {"name": name, "components": components}, format="json")


@pytest.mark.parametrize(("first", "second"), [("Autumn", "autumn"), ("Осень", "ОСЕНЬ ")])
def test_the_api_refuses_a_name_taken_ignoring_case_with_409(render_client, first, second):
    made = create(render_client, first)
    assert made.status_code == 201
    again = create(render_client, second, "WHITE:100")
    assert again.status_code == 409
    error = again.json()["error"]
    assert error["code"] == "name_taken"
    assert f"a recipe named {first!r} exists already (id {made.json()['id']})" in error["message"]
    assert ColorRecipe.objects.count() == 1


def test_the_api_points_out_the_same_mix_under_another_name(render_client):
    first = create(render_client, "Autumn").json()
    assert first["same_mix_as"] == []
    second = create(render_client, "Fall", "black:40, red:60").json()
    assert second["same_mix_as"] == [{"id": first["id"], "name": "Autumn"}]


def test_the_admin_refuses_a_taken_name_and_warns_of_the_same_mix(admin_client):
    assert admin_client.post(ADD_URL, recipe_form("Autumn", [("RED", 60), ("BLACK", 40)]))
    page = admin_client.post(ADD_URL, recipe_form("AUTUMN", [("WHITE", 100)]))
    assert page.status_code == 200
    assert "“Autumn” exists already (names are compared ignoring case)" in page.content.decode()
    saved = admin_client.post(
        ADD_URL, recipe_form("Fall", [("red", 60), ("black", 40)]), follow=True
    )
    assert "The same mix (BLACK:40,RED:60) is also stored as “Autumn”." in saved.content.decode()
    fall = ColorRecipe.objects.get(name="Fall")
    change = admin_client.get(f"/admin/catalog/colorrecipe/{fall.pk}/change/").content.decode()
    assert "Same mix as" in change and ">Autumn</a>" in change
    # The editor's script and its palette (29 swatches with both names) are on the page.
    assert "plitka/recipe_editor.js" in change and 'id="plitka-palette"' in change
    assert "Render this recipe" in change


def test_render_this_recipe_renders_the_chosen_products_and_views(
    admin_client, demo_catalog, broker, django_capture_on_commit_callbacks
):
    recipe = ColorRecipe.objects.get(name="Autumn")
    url = "/admin/catalog/colorrecipe/"
    chooser = admin_client.post(url, {"action": "render_recipes", "_selected_action": [recipe.pk]})
    assert chooser.status_code == 200 and b"perspective 45" in chooser.content
    with django_capture_on_commit_callbacks(execute=True):
        done = admin_client.post(
            url,
            {
                "action": "render_recipes",
                "_selected_action": [recipe.pk],
                "apply": "1",
                "products": [
                    TileProduct.objects.get(sku=sku).pk for sku in ("SQ-500-30", "PZ-500-30")
                ],
                "views": ["top:0", "perspective:90"],
                "size": "256",
            },
            follow=True,
        )
    assert "Queued 4 new render(s)" in done.content.decode()
    jobs = RenderJob.objects.all()
    assert {(j.product.sku, j.params["view"], j.params["angle"]) for j in jobs} == {
        (sku, view, angle)
        for sku in ("SQ-500-30", "PZ-500-30")
        for view, angle in (("top", 0), ("perspective", 90))
    }
    assert {j.queue for j in jobs} == {"batch"}


def test_the_migration_renames_copies_and_keeps_the_first(migrate: Callable[..., Any]):
    apps = migrate([("catalog", "0003_catalog_image_fidelity")])
    recipes = apps.get_model("catalog", "ColorRecipe")
    for name in ("Autumn", "autumn", "Autumn", "Autumn (2)", "Spring"):
        recipes.objects.create(name=name, canonical="RED:100")
    migrate([("catalog", "0004_recipe_names_unique")])
    names = list(ColorRecipe.objects.order_by("pk").values_list("name", flat=True))
    assert names == ["Autumn", "autumn (3)", "Autumn (4)", "Autumn (2)", "Spring"]


def test_the_demo_catalog_loads_again_over_a_recipe_renamed_in_another_case(demo_catalog):
    from catalog.services import demo_catalog_load

    ColorRecipe.objects.filter(name="Autumn").update(name="autumn")
    demo_catalog_load()  # make run does this at every start
    assert ColorRecipe.objects.filter(name__iexact="autumn").count() == 1
