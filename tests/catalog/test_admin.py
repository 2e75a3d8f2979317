"""Staff edit recipes in the admin and get the API's messages for the same mistakes."""

from __future__ import annotations

import pytest

from catalog.models import ColorRecipe
from tests.catalog.test_api import BAD_RECIPES

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/catalog/colorrecipe/add/"


def recipe_form(name: str, rows: list[tuple[object, object]], total_forms: int = 3) -> dict:
    data = {
        "name": name,
        "components-TOTAL_FORMS": str(total_forms),
        "components-INITIAL_FORMS": "0",
        "components-MIN_NUM_FORMS": "0",
        "components-MAX_NUM_FORMS": "8",
    }
    for index, (color, percent) in enumerate(rows):
        data[f"components-{index}-color_name"] = str(color)
        data[f"components-{index}-percent_text"] = str(percent)
    return data


def test_add_page_renders_with_colour_suggestions(admin_client):
    page = admin_client.get(ADD_URL).content.decode()
    assert 'list="plitka-color-codes"' in page
    assert '<option value="RED">' in page


def test_staff_add_a_recipe_with_inline_components(admin_client):
    response = admin_client.post(ADD_URL, recipe_form("Autumn", [("red", 60), ("Чёрный", 40)]))
    assert response.status_code == 302, response.content.decode()[:2000]
    recipe = ColorRecipe.objects.get()
    assert recipe.canonical == "BLACK:40,RED:60"
    assert recipe.created_by is not None and recipe.created_by.username == "staff"
    change = admin_client.get(f"/admin/catalog/colorrecipe/{recipe.pk}/change/").content.decode()
    assert "100 %" in change


@pytest.mark.parametrize(("components", "expected"), BAD_RECIPES)
def test_admin_shows_the_same_messages_as_the_api(
    admin_client, render_client, components, expected
):
    rows = [(c["color"], c["percent"]) for c in components]
    page = admin_client.post(ADD_URL, recipe_form("Bad", rows))
    assert page.status_code == 200
    api = render_client.post(
        "/api/v1/recipes/", {"name": "Bad", "components": components}, format="json"
    ).json()["error"]["fields"]["components"]
    html = page.content.decode()
    for message in api:
        assert message.replace("'", "&#x27;") in html
    assert expected in html
    assert not ColorRecipe.objects.exists()


def test_editing_components_updates_the_canonical_form(admin_client):
    from catalog.selectors import recipe_validate
    from catalog.services import recipe_create

    recipe = recipe_create(name="Two", recipe=recipe_validate(value="RED:50,BLACK:50"))
    components = list(recipe.components.all())
    data = recipe_form("Two", [], total_forms=len(components))
    data["components-INITIAL_FORMS"] = str(len(components))
    for index, component in enumerate(components):
        data[f"components-{index}-id"] = str(component.pk)
        data[f"components-{index}-recipe"] = str(recipe.pk)
        data[f"components-{index}-color_name"] = component.color.code
        data[f"components-{index}-percent_text"] = "70" if component.color.code == "RED" else "30"
    response = admin_client.post(f"/admin/catalog/colorrecipe/{recipe.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    recipe.refresh_from_db()
    assert recipe.canonical == "BLACK:30,RED:70"


def test_colour_list_shows_swatches(admin_client):
    page = admin_client.get("/admin/catalog/color/").content.decode()
    assert "background:#D05042" in page or "RED" in page


def test_products_show_their_pictures_in_the_list_and_a_gallery_with_history(
    admin_client, demo_catalog, settings, tmp_path
):
    from catalog.models import TileProduct
    from catalog.services import catalog_image_replace

    settings.MEDIA_ROOT = tmp_path
    product = TileProduct.objects.get(sku="SQ-500-30")
    for job in (1, 2):  # the second replaces the first: one shown, one in the history
        catalog_image_replace(
            product=product,
            recipe_canonical="BLACK:40,RED:60",
            view="top",
            angle=0,
            image_name=f"renders/x/{job}.png",
            thumbnail_name=f"renders/x/{job}.thumb.webp",
            width=256,
            height=256,
            render_key=f"k{job}",
            render_job_id=None,
            fidelity={"max_share_error_pp": 0.4},
        )
    listing = admin_client.get("/admin/catalog/tileproduct/").content.decode()
    assert "renders/x/2.thumb.webp" in listing
    page = admin_client.get(f"/admin/catalog/tileproduct/{product.pk}/change/").content.decode()
    assert "Pictures shown now" in page and "Shown before" in page
    shown, before = page.split("Shown before", 1)
    assert "renders/x/2.png" in shown and "share error 0.4 pp" in shown
    assert "renders/x/1.png" in before
