"""A product's picture in one call (`/api/v1/products/{sku}/image/`), and the pictures the
product API carries."""

from __future__ import annotations

import pytest

from renders.models import RenderJob
from renders.worker.execute import render_job_execute
from tests.conftest import key_client

URL = "/api/v1/products/SQ-500-30/image/"
ASK = {"recipe": "BLACK:40,RED:60", "view": "perspective", "angle": "30", "size": "256"}


@pytest.fixture
def shop(db, demo_catalog, broker, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SERVE_MEDIA = True
    return key_client("shop", "render")


def test_no_picture_yet_is_202_with_the_render_then_a_redirect_to_it(shop):
    first = shop.get(URL, ASK)
    assert first.status_code == 202
    job = first.json()
    assert first.headers["Location"].endswith(f"/api/v1/renders/{job['id']}/")
    # The same words in another order are the same recipe: the same render, not a second.
    again = shop.get(URL, {**ASK, "recipe": "RED:60,BLACK:40"})
    assert again.status_code == 202 and again.json()["id"] == job["id"]
    assert RenderJob.objects.count() == 1
    assert shop.get(f"/api/v1/renders/{job['id']}/").status_code == 200  # the asker's job

    assert render_job_execute(job_id=job["id"], worker_name="w1") == "succeeded"
    found = shop.get(URL, ASK)
    assert found.status_code == 302
    assert found.headers["Location"].startswith("http://testserver/media/renders/")
    picture = shop.get(found.headers["Location"].removeprefix("http://testserver"))
    assert b"".join(picture.streaming_content).startswith(b"\x89PNG")

    # Another size is another picture.
    bigger = shop.get(URL, {**ASK, "size": "512"})
    assert bigger.status_code == 202 and bigger.json()["id"] != job["id"]


def test_a_read_key_gets_existing_pictures_but_no_renders(shop):
    reader = key_client("reader", "read")
    assert reader.get(URL, ASK).status_code == 404
    assert RenderJob.objects.count() == 0
    job = shop.get(URL, ASK).json()
    render_job_execute(job_id=job["id"], worker_name="w1")
    assert reader.get(URL, ASK).status_code == 302


@pytest.mark.parametrize(
    ("url", "query", "code", "names"),
    [
        (URL, {"recipe": "RED:60,BLACK:30"}, 400, "recipe"),
        (URL, {}, 400, "recipe"),
        (URL, {**ASK, "view": "sideways"}, 400, "view"),
        (URL, {**ASK, "angle": "400"}, 400, "angle"),
        ("/api/v1/products/NOPE/image/", ASK, 404, None),
    ],
)
def test_bad_questions_are_named(shop, url, query, code, names):
    answer = shop.get(url, query)
    assert answer.status_code == code, answer.content
    if names:
        assert names in answer.json()["error"]["fields"]


def test_the_product_api_carries_its_current_pictures(shop):
    job = shop.get(URL, ASK).json()
    render_job_execute(job_id=job["id"], worker_name="w1")
    product = shop.get("/api/v1/products/SQ-500-30/").json()
    (image,) = product["images"]
    assert image["recipe"] == "BLACK:40,RED:60" and image["view"] == "perspective"
    assert (image["angle"], image["width"], image["render_job"]) == (30, 256, job["id"])
    assert image["image"].endswith(".png") and image["thumbnail"].endswith(".webp")
    assert image["fidelity"]["max_share_error_pp"] is not None
    listed = shop.get("/api/v1/products/", {"recipe": "RED:60,BLACK:40"}).json()["results"]
    assert {p["sku"]: len(p["images"]) for p in listed}["SQ-500-30"] == 1
    other = shop.get("/api/v1/products/SQ-500-30/", {"recipe": "WHITE:100"}).json()
    assert other["images"] == []
    bad = shop.get("/api/v1/products/", {"recipe": "PURPLE:100"})
    assert bad.status_code == 400 and "recipe" in bad.json()["error"]["fields"]
