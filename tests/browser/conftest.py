"""A real headless Chromium driven through chromedriver (Debian's chromium packages)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


def _chromium(*, language: str = "en-US") -> Iterator[Any]:
    """A headless Chromium whose pages ask for `language` (Accept-Language)."""
    if not (CHROMIUM and CHROMEDRIVER):
        message = "needs chromium and chromium-driver (apt-get install chromium chromium-driver)"
        if os.environ.get("PLITKA_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    options.add_experimental_option("prefs", {"intl.accept_languages": language})
    profile = tempfile.mkdtemp(prefix="plitka-chromium-")
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1600",
        f"--lang={language}",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    yield from _chromium()


@pytest.fixture(scope="session")
def russian_browser() -> Iterator[Any]:
    """Chromium as a member of staff in Russia has it: asking for Russian pages."""
    yield from _chromium(language="ru-RU,ru")


# A real Celery worker (in a thread of this process) for pages that render through the API.
from tests.renders.conftest import broker, broker_url, celery_worker_live  # noqa: E402, F401


@pytest.fixture
def staff_browser(
    browser: Any, live_server: Any, staff_user: Any, settings: Any, tmp_path: Any
) -> Any:
    """Chromium signed in as staff at 1440 px, with media stored and served from a fresh
    folder by the live server."""
    from tests.browser.test_pages import login

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SERVE_MEDIA = True
    login(browser, live_server, "staff", "staff-pass-123")
    browser.set_window_size(1440, 1000)
    return browser
