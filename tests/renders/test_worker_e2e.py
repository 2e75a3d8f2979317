"""End to end: API -> Redis -> a real Celery worker -> media, catalog and telemetry."""

from __future__ import annotations

import io
import itertools
import time

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from catalog.models import CatalogImage
from gpu_worker.params import RenderParams
from renders.models import RenderJob, RenderTelemetry, Worker
from tests.renders.conftest import wait_for

BODY = {
    "product": "SQ-500-30",
    "recipe": "RED:60,BLACK:40",
    "view": "perspective",
    "angle": 30,
    "size": 320,
    "seed": 11,
}


def job_status(client, job_id):
    body = client.get(f"/api/v1/renders/{job_id}/").json()
    assert "status" in body, body
    return body


def test_submit_poll_and_fetch_the_png(celery_worker_live, render_client):
    response = render_client.post("/api/v1/renders/", BODY, format="json")
    assert response.status_code == 201, response.content
    job_id = response.json()["id"]
    seen_progress = set()

    def finished():
        """the job to finish"""
        body = job_status(render_client, job_id)
        seen_progress.add(body["progress"])
        return body if body["status"] in {"succeeded", "failed", "canceled"} else None

    body = wait_for(finished)
    assert body["status"] == "succeeded", body["error"]
    assert body["progress"] == 100
    assert body["attempts"] == 1
    assert body["worker"] == ""  # where it ran is for staff only
    assert RenderJob.objects.get(pk=job_id).worker
    assert body["device"]

    # The PNG is in media at the right size, with a thumbnail beside it.
    result = body["result"]
    assert (result["width"], result["height"]) == (320, 320)
    job = RenderJob.objects.get(pk=job_id)
    image_name = job.result_image.name
    assert image_name is not None
    with default_storage.open(image_name) as handle:
        picture = Image.open(io.BytesIO(handle.read()))
        assert picture.format == "PNG"
        assert picture.size == (320, 320)
    assert result["image"].endswith(".png")
    assert result["thumbnail"].endswith(".webp")
    assert image_name.split("/")[-1].removesuffix(".png") in image_name
    assert render_client.get(result["image"]).status_code == 200

    # The catalog shows it for that product, recipe, view and angle.
    image = CatalogImage.objects.get(is_current=True)
    assert (image.product.sku, image.recipe_canonical, image.view, image.angle) == (
        "SQ-500-30",
        "BLACK:40,RED:60",
        "perspective",
        30,
    )
    assert image.render_job_id == job.pk
    assert image.render_key == job.render_key

    # Telemetry and colour fidelity are recorded.
    telemetry = RenderTelemetry.objects.get(job=job)
    assert telemetry.total_s is not None and telemetry.total_s > 0
    assert telemetry.engine_render_s is not None and telemetry.engine_render_s > 0
    assert telemetry.queue_wait_s is not None and telemetry.queue_wait_s >= 0
    assert telemetry.time_to_first_progress_s is not None
    assert telemetry.timeline
    times = [sample["t"] for sample in telemetry.timeline]
    assert all(later - earlier <= 2.0 for earlier, later in itertools.pairwise(times))
    assert telemetry.device_name == job.device
    assert "numpy" in telemetry.versions
    assert body["telemetry"]["total_s"] == pytest.approx(telemetry.total_s)
    assert set(body["fidelity"]) >= {"shares", "max_share_error_pp", "delta_e00"}
    assert set(body["fidelity"]["shares"]) >= {"RED", "BLACK"}

    # The worker reported itself.
    worker = Worker.objects.get(name=job.worker)
    assert worker.current_job_id is None


def test_a_hybrid_render_with_the_tiny_model_through_the_api(
    celery_worker_live, render_client, staff_client, settings, monkeypatch, tmp_path
):
    from gpu_worker.engines.diffusion.models import ALLOW_CPU_ENV, model_revision
    from gpu_worker.engines.diffusion.tiny import tiny_sdxl_save

    model = tiny_sdxl_save(tmp_path / "tiny-sdxl")
    settings.RENDER_ENGINES_ENABLED = ["procedural", "hybrid"]
    monkeypatch.setenv(ALLOW_CPU_ENV, "1")  # the worker runs in this process
    body = {**BODY, "size": 256, "engine": "hybrid", "options": {"model": str(model), "steps": 4}}
    response = render_client.post("/api/v1/renders/", body, format="json")
    assert response.status_code == 201, response.content
    job_id = response.json()["id"]
    done = wait_for(
        lambda: (b := job_status(render_client, job_id))["status"] in {"succeeded", "failed"} and b
    )
    assert done["status"] == "succeeded", done["error"]
    assert done["engine"] == "hybrid"
    assert done["model_revision"] == model_revision(model)
    # Fidelity before and after the colour correction, and the job's telemetry.
    fidelity = done["fidelity"]
    assert fidelity["max_share_error_pp"] <= 1.0
    assert set(fidelity["before_correction"]["shares"]) == {"RED", "BLACK"}
    telemetry = RenderTelemetry.objects.get(job_id=job_id)
    assert telemetry.engine_render_s is not None and telemetry.engine_render_s > 0
    assert telemetry.timeline
    assert "torch" in telemetry.versions
    # The worker says which model it keeps loaded.
    worker = Worker.objects.get(name=RenderJob.objects.get(pk=job_id).worker)
    assert {"model": str(model.resolve()), "revision": model_revision(model)} in [
        {"model": p["model"], "revision": p["revision"]} for p in worker.loaded_pipelines
    ]
    rows = staff_client.get("/api/v1/workers/").json()
    assert any(row["loaded_pipelines"] for row in rows)


def test_a_second_render_for_the_same_slot_keeps_the_first_in_history(
    celery_worker_live, render_client
):
    first = render_client.post("/api/v1/renders/", BODY, format="json").json()["id"]
    wait_for(lambda: job_status(render_client, first)["status"] == "succeeded")
    second = render_client.post("/api/v1/renders/", {**BODY, "seed": 12}, format="json").json()
    wait_for(lambda: job_status(render_client, second["id"])["status"] == "succeeded")
    images = CatalogImage.objects.order_by("created_at")
    assert [i.is_current for i in images] == [False, True]
    assert images[0].superseded_at is not None
    assert str(images[1].render_job_id) == second["id"]


def test_interactive_work_is_taken_before_batch(transactional_db, broker, demo_catalog):
    """With both queues waiting, the worker drains render.interactive first."""
    from celery.contrib.testing.worker import start_worker

    from plitka_site.celery import app
    from renders.services import Requester, render_job_submit

    requester = Requester(client_id="t", label="t", source="cli", sees_unpublished=True)
    batch = [
        render_job_submit(
            product_sku="SQ-500-30",
            recipe="RED:100",
            requester=requester,
            queue="batch",
            params=RenderParams(size=256, seed=seed),
        ).job.pk
        for seed in range(3)
    ]
    interactive = render_job_submit(
        product_sku="SQ-500-30",
        recipe="BLUE:100",
        requester=requester,
        params=RenderParams(size=256, seed=1),
    ).job.pk
    with start_worker(
        app,
        pool="solo",
        concurrency=1,
        queues=["render.interactive", "render.batch"],
        perform_ping_check=False,
        shutdown_timeout=30,
        loglevel="WARNING",
    ):
        wait_for(lambda: RenderJob.objects.filter(status="succeeded").count() == 4)
    order = list(RenderJob.objects.order_by("started_at").values_list("pk", flat=True))
    assert order[0] == interactive
    assert set(order[1:]) == set(batch)


def test_cancel_a_running_job_stops_it(celery_worker_live, render_client, monkeypatch):
    # Slow the real engine down at its cancel checks so the test can catch it mid-render.
    from gpu_worker.engines.registry import engine_get

    engine = engine_get("procedural")
    real_render = engine.render

    def slow_render(spec, *, progress=None, should_stop=None, **hooks):
        def slow_stop():
            time.sleep(0.2)
            return should_stop() if should_stop else False

        for _ in range(100):
            if slow_stop():
                from gpu_worker.contract import RenderCanceled

                raise RenderCanceled()
        return real_render(spec, progress=progress, should_stop=should_stop, **hooks)

    monkeypatch.setattr(engine, "render", slow_render)
    job_id = render_client.post("/api/v1/renders/", BODY, format="json").json()["id"]
    wait_for(lambda: job_status(render_client, job_id)["status"] == "running")
    response = render_client.post(f"/api/v1/renders/{job_id}/cancel/")
    assert response.status_code == 200
    body = wait_for(lambda: (b := job_status(render_client, job_id))["status"] != "running" and b)
    assert body["status"] == "canceled"
    assert body["error"]["code"] == "canceled"
    assert not CatalogImage.objects.exists()
