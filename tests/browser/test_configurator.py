"""The storefront configurator (issue 12, item 5) in headless Chromium, against a live
server and a real Celery worker: from a mix to the picture and its measured accuracy."""

from __future__ import annotations

import time

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from renders.models import RenderJob
from tests.browser.test_pages import save_screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def shares(browser) -> list[int]:
    outputs = browser.find_elements(By.CSS_SELECTOR, "#mix output")
    return [int(output.text.removesuffix(" %")) for output in outputs]


def test_from_a_mix_to_the_picture_and_its_accuracy(staff_browser, live_server, celery_worker_live):
    browser = staff_browser
    browser.get(f"{live_server.url}/configurator/")
    wait = WebDriverWait(browser, 40)
    wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "#mix li")) == 2)
    assert len(browser.find_elements(By.CSS_SELECTOR, "#palette button")) == 29
    assert shares(browser) == [60, 40]

    # A third colour takes its share from the others; the sum stays 100.
    browser.find_element(By.CSS_SELECTOR, "#palette button[data-code=YELLOW]").click()
    assert len(shares(browser)) == 3 and sum(shares(browser)) == 100
    # Dragging RED to 70 rescales the other two in proportion, in whole percents.
    browser.execute_script(
        "const s = document.querySelector('#mix li input');"
        "s.value = 70; s.dispatchEvent(new Event('input'));"
    )
    assert shares(browser)[0] == 70 and sum(shares(browser)) == 100
    assert "sum 100 %" in browser.find_element(By.ID, "mix-sum").text
    browser.find_element(By.CSS_SELECTOR, "select#size option[value='512']").click()

    browser.find_element(By.ID, "render").click()
    wait.until(ec.visibility_of_element_located((By.ID, "progress")))
    picture = WebDriverWait(browser, 120).until(
        ec.visibility_of_element_located((By.ID, "picture-img"))
    )
    WebDriverWait(browser, 30).until(
        lambda b: b.execute_script("return arguments[0].naturalWidth", picture) == 512
    )
    rows = browser.find_elements(By.CSS_SELECTOR, "#accuracy tbody tr")
    recipe_column = sorted(r.find_elements(By.TAG_NAME, "td")[1].text for r in rows)
    assert recipe_column == sorted(f"{p} %" for p in shares(browser))
    assert all(r.find_elements(By.TAG_NAME, "td")[2].text.endswith(" %") for r in rows)
    assert "Largest share error" in browser.find_element(By.ID, "accuracy-summary").text
    assert "Rendered in" in browser.find_element(By.ID, "message").text
    save_screenshot(browser, "configurator.png")

    # The same request again is answered at once: the render is shared, not made again.
    started = time.monotonic()
    browser.find_element(By.ID, "render").click()
    WebDriverWait(browser, 10).until(
        lambda b: "answered at once" in b.find_element(By.ID, "message").text
    )
    assert time.monotonic() - started < 5
    assert RenderJob.objects.count() == 1


def test_without_a_session_it_asks_for_an_api_key(browser, live_server, db):
    browser.delete_all_cookies()
    browser.get(f"{live_server.url}/configurator/")
    row = WebDriverWait(browser, 20).until(ec.visibility_of_element_located((By.ID, "key-row")))
    assert row.find_element(By.ID, "api-key")
