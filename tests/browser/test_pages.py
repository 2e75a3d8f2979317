"""What people see: the API docs render offline, the admin shows a render with its chart."""

from __future__ import annotations

import os
from typing import Any

import pytest
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from catalog.models import TileProduct
from gpu_worker.params import RenderParams
from renders.models import RenderJob
from renders.services import Requester, render_job_submit
from renders.worker.execute import render_job_execute
from tests.loopback import ROOT

pytestmark = pytest.mark.django_db(transaction=True)
# Screenshots are kept as the suite's artifacts, to look at after a run.
SCREENSHOTS = ROOT / os.environ.get("PLITKA_VAR_DIR", "var") / "screenshots"


def save_screenshot(browser, name: str, *, width: int = 1440) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.set_window_size(width, 1000)
    browser.save_screenshot(str(SCREENSHOTS / name))


def login(browser, live_server, username: str, password: str) -> None:
    browser.get(f"{live_server.url}/admin/login/")
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    # The login page has the site's name too: wait for what only a signed-in page has, or
    # the next navigation may cancel the login still on its way.
    WebDriverWait(browser, 40).until(ec.presence_of_element_located((By.ID, "user-tools")))


def test_api_docs_render_every_endpoint_without_a_cdn(browser, live_server):
    browser.get(f"{live_server.url}/api/docs/")
    WebDriverWait(browser, 30).until(
        ec.presence_of_all_elements_located((By.CSS_SELECTOR, ".opblock-summary-path"))
    )
    paths = {
        e.text.replace("\u200b", "")
        for e in browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")
    }
    assert {"/api/v1/colors/", "/api/v1/renders/", "/api/v1/renders/{id}/cancel/"} <= paths
    scripts = [s.get_attribute("src") or "" for s in browser.find_elements(By.TAG_NAME, "script")]
    assert all(src.startswith(live_server.url) or not src for src in scripts), scripts


def test_admin_render_detail_shows_the_picture_and_the_resource_chart(
    browser, live_server, staff_user, demo_catalog, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SERVE_MEDIA = True
    requester = Requester(client_id="t", label="t", source="cli", sees_unpublished=True)
    job = render_job_submit(
        product_sku="PZ-500-30",
        recipe="RED:60,BLACK:40",
        requester=requester,
        params=RenderParams(size=512, view="perspective", angle=30),
    ).job
    assert render_job_execute(job_id=job.pk, worker_name="w1") == "succeeded"

    login(browser, live_server, "staff", "staff-pass-123")
    browser.get(f"{live_server.url}/admin/renders/renderjob/")
    thumbnail = WebDriverWait(browser, 40).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, ".field-preview img"))
    )
    assert browser.execute_script("return arguments[0].naturalWidth", thumbnail) > 0

    browser.get(f"{live_server.url}/admin/renders/renderjob/{job.pk}/change/")
    picture = WebDriverWait(browser, 40).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, ".field-preview_large img"))
    )
    assert browser.execute_script("return arguments[0].naturalWidth", picture) > 0
    save_screenshot(browser, "render-job.png")
    charts = browser.find_elements(By.CSS_SELECTOR, ".field-timeline_plot svg polyline")
    assert charts
    fidelity = browser.find_element(By.CSS_SELECTOR, ".field-fidelity_pretty").text
    assert "RED" in fidelity and "pass" in fidelity


def test_an_experiments_contact_sheet_shows_every_cell_and_adopts_the_winners(
    browser, live_server, staff_user, demo_catalog, settings, tmp_path, monkeypatch
):
    from django.core.management import call_command

    from gpu_worker.engines.diffusion.models import ALLOW_CPU_ENV
    from gpu_worker.engines.diffusion.tiny import controlnet_from_unet_save, tiny_sdxl_save
    from renders.models import Experiment, ModelProfile

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SERVE_MEDIA = True
    settings.RENDER_ENGINES_ENABLED = ["procedural", "hybrid"]
    monkeypatch.setenv(ALLOW_CPU_ENV, "1")
    model = tiny_sdxl_save(tmp_path / "tiny-sdxl")
    ModelProfile.objects.create(
        name="tiny",
        base_model=str(model),
        controlnets={"canny": str(controlnet_from_unet_save(model, tmp_path / "tiny-canny"))},
        preset_steps={"draft": 4},
    )
    call_command(
        *("experiment", "--profile", "tiny", "--product", "SQ-500-30", "--recipe", "Autumn"),
        *("--angles", "0,45", "--controls", "off,canny", "--scales", "0.4,0.8"),
        *("--size", "256", "--quality", "draft", "--here"),
    )
    experiment = Experiment.objects.get()

    login(browser, live_server, "staff", "staff-pass-123")
    browser.get(f"{live_server.url}/admin/renders/experiment/{experiment.pk}/change/")
    try:
        sheet = WebDriverWait(browser, 40).until(
            ec.presence_of_element_located((By.CSS_SELECTOR, ".experiment-sheet"))
        )
    except TimeoutException as exc:  # say where the browser was instead
        raise AssertionError(f"no contact sheet at {browser.current_url}: {browser.title}") from exc
    assert len(sheet.find_elements(By.CSS_SELECTOR, "td img")) == 6
    loaded = "return [...arguments[0].querySelectorAll('td img')].every(i => i.naturalWidth > 0)"
    WebDriverWait(browser, 40).until(lambda b: b.execute_script(loaded, sheet))
    assert len(sheet.find_elements(By.XPATH, ".//strong[text()='winner']")) == 2
    browser.save_screenshot(str(tmp_path / "experiment.png"))
    browser.find_element(By.XPATH, "//button[starts-with(text(), 'Adopt winners')]").click()
    message = WebDriverWait(browser, 40).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, ".messagelist .success"))
    )
    assert "Profile tiny now picks" in message.text
    assert [row["up_to"] for row in ModelProfile.objects.get().control_by_angle] == [22, 202, 359]


def test_a_product_page_shows_its_pictures_and_the_list_a_thumbnail(
    browser, live_server, staff_user, demo_catalog, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SERVE_MEDIA = True
    requester = Requester(client_id="t", label="t", source="cli", sees_unpublished=True)
    for view, angle in (("top", 0), ("perspective", 30), ("perspective", 210)):
        job = render_job_submit(
            product_sku="PZ-500-30",
            recipe="RED:60,BLACK:40",
            requester=requester,
            params=RenderParams(size=256, view=view, angle=angle),
        ).job
        assert render_job_execute(job_id=job.pk, worker_name="w1") == "succeeded"

    login(browser, live_server, "staff", "staff-pass-123")
    browser.get(f"{live_server.url}/admin/catalog/tileproduct/")
    cover = WebDriverWait(browser, 40).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, ".field-cover img"))
    )
    assert browser.execute_script("return arguments[0].naturalWidth", cover) > 0
    product = TileProduct.objects.get(sku="PZ-500-30")
    browser.get(f"{live_server.url}/admin/catalog/tileproduct/{product.pk}/change/")
    cards = WebDriverWait(browser, 40).until(
        ec.presence_of_all_elements_located((By.CSS_SELECTOR, ".field-gallery figure img"))
    )
    assert len(cards) == 3
    assert all(browser.execute_script("return arguments[0].naturalWidth", c) > 0 for c in cards)
    save_screenshot(browser, "product-gallery.png")


def test_the_job_list_fits_a_1280_px_screen(
    browser, live_server, staff_user, demo_catalog, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SERVE_MEDIA = True
    requester = Requester(client_id="t", label="storefront-main", source="api")
    job = render_job_submit(
        product_sku="BR-300-150-45",
        recipe="RED:40,BLACK:20,WHITE:20,YELLOW:20",
        requester=requester,
        params=RenderParams(size=256, view="perspective", angle=210),
    ).job
    assert render_job_execute(job_id=job.pk, worker_name="render1@gpu-host-1") == "succeeded"
    login(browser, live_server, "staff", "staff-pass-123")
    browser.set_window_size(1280, 900)
    browser.get(f"{live_server.url}/admin/renders/renderjob/")
    results = WebDriverWait(browser, 40).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "#changelist .results"))
    )
    width, room = browser.execute_script(
        "return [arguments[0].scrollWidth, arguments[0].clientWidth]", results
    )
    assert width <= room, f"the job list needs {width} px and has {room}"
    save_screenshot(browser, "render-jobs-1280.png", width=1280)


def test_the_operations_dashboard_is_linked_from_the_index_and_draws_its_charts(
    browser, live_server, staff_user, demo_catalog, settings, tmp_path
):
    from renders.services.transitions import job_mark_failed

    settings.MEDIA_ROOT = tmp_path / "media"
    requester = Requester(client_id="t", label="t", source="cli", sees_unpublished=True)
    for seed in range(4):
        job = render_job_submit(
            product_sku="SQ-500-30",
            recipe="RED:60,BLACK:40",
            requester=requester,
            params=RenderParams(size=256, seed=seed),
        ).job
        if seed == 3:
            job_mark_failed(job, code="engine_error", message="a test failure")
        else:
            assert render_job_execute(job_id=job.pk, worker_name="render1@gpu-1") == "succeeded"
    login(browser, live_server, "staff", "staff-pass-123")
    browser.get(f"{live_server.url}/admin/")
    browser.find_element(By.LINK_TEXT, "Operations dashboard").click()
    page = WebDriverWait(browser, 40).until(ec.presence_of_element_located((By.ID, "operations")))
    bars = browser.find_elements(By.CSS_SELECTOR, "#operations svg rect[fill='#2e7d32']")
    assert bars, "no bar for today's succeeded renders"
    text = page.text
    assert "engine_error" in text and "render1@gpu-1" in text and "procedural" in text
    assert "1 of 4 finished" in text
    save_screenshot(browser, "operations-dashboard.png")


def test_progress_bars_move_by_themselves_on_the_list_and_the_job_page(
    browser, live_server, staff_user, demo_catalog
):
    """A running job's bar follows its progress without a click: both pages reload
    themselves while a job they show is on its way, and stop once it is done."""
    requester = Requester(client_id="t", label="t", source="cli", sees_unpublished=True)
    job = render_job_submit(
        product_sku="SQ-500-30",
        recipe="RED:60,BLACK:40",
        requester=requester,
        params=RenderParams(size=256),
    ).job
    RenderJob.objects.filter(pk=job.pk).update(status="running", progress=20)
    login(browser, live_server, "staff", "staff-pass-123")

    def shows(selector: str, value: int) -> None:
        def found(b: Any) -> bool:
            return b.find_element(By.CSS_SELECTOR, selector).get_attribute("value") == str(value)

        WebDriverWait(browser, 20).until(found)

    for url, selector in (
        ("/admin/renders/renderjob/", ".field-status_progress progress"),
        (f"/admin/renders/renderjob/{job.pk}/change/", ".field-progress_bar progress"),
    ):
        browser.get(f"{live_server.url}{url}")
        shows(selector, 20)
        RenderJob.objects.filter(pk=job.pk).update(progress=70)
        shows(selector, 70)  # after the page's own reload, no click
        RenderJob.objects.filter(pk=job.pk).update(progress=20)
    save_screenshot(browser, "render-job-running.png")
