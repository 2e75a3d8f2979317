"""The recipe editor (issue 12, item 2) in headless Chromium, against a live server and a
real Celery worker: swatches fill the rows, the running sum, and the live preview."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from catalog.models import ColorRecipe
from tests.browser.test_pages import save_screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def test_swatches_the_running_sum_and_a_live_preview(
    staff_browser, live_server, celery_worker_live
):
    browser = staff_browser
    browser.get(f"{live_server.url}/admin/catalog/colorrecipe/add/")
    wait = WebDriverWait(browser, 40)
    swatches = wait.until(
        lambda b: b.find_elements(By.CSS_SELECTOR, "#recipe-palette button") or None
    )
    assert len(swatches) == 29
    assert "Красный" in browser.find_element(By.CSS_SELECTOR, "button[data-code=RED]").text

    browser.find_element(By.NAME, "name").send_keys("Sunset")
    browser.find_element(By.CSS_SELECTOR, "#recipe-palette button[data-code=RED]").click()
    browser.find_element(By.NAME, "components-0-percent_text").send_keys("70")
    total = browser.find_element(By.ID, "recipe-sum")
    assert total.text == "Sum: 70 % (30 to go)"
    # A name typed in Russian is found too; its chip shows the colour.
    browser.find_element(By.NAME, "components-1-color_name").send_keys("Желтый")
    browser.find_element(By.NAME, "components-1-percent_text").send_keys("30")
    assert total.text == "Sum: 100 %"
    names = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".recipe-chip-name")]
    assert names[:2] == ["Red / Красный", "Yellow / Желтый"]

    # The mix is complete: a 256 px preview is rendered through the API by the worker.
    image = WebDriverWait(browser, 120).until(
        ec.visibility_of_element_located((By.ID, "preview-image"))
    )
    WebDriverWait(browser, 30).until(
        lambda b: b.execute_script("return arguments[0].naturalWidth", image) == 256
    )
    assert "RED:70,YELLOW:30" in browser.find_element(By.ID, "preview-status").text
    save_screenshot(browser, "recipe-editor.png")

    browser.find_element(By.NAME, "_save").click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".messagelist")))
    assert ColorRecipe.objects.get(name="Sunset").canonical == "RED:70,YELLOW:30"
