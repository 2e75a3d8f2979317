"""Staff analyse a photo in the admin (issue 13, item 5) in headless Chromium, with a real
worker: upload, the page follows the analysis, then the colours, the check and a recipe."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from catalog.models import ColorRecipe
from tests.browser.test_pages import save_screenshot
from tests.renders.test_commands import rendered

pytestmark = pytest.mark.django_db(transaction=True)


def test_upload_a_photo_see_its_colours_and_make_a_recipe(
    staff_browser, live_server, celery_worker_live, tmp_path
):
    browser = staff_browser
    photo = rendered(tmp_path, "RED:60,BLACK:40", size=1024)
    browser.get(f"{live_server.url}/admin/renders/colouranalysis/")
    browser.find_element(By.CSS_SELECTOR, "a[href$='/colouranalysis/analyse/']").click()
    browser.find_element(By.NAME, "image").send_keys(str(photo))
    browser.find_element(By.NAME, "recipe").send_keys("RED:60,BLACK:40")
    browser.find_element(By.CSS_SELECTOR, "#analyse-form input[type=submit]").click()

    # The page reloads itself until the worker is done (the recipe's rows show from the
    # start; the check once measured).
    WebDriverWait(browser, 120).until(
        lambda b: "pass" in b.find_element(By.CSS_SELECTOR, ".field-recipe_check").text
    )
    table = browser.find_element(By.CSS_SELECTOR, ".field-colours_table table")
    assert "RED" in table.text and "BLACK" in table.text
    # The photo, its tile mask and its colour map, loaded; each colour row beside the recipe.
    figures = browser.find_elements(
        By.CSS_SELECTOR, ".analysis-picture img, .analysis-picture canvas"
    )
    assert len(figures) == 3
    assert all(
        browser.execute_script("return arguments[0].naturalWidth ?? arguments[0].width", f) > 0
        for f in figures
    )
    assert "60 %" in table.text  # RED's share in the recipe
    save_screenshot(browser, "colour-analysis.png")
    # Pointing at RED's row shows only RED in the colour map (the picture became a canvas).
    red = browser.find_element(By.CSS_SELECTOR, ".analysis-colours tr[data-rgb='208,80,66']")
    ActionChains(browser).move_to_element(red).perform()
    colour_map = WebDriverWait(browser, 10).until(
        lambda b: b.find_element(By.CSS_SELECTOR, "canvas[data-picked-pixels]")
    )
    picked = int(colour_map.get_attribute("data-picked-pixels"))
    width, height = browser.execute_script(
        "return [arguments[0].width, arguments[0].height]", colour_map
    )
    assert 0.3 < picked / (width * height) < 0.7, picked  # RED, 60 % of the tile's face
    save_screenshot(browser, "colour-analysis-red-picked.png")

    browser.find_element(By.CSS_SELECTOR, "form[action$='/make-recipe/'] button").click()
    WebDriverWait(browser, 30).until(lambda b: "/admin/catalog/colorrecipe/" in b.current_url)
    made = ColorRecipe.objects.get(name__startswith="From photo")
    shares = dict(part.split(":") for part in made.canonical.split(","))
    assert set(shares) == {"RED", "BLACK"} and abs(int(shares["RED"]) - 60) <= 3, made
