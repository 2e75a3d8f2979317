"""Render history in the admin: read-only detail with telemetry plot, re-render, cancel."""

from __future__ import annotations

import html
import re

import pytest
from django.test import Client

from catalog.models import ColorRecipe, TileProduct
from gpu_worker.params import RenderParams
from renders.models import RenderJob
from renders.services import Requester, render_job_submit
from renders.worker.execute import render_job_execute

REQUESTER = Requester(client_id="t", label="test", source="cli", sees_unpublished=True)


@pytest.fixture
def admin_client(staff_user) -> Client:
    client = Client()
    client.force_login(staff_user)
    return client


@pytest.fixture
def done_job(db, demo_catalog, broker):
    job = render_job_submit(
        product_sku="SQ-500-30",
        recipe="RED:60,BLACK:40",
        requester=REQUESTER,
        params=RenderParams(size=256, seed=3),
    ).job
    render_job_execute(job_id=job.pk, worker_name="w1")
    job.refresh_from_db()
    return job


def test_history_list_shows_thumbnail_status_and_fidelity(admin_client, done_job):
    page = admin_client.get("/admin/renders/renderjob/").content.decode()
    assert done_job.result_thumbnail.url in page
    assert "succeeded" in page
    assert "SQ-500-30" in page
    assert "/admin/renders/renderjob/add/" not in page


def test_detail_is_read_only_with_the_resource_plot(admin_client, done_job):
    page = admin_client.get(f"/admin/renders/renderjob/{done_job.pk}/change/").content.decode()
    assert "<svg" in page
    # Each chart says how many samples it draws, with values on both axes.
    assert re.search(r"CPU: \d+ samples over [\d.]+ s", page)
    assert re.search(r'text-anchor="middle" fill="#555">0 s</text>', page)
    # Telemetry as named fields with units and what each measures, not raw JSON.
    assert "<code>total_s</code>" in page and "From a worker taking the job to its result" in page
    assert re.search(r"<code>peak_device_memory_mb</code></th><td[^>]*>(-|[\d,]+ MB)</td>", page)
    assert re.search(r"<code>inference_s</code></th><td[^>]*>\d+\.\d{3} s</td>", page)
    assert done_job.render_key in page
    # Fidelity as a table against the targets, colour by colour, not raw JSON.
    assert "Error (target ≤ 3.0 pp)" in page and "Whole face against the recipe" in page
    assert page.count(">pass</span>") == 3  # BLACK, RED and the whole face
    assert 'name="_save"' not in page
    assert "/delete/" not in page


def test_history_cannot_be_deleted_from_the_admin(admin_client, done_job):
    admin_client.post(
        "/admin/renders/renderjob/",
        {"action": "delete_selected", "_selected_action": [str(done_job.pk)]},
    )
    assert RenderJob.objects.filter(pk=done_job.pk).exists()


def test_rerender_action_makes_a_new_job(admin_client, done_job):
    admin_client.post(
        "/admin/renders/renderjob/",
        {"action": "rerender", "_selected_action": [str(done_job.pk)]},
    )
    jobs = RenderJob.objects.order_by("created_at")
    assert jobs.count() == 2
    newest = jobs.last()
    assert newest is not None
    assert newest.source == "admin"
    assert newest.render_key == done_job.render_key


def test_cancel_action(admin_client, db, demo_catalog, broker):
    job = render_job_submit(
        product_sku="SQ-500-30",
        recipe="RED:100",
        requester=REQUESTER,
        params=RenderParams(size=256),
    ).job
    admin_client.post(
        "/admin/renders/renderjob/", {"action": "cancel", "_selected_action": [str(job.pk)]}
    )
    job.refresh_from_db()
    assert job.status == "canceled"


def test_bulk_render_all_views_for_products_and_recipes(admin_client, db, demo_catalog, broker):
    products = TileProduct.objects.filter(shape="brick")
    recipes = ColorRecipe.objects.filter(name__in=["Autumn", "Sea"])
    selected = [str(p.pk) for p in products]
    form = admin_client.post(
        "/admin/catalog/tileproduct/",
        {"action": "render_all_views", "_selected_action": selected},
    )
    assert b"Render all views" in form.content
    apply = {
        "action": "render_all_views",
        "_selected_action": selected,
        "apply": "1",
        "recipes": [str(r.pk) for r in recipes],
        "size": "512",
    }
    first = admin_client.post("/admin/catalog/tileproduct/", apply, follow=True)
    jobs = RenderJob.objects.all()
    wanted = products.count() * recipes.count() * 3
    assert jobs.count() == wanted
    said = first.content.decode()
    assert f"Queued {wanted} new render(s)</a> on the batch queue; 0 already being rendered" in said
    # Asked again: nothing new, and the message says where the renders already are.
    one_done = jobs.first()
    assert one_done is not None
    RenderJob.objects.filter(pk=one_done.pk).update(status="succeeded")
    again = admin_client.post("/admin/catalog/tileproduct/", apply, follow=True).content.decode()
    assert "Queued 0 new render(s) on the batch queue" in again
    assert f"{wanted - 1} already being rendered</a>" in again
    assert "1 already up to date</a>" in again
    found = re.search(rf'<a href="([^"]+)">{wanted - 1} already being rendered</a>', again)
    assert found is not None
    link = html.unescape(found.group(1))
    listed = admin_client.get(link).content.decode()
    assert f"{wanted - 1} render jobs" in listed or f"{wanted - 1} results" in listed
    assert {j.queue for j in jobs} == {"batch"}
    assert {(j.render_params.view, j.render_params.angle) for j in jobs} == {
        ("top", 0),
        ("perspective", 0),
        ("perspective", 45),
    }


def test_prune_keeps_jobs_behind_catalog_images(done_job):
    from datetime import timedelta

    from django.utils import timezone

    from renders.services import render_history_prune

    old = timezone.now() - timedelta(days=400)
    orphan = render_job_submit(
        product_sku="SQ-500-30",
        recipe="RED:100",
        requester=REQUESTER,
        params=RenderParams(size=256, seed=9),
    ).job
    RenderJob.objects.filter(pk=orphan.pk).update(status="failed", finished_at=old)
    RenderJob.objects.filter(pk=done_job.pk).update(finished_at=old)
    report = render_history_prune(older_than_days=30)
    assert report.jobs == 1
    assert not RenderJob.objects.filter(pk=orphan.pk).exists()
    assert RenderJob.objects.filter(pk=done_job.pk).exists()


def test_bulk_render_refuses_a_bad_size_with_the_declarations_words(
    admin_client, db, demo_catalog, broker
):
    product = TileProduct.objects.filter(shape="brick").first()
    assert product is not None
    page = admin_client.post(
        "/admin/catalog/tileproduct/",
        {
            "action": "render_all_views",
            "_selected_action": [str(product.pk)],
            "apply": "1",
            "recipes": [str(ColorRecipe.objects.get(name="Sea").pk)],
            "size": "100",
        },
    )
    assert "100 is out of range; use 256..2048" in page.content.decode()
    assert not RenderJob.objects.exists()


def test_job_list_filters_on_parameters_and_searches_the_recipe(admin_client, done_job):
    found = admin_client.get("/admin/renders/renderjob/", {"view": "top", "q": "BLACK:40"})
    assert str(done_job.pk) in found.content.decode()
    other = admin_client.get("/admin/renders/renderjob/", {"view": "perspective"})
    assert str(done_job.pk) not in other.content.decode()


def test_rerender_of_a_derived_seed_job_derives_it_again(admin_client, db, demo_catalog, broker):
    job = render_job_submit(
        product_sku="SQ-500-30",
        recipe="RED:60,BLACK:40",
        requester=REQUESTER,
        params=RenderParams(size=256),
    ).job
    assert job.seed_derived
    render_job_execute(job_id=job.pk, worker_name="w1")
    admin_client.post(
        "/admin/renders/renderjob/", {"action": "rerender", "_selected_action": [str(job.pk)]}
    )
    again = RenderJob.objects.exclude(pk=job.pk).get()
    assert again.seed_derived and again.params == job.params
    assert again.render_key == job.render_key and again.source == "admin"


def test_the_worker_list_shows_device_memory_and_loaded_models(admin_client, db):
    from django.utils import timezone

    from renders.models import Worker

    now = timezone.now()
    Worker.objects.create(
        name="gpu0@host",
        hostname="host",
        pid=1,
        device="NVIDIA H200",
        device_memory_total_mb=143_771,
        device_memory_used_mb=12_000,
        memory_budget_mb=115_016,
        loaded_pipelines=[
            {"model": "/models/sdxl-base", "revision": "sha256:abc", "device": "cuda"}
        ],
        started_at=now,
        last_heartbeat=now,
    )
    page = admin_client.get("/admin/renders/worker/").content.decode()
    assert "gpu0@host" in page and "NVIDIA H200" in page
    assert "sdxl-base (cuda)" in page and "12000.0 / 143771.0" in page
    assert admin_client.get("/admin/renders/worker/add/").status_code == 403


def test_a_job_page_cancels_re_renders_and_follows_a_job_on_its_way(
    admin_client, db, demo_catalog, broker
):
    job = render_job_submit(
        product_sku="SQ-500-30",
        recipe="RED:60,BLACK:40",
        requester=REQUESTER,
        params=RenderParams(size=256, seed=4),
    ).job
    RenderJob.objects.filter(pk=job.pk).update(status="running", progress=40)
    url = f"/admin/renders/renderjob/{job.pk}/change/"
    page = admin_client.get(url).content.decode()
    assert 'http-equiv="refresh"' in page  # moves by itself while on its way
    assert '<progress value="40" max="100"' in page
    assert ">Re-render</button>" in page and ">Cancel</button>" in page
    listing = admin_client.get("/admin/renders/renderjob/").content.decode()
    assert 'http-equiv="refresh"' in listing and '<progress value="40"' in listing

    assert admin_client.get(f"/admin/renders/renderjob/{job.pk}/cancel/").status_code == 403
    canceled = admin_client.post(f"/admin/renders/renderjob/{job.pk}/cancel/", follow=True)
    assert RenderJob.objects.get(pk=job.pk).cancel_requested
    assert "stops at its next step" in canceled.content.decode()
    RenderJob.objects.filter(pk=job.pk).update(status="canceled")
    page = admin_client.get(url).content.decode()
    assert 'http-equiv="refresh"' not in page and ">Cancel</button>" not in page

    again = admin_client.post(f"/admin/renders/renderjob/{job.pk}/rerender/")
    newest = RenderJob.objects.exclude(pk=job.pk).get()
    assert again.status_code == 302 and again.headers["Location"].endswith(f"{newest.pk}/change/")
    assert newest.render_key == job.render_key and newest.status == "queued"


def test_a_malformed_job_id_is_a_404_not_a_crash(admin_client, db):
    for action in ("cancel", "rerender"):
        assert (
            admin_client.post(f"/admin/renders/renderjob/not-a-uuid/{action}/").status_code == 404
        )
    assert admin_client.get("/admin/renders/renderjob/not-a-uuid/change/").status_code == 302
