"""Staff analyse a photo in the admin (issue 13, item 5) in headless Chromium, with a real
worker: upload, the page follows the analysis, then the colours, the check and a recipe."""

from __future__ import annotations

import pytest
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

    # The page reloads itself until the worker is done.
    table = WebDriverWait(browser, 120).until(
        lambda b: (b.find_elements(By.CSS_SELECTOR, ".field-colours_table table") or [None])[0]
    )
    assert "RED" in table.text and "BLACK" in table.text
    assert "pass" in browser.find_element(By.CSS_SELECTOR, ".field-recipe_check").text
    save_screenshot(browser, "colour-analysis.png")

    browser.find_element(By.CSS_SELECTOR, "form[action$='/make-recipe/'] button").click()
    WebDriverWait(browser, 30).until(lambda b: "/admin/catalog/colorrecipe/" in b.current_url)
    made = ColorRecipe.objects.get(name__startswith="From photo")
    shares = dict(part.split(":") for part in made.canonical.split(","))
    assert set(shares) == {"RED", "BLACK"} and abs(int(shares["RED"]) - 60) <= 3, made
