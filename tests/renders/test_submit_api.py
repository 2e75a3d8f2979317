"""POST /api/v1/renders/: validation, dedup, idempotency, quotas (no worker needed)."""

from __future__ import annotations

import threading

import pytest
from rest_framework.test import APIClient

from catalog.models import TileProduct
from renders.models import RenderJob
from tests.conftest import key_client

BODY = {
    "product": "SQ-500-30",
    "recipe": [{"color": "RED", "percent": 60}, {"color": "BLACK", "percent": 40}],
    "view": "top",
    "angle": 0,
    "size": 256,
    "engine": "procedural",
    "seed": 7,
}


def post(client, body=None, **headers):
    return client.post("/api/v1/renders/", body or BODY, format="json", **headers)


@pytest.fixture
def catalog(db, demo_catalog, broker):
    return None


@pytest.fixture
def submit(django_capture_on_commit_callbacks):
    """POST a render; what the view queues on commit runs as the request ends."""

    def call(client, body=None, **headers):
        # The test's transaction never commits, so run the on-commit work here, as it would.
        with django_capture_on_commit_callbacks(execute=True):
            return post(client, body, **headers)

    return call


def test_a_new_render_is_201_with_location_and_a_queued_message(
    render_client, catalog, broker, submit
):
    response = submit(render_client)
    assert response.status_code == 201, response.content
    job = response.json()
    assert response["Location"].endswith(f"/api/v1/renders/{job['id']}/")
    assert job["status"] == "queued"
    assert job["product"] == "SQ-500-30"
    assert job["recipe"] == [{"color": "BLACK", "percent": 40}, {"color": "RED", "percent": 60}]
    assert job["params"]["size"] == 256
    assert job["source"] == "api"
    assert job["queue"] == "interactive"
    assert job["result"] is None
    assert broker.llen("render.interactive") == 1


def test_an_identical_request_is_200_with_the_same_job(render_client, catalog, submit):
    first = submit(render_client).json()
    again = submit(render_client, {**BODY, "recipe": "red:60, black:40"})
    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    assert RenderJob.objects.count() == 1


def test_a_different_seed_is_a_different_render(render_client, catalog, submit):
    submit(render_client)
    other = submit(render_client, {**BODY, "seed": 8})
    assert other.status_code == 201


def test_without_a_seed_the_same_product_and_recipe_share_one_render(
    render_client, catalog, submit
):
    body = {k: v for k, v in BODY.items() if k != "seed"}
    first = submit(render_client, body).json()
    second = submit(key_client("another-shop", "render"), body)
    assert second.status_code == 200
    assert second.json()["id"] == first["id"]
    assert first["params"]["seed"] == second.json()["params"]["seed"]


def test_a_recipe_id_is_accepted(render_client, catalog, submit):
    from catalog.models import ColorRecipe

    recipe = ColorRecipe.objects.get(name="Autumn")
    response = submit(render_client, {**BODY, "recipe": recipe.pk})
    assert response.status_code == 201
    assert response.json()["recipe_canonical"] == "BLACK:40,RED:60"


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"angle": 360}, "angle", "out of range"),
        ({"size": 100}, "size", "256..2048"),
        ({"view": "side"}, "view", "top, perspective"),
        ({"engine": "magic"}, "engine", "not an engine"),
        ({"engine": "diffusion"}, "engine", "not enabled on this site"),
        ({"product": "NOPE"}, "product", "no product with SKU"),
        ({"recipe": "RED:59,BLACK:40"}, "recipe", "sum to 99"),
        ({"recipe": [{"color": "RED", "percent": 0.6}]}, "recipe", "fraction"),
        ({"recipe": 999999}, "recipe", "no recipe"),
        ({"quality": "ultra"}, "quality", "quality preset"),
        ({"seed": -1}, "seed", "out of range"),
        ({"options": [1, 2]}, "options", "object"),
        ({"size": None}, "size", "null"),
        ({"size": "²"}, "size", "not a whole number"),
        ({"size": "9" * 5000}, "size", "not a whole number"),
        ({"recipe": "²"}, "recipe", "COLOR:PERCENT"),
        ({"recipe": 10**30}, "recipe", "no recipe"),
        ({"recipe": -5}, "recipe", "no recipe"),
    ],
)
def test_bad_input_is_400_naming_the_field(render_client, catalog, change, field, words, submit):
    response = submit(render_client, {**BODY, **change})
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert field in error["fields"]
    assert words in error["message"]
    assert not RenderJob.objects.exists()


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({}, "options.model is required"),
        ({"model": "/models/sdxl", "steps": 0}, "options.steps must be 1..100"),
        (
            {"model": "/models/sdxl", "scheduler": "lms"},
            "options.scheduler must be one of default, euler",
        ),
    ],
)
def test_an_enabled_engine_checks_its_own_options_at_submit(
    render_client, catalog, submit, settings, options, words
):
    settings.RENDER_ENGINES_ENABLED = ["procedural", "diffusion"]
    response = submit(render_client, {**BODY, "engine": "diffusion", "options": options})
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert "options" in error["fields"] and words in error["message"]
    assert not RenderJob.objects.exists()


def test_a_storefront_key_cannot_render_an_unpublished_product(
    render_client, staff_client, catalog, submit
):
    hidden = TileProduct.objects.filter(is_published=False).first()
    assert hidden is not None
    response = submit(render_client, {**BODY, "product": hidden.sku})
    assert response.status_code == 400
    assert submit(staff_client, {**BODY, "product": hidden.sku}).status_code == 201


def test_a_read_key_cannot_submit(read_client, catalog, submit):
    assert submit(read_client).status_code == 403


def test_idempotency_key_replays_and_refuses_a_different_body(render_client, catalog, submit):
    first = submit(render_client, HTTP_IDEMPOTENCY_KEY="order-1")
    replay = submit(render_client, HTTP_IDEMPOTENCY_KEY="order-1")
    assert first.status_code == replay.status_code == 201
    assert replay.json()["id"] == first.json()["id"]
    # The replay says it is one; the first answer did not.
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    mismatch = submit(render_client, {**BODY, "seed": 99}, HTTP_IDEMPOTENCY_KEY="order-1")
    assert mismatch.status_code == 422
    assert mismatch.json()["error"]["code"] == "idempotency_key_reused"
    other_client = key_client("shop-2", "render")
    # Keys are per client: another client's "order-1" is its own.
    assert (
        submit(other_client, {**BODY, "seed": 99}, HTTP_IDEMPOTENCY_KEY="order-1").status_code
        == 201
    )


def test_daily_quota_is_enforced_but_dedup_hits_still_answer(catalog, submit):
    client = key_client("small-shop", "render", render_quota_per_day=1)
    assert submit(client).status_code == 201
    assert submit(client).status_code == 200
    refused = submit(client, {**BODY, "seed": 8})
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "quota_exceeded"


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_identical_submits_make_one_job(demo_catalog, broker):
    client_key = key_client("busy-shop", "render").plaintext
    barrier = threading.Barrier(50)
    answers: list[tuple[int, str]] = []
    lock = threading.Lock()

    def one() -> None:
        from django.db import connection

        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {client_key}")
        barrier.wait()
        try:
            response = post(client)
            with lock:
                answers.append((response.status_code, response.json().get("id", "")))
        finally:
            connection.close()

    threads = [threading.Thread(target=one) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(answers) == 50
    assert RenderJob.objects.count() == 1
    assert sorted(code for code, _ in answers) == [200] * 49 + [201]
    assert {job_id for _, job_id in answers} == {str(RenderJob.objects.get().pk)}
    assert broker.llen("render.interactive") == 1


def test_clients_list_their_own_jobs_and_staff_see_all(
    render_client, staff_client, catalog, submit
):
    mine = submit(render_client).json()["id"]
    theirs = submit(key_client("shop-3", "render"), {**BODY, "seed": 3}).json()["id"]
    listed = [j["id"] for j in render_client.get("/api/v1/renders/").json()["results"]]
    assert listed == [mine]
    # Another client's job is not there at all for this one (404, not 403: no hint).
    assert render_client.get(f"/api/v1/renders/{theirs}/").status_code == 404
    assert staff_client.get(f"/api/v1/renders/{theirs}/").status_code == 200
    everything = {j["id"] for j in staff_client.get("/api/v1/renders/").json()["results"]}
    assert {mine, theirs} <= everything


def test_list_filters(render_client, catalog, submit):
    submit(render_client)
    submit(render_client, {**BODY, "product": "BR-200-100-40"})
    only = render_client.get("/api/v1/renders/?product=BR-200-100-40").json()["results"]
    assert [j["product"] for j in only] == ["BR-200-100-40"]
    assert render_client.get("/api/v1/renders/?status=succeeded").json()["results"] == []
    queued = render_client.get("/api/v1/renders/?status=queued&ordering=created_at").json()
    assert len(queued["results"]) == 2


def test_cancel_a_queued_job_at_once(render_client, catalog, submit):
    job = submit(render_client).json()
    response = render_client.post(f"/api/v1/renders/{job['id']}/cancel/")
    assert response.status_code == 200
    assert response.json()["status"] == "canceled"
    again = render_client.post(f"/api/v1/renders/{job['id']}/cancel/")
    assert again.status_code == 200
    # A canceled job frees its render_key: the same request makes a new job.
    assert submit(render_client).status_code == 201


def test_only_the_submitter_or_staff_may_cancel(render_client, staff_client, catalog, submit):
    job = submit(render_client).json()
    stranger = key_client("stranger", "render")
    assert stranger.post(f"/api/v1/renders/{job['id']}/cancel/").status_code == 404
    assert staff_client.post(f"/api/v1/renders/{job['id']}/cancel/").status_code == 200


def test_workers_endpoint_is_staff_only(render_client, staff_client, db):
    assert render_client.get("/api/v1/workers/").status_code == 403
    assert staff_client.get("/api/v1/workers/").json() == []


def test_a_broker_outage_loses_nothing(render_client, catalog, settings, monkeypatch, submit):
    from plitka_site.celery import app

    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    monkeypatch.setattr(
        app, "send_task", lambda *a, **k: (_ for _ in ()).throw(ConnectionError("down"))
    )
    response = submit(render_client)
    assert response.status_code == 201
    job = RenderJob.objects.get()
    assert job.status == "queued"
    assert job.dispatched_at is None  # the reconciler will send it


def test_list_filters_on_parameters_by_their_declared_choices(render_client, catalog, submit):
    top = submit(render_client, {**BODY, "seed": 1}).json()["id"]
    side = submit(render_client, {**BODY, "seed": 2, "view": "perspective"}).json()["id"]
    listed = render_client.get("/api/v1/renders/", {"view": "perspective", "engine": "procedural"})
    ids = {job["id"] for job in listed.json()["results"]}
    assert side in ids and top not in ids


@pytest.mark.parametrize(
    "recipe",
    ["RED:60,BLACK:40", '[{"color": "RED", "percent": 60}, {"color": "BLACK", "percent": 40}]'],
)
def test_a_form_post_takes_the_recipe_as_text_or_json(render_client, catalog, submit, recipe):
    form = {"product": "SQ-500-30", "recipe": recipe, "size": "256", "seed": "7"}
    with_form = render_client.post("/api/v1/renders/", form, format="multipart")
    assert with_form.status_code == 201, with_form.json()
    assert with_form.json()["recipe_canonical"] == "BLACK:40,RED:60"


def test_an_unpublished_product_is_named_as_such(render_client, catalog, submit):
    TileProduct.objects.filter(sku="SQ-500-30").update(is_published=False)
    answer = submit(render_client)
    assert answer.status_code == 400
    assert answer.json()["error"]["fields"]["product"] == [
        "product 'SQ-500-30' is not published yet; only staff may render it"
    ]
