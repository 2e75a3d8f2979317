"""Staff whose browser asks for Russian get the admin, the dashboard and the configurator
in Russian (issue 12, item 8), in a real Chromium."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.test_pages import login, save_screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_admin_dashboard_and_configurator_in_russian(
    russian_browser, live_server, staff_user, demo_catalog
):
    browser = russian_browser
    login(browser, live_server, "staff", "staff-pass-123")
    assert "рендеры" in browser.find_element(By.ID, "content").text.lower()
    browser.find_element(By.LINK_TEXT, "Панель эксплуатации").click()
    page = WebDriverWait(browser, 30).until(ec.presence_of_element_located((By.ID, "operations")))
    assert "Завершено за последний час" in page.text
    save_screenshot(browser, "operations-dashboard-ru.png")

    browser.get(f"{live_server.url}/configurator/")
    WebDriverWait(browser, 30).until(
        lambda b: len(b.find_elements(By.CSS_SELECTOR, "#mix li")) == 2
    )
    assert browser.find_element(By.TAG_NAME, "h1").text == "Конфигуратор плитки"
    assert "сумма 100 %" in browser.find_element(By.ID, "mix-sum").text  # from the script
    save_screenshot(browser, "configurator-ru.png")
