"""Migrations 0003 and 0004 keep every stored job readable: same request, same render key."""

from __future__ import annotations

from typing import Any

from renders.render_key import render_key_compute, seed_derive

BEFORE = [("renders", "0002_beat_schedules")]
AFTER = [("renders", "0003_params_kept_once")]


def _product(apps: Any) -> Any:
    return apps.get_model("catalog", "TileProduct").objects.create(
        sku="SQ-500-30",
        name="Square",
        shape="square",
        width_mm=500,
        height_mm=500,
        thickness_mm=30,
        granule_size="medium",
    )


def _old_job(apps: Any, *, seed: int, key: str) -> Any:
    product = _product(apps)
    geometry = {
        "sku": "SQ-500-30",
        "shape": "square",
        "width_mm": 500,
        "height_mm": 500,
        "thickness_mm": 30,
        "granule_size": "medium",
    }
    values = {"view": "top", "angle": 0, "size": 1024, "seed": seed}
    values |= {"engine": "procedural", "quality": "standard", "options": {}}
    colours = {
        "BLACK": {"hex": "#2B2B2D", "lab": [17.9, 0.4, -1.3], "lightness_spread": 3.0},
        "RED": {"hex": "#D05042", "lab": [51.3, 50.1, 34.4], "lightness_spread": 6.0},
    }
    return apps.get_model("renders", "RenderJob").objects.create(
        product=product,
        recipe_canonical="BLACK:40,RED:60",
        recipe_snapshot=[
            {"color": "BLACK", "percent": 40, **colours["BLACK"]},
            {"color": "RED", "percent": 60, **colours["RED"]},
        ],
        engine_version="1.5.0",
        params={"product": geometry, "recipe": "BLACK:40,RED:60", **values},
        render_key=key,
        status="succeeded",
        source="api",
        **values,
    )


def test_old_jobs_keep_their_request_key_and_colours(migrate):
    from catalog.recipes import Component, Recipe

    recipe = Recipe(components=(Component("BLACK", 40), Component("RED", 60)))
    derived = seed_derive(sku="SQ-500-30", recipe=recipe)
    apps = migrate(BEFORE)
    old = _old_job(apps, seed=derived, key="k1")
    chosen = apps.get_model("renders", "RenderJob").objects.create(
        **{
            f.name: getattr(old, f.name)
            for f in old._meta.concrete_fields
            if f.name not in {"id", "created_at"}
        }
        | {"seed": 7, "params": {**old.params, "seed": 7}, "render_key": "k2"}
    )
    apps.get_model("renders", "IdempotencyRecord").objects.create(
        client_id="c", key="i", request_hash="h", job=old, response_status=201
    )
    apps = migrate(AFTER)
    jobs = apps.get_model("renders", "RenderJob").objects
    migrated = jobs.get(pk=old.pk)
    assert migrated.params == old.params  # the request as it was hashed
    assert migrated.palette_snapshot["RED"]["hex"] == "#D05042"
    assert set(migrated.palette_snapshot) == {"BLACK", "RED"}
    assert migrated.seed_derived is True
    assert jobs.get(pk=chosen.pk).seed_derived is False
    record = apps.get_model("renders", "IdempotencyRecord").objects.get(key="i")
    assert record.created is True
    # Today's code hashes the migrated request to the key the old code gave it (the
    # same value tests/renders/test_render_key.py pins).
    key = render_key_compute(
        normalised=migrated.params, engine_version="1.5.0", model_revision=None
    )
    assert key == "0f8ab189a853b0b01b5974a2bbbbccd280394fbcddd74893cd8e989173183998"


def test_the_migration_reverses_with_the_recipe_in_canonical_order(migrate):
    apps = migrate(BEFORE)
    old = _old_job(apps, seed=7, key="k1")
    migrate(AFTER)
    apps = migrate(BEFORE)
    back = apps.get_model("renders", "RenderJob").objects.get(pk=old.pk)
    assert back.recipe_snapshot == old.recipe_snapshot
    assert (back.recipe_canonical, back.view, back.size, back.seed) == (
        "BLACK:40,RED:60",
        "top",
        1024,
        7,
    )


def test_a_tilt_option_becomes_the_tilt_parameter(migrate):
    apps = migrate(BEFORE)
    old = _old_job(apps, seed=7, key="k1")
    old.params = {**old.params, "view": "perspective", "options": {"tilt": 40, "x": 1}}
    old.save()
    apps = migrate([("renders", "0004_tilt_is_a_parameter")])
    job = apps.get_model("renders", "RenderJob").objects.get(pk=old.pk)
    assert job.params["tilt"] == 40.0 and job.params["options"] == {"x": 1}
    from gpu_worker.params import RenderParams

    assert RenderParams.from_normalised(job.params).tilt == 40.0


def test_a_tilt_that_is_no_number_becomes_the_default(migrate):
    apps = migrate(BEFORE)
    old = _old_job(apps, seed=7, key="k1")
    old.params = {**old.params, "options": {"tilt": "nan"}}
    old.save()
    apps = migrate([("renders", "0004_tilt_is_a_parameter")])
    job = apps.get_model("renders", "RenderJob").objects.get(pk=old.pk)
    assert "tilt" not in job.params and job.params["options"] == {}


def test_requests_are_made_for_every_job_and_every_idempotent_replay(migrate):
    apps = migrate([("renders", "0011_reconcile_every_5s")])
    product = _product(apps)
    jobs = apps.get_model("renders", "RenderJob").objects
    made = {"product": product, "params": {}, "engine_version": "2", "source": "api"}
    shared = jobs.create(**made, render_key="k1", client_id="key:1", client_label="shop-a")
    jobs.create(**made, render_key="k3", client_id="")  # made before clients were recorded
    apps.get_model("renders", "IdempotencyRecord").objects.create(
        client_id="key:2", key="i", request_hash="h", job=shared, created=False
    )
    apps = migrate([("renders", "0012_render_requests")])
    requests = apps.get_model("renders", "RenderRequest").objects.order_by("client_id")
    assert [(r.job_id, r.client_id, r.client_label) for r in requests] == [
        (shared.pk, "key:1", "shop-a"),
        (shared.pk, "key:2", ""),
    ]
