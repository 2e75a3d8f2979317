"""Colour analyses (issue 13, items 3 and 4): a photo goes in through the API, a real Celery
worker measures it, and bad pictures are 400s that say why."""

from __future__ import annotations

import hashlib
import io
import time
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image

from renders.models import ColourAnalysis
from renders.services.analyses import colour_analyses_reconcile
from tests.conftest import key_client
from tests.renders.test_commands import rendered


def png(image: Image.Image) -> io.BytesIO:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    buffer.seek(0)
    buffer.name = "photo.png"
    return buffer


@pytest.fixture
def tile_png(db, demo_catalog, tmp_path) -> io.BytesIO:
    """A 1024 px top view of RED:60,BLACK:40 as the procedural engine draws it."""
    out = rendered(tmp_path, "RED:60,BLACK:40", size=1024)
    picture = io.BytesIO(out.read_bytes())
    picture.name = "photo.png"
    return picture


def test_a_photo_is_measured_by_the_worker_and_checked_against_its_recipe(
    celery_worker_live, tile_png
):
    client = key_client("lab", "render")
    answer = client.post(
        "/api/v1/analyses/", {"image": tile_png, "recipe": "red:60, black:40"}, format="multipart"
    )
    assert answer.status_code == 202, answer.content
    first = answer.json()
    assert first["status"] == "queued" and answer["Location"].endswith(f"/{first['id']}/")
    assert first["recipe"] == "BLACK:40,RED:60" and first["image"].startswith("http://")

    # Followed with the long poll: each answer comes when the worker moves the analysis on
    # (woken through Redis), not when the 30 s run out.
    body, seen = first, ["queued"]
    while body["status"] not in ("succeeded", "failed") and len(seen) < 6:
        asked = time.monotonic()
        body = client.get(f"/api/v1/analyses/{first['id']}/?wait=30").json()
        assert time.monotonic() - asked < 25, body["status"]
        seen.append(body["status"])
    assert seen[-1] == "succeeded" and set(seen) <= {"queued", "running", "succeeded"}, seen
    assert body["status"] == "succeeded", body["error"]
    result = body["result"]
    assert {c["code"] for c in result["colours"]} == {"RED", "BLACK"}
    assert all(0 <= c["confidence"] <= 1 and c["runner_up"] for c in result["colours"])
    assert result["warnings"] == [] and result["granules"] > 1000
    assert result["nearest_recipes"][0]["name"] == "Autumn"
    check = result["check"]
    assert check["passed"] is True and check["max_share_error_pp"] <= 3.0
    assert {"decode_s", "identify_s", "pictures_s", "check_s", "total_s", "queue_wait_s"} <= set(
        body["telemetry"]
    )
    # The tile mask and what each granule was counted as: stored by content, given as URLs.
    stored = (ColourAnalysis.objects.get().result or {})["pictures"]
    assert set(result["pictures"]) == {"tile_mask", "colour_map"}
    for kind, name in stored.items():
        assert result["pictures"][kind].startswith("http://") and result["pictures"][kind].endswith(
            name
        )
        with default_storage.open(name, "rb") as picture:
            data = picture.read()
        assert name.split("/")[-1].split(".")[0] == hashlib.sha256(data).hexdigest()
        assert Image.open(io.BytesIO(data)).size == (1024, 1024)
    analysis = ColourAnalysis.objects.get()
    assert analysis.worker and analysis.attempts == 1
    # The same picture from this shop's own media, by its URL: stored once, by its hash.
    again = client.post("/api/v1/analyses/", {"image_url": first["image"]}, format="json")
    assert again.status_code == 202, again.content
    assert ColourAnalysis.objects.values("image").distinct().count() == 1
    # Others do not see it.
    assert key_client("other", "render").get(f"/api/v1/analyses/{first['id']}/").status_code == 404


def _error(answer) -> str:
    assert answer.status_code == 400, answer.content
    return answer.json()["error"]["message"]


def test_bad_pictures_are_400s_that_name_the_problem(db, demo_catalog, broker):
    client = key_client("lab", "render")

    def send(data, **extra):
        return client.post("/api/v1/analyses/", data, format="multipart", **extra)

    gif = io.BytesIO(b"GIF89a" + bytes(200))
    gif.name = "x.gif"
    assert "JPEG, PNG or WebP" in _error(send({"image": gif}))
    tiny = png(Image.new("RGB", (32, 32), "red"))
    assert "needs 64 px" in _error(send({"image": tiny}))
    truncated = io.BytesIO(png(Image.effect_noise((300, 300), 40).convert("RGB")).read()[:500])
    truncated.name = "cut.png"
    assert "cannot be read" in _error(send({"image": truncated}))
    assert "either image" in _error(send({}))
    for wait in ("31", "x", "-1"):
        assert "wait must be" in _error(
            client.get(f"/api/v1/analyses/{'0' * 8}-0000-0000-0000-{'0' * 12}/?wait={wait}")
        )
    assert "sum to 99" in _error(
        send({"image": png(Image.new("RGB", (300, 300), "red")), "recipe": "RED:99"})
    )
    # image_url: only this shop's stored pictures, by their URL; nothing becomes a path.
    for url in (
        "http://127.0.0.1/media/../../etc/passwd",
        "/media/renders/../settings.py",
        "file:///etc/passwd",
        "http://169.254.169.254/latest/meta-data/",
    ):
        message = _error(client.post("/api/v1/analyses/", {"image_url": url}, format="json"))
        assert "URL of a render" in message
    missing = "/media/renders/ab/cd/" + "ab" * 32 + ".png"
    assert "no picture is stored" in _error(
        client.post("/api/v1/analyses/", {"image_url": missing}, format="json")
    )
    assert not ColourAnalysis.objects.exists()
    # A read key may look, not submit.
    reader = key_client("reader", "read")
    assert reader.post("/api/v1/analyses/", {}, format="multipart").status_code == 403


def test_an_upload_over_the_limit_is_413_before_it_is_read(db, client):
    answer = client.post(
        "/api/v1/analyses/",
        data=b"x",
        content_type="application/octet-stream",
        CONTENT_LENGTH=str(13 * 2**20),
    )
    assert answer.status_code == 413


def test_the_sweep_sends_again_a_lost_analysis_and_gives_up_at_the_cap(
    db, demo_catalog, broker, settings, django_capture_on_commit_callbacks
):
    from renders.image_uploads import image_upload_check
    from renders.services.analyses import colour_analysis_submit
    from renders.services.submit import Requester

    requester = Requester(client_id="t", label="t", source="api")
    picture = image_upload_check(data=png(Image.new("RGB", (300, 300), "red")).read())
    analysis = colour_analysis_submit(
        image=picture, recipe=None, tolerance_pp=3.0, requester=requester
    )
    long_ago = timezone.now() - timedelta(minutes=10)
    ColourAnalysis.objects.filter(pk=analysis.pk).update(
        status="running", started_at=long_ago, attempts=1
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert colour_analyses_reconcile().resent == [str(analysis.pk)]
    analysis.refresh_from_db()
    assert analysis.status == "queued"
    assert analysis.dispatched_at is not None and analysis.dispatched_at > long_ago
    ColourAnalysis.objects.filter(pk=analysis.pk).update(
        status="running", started_at=long_ago, attempts=settings.RENDER_MAX_ATTEMPTS
    )
    assert colour_analyses_reconcile().failed == [str(analysis.pk)]
    analysis.refresh_from_db()
    assert (analysis.status, analysis.error_code) == ("failed", "worker_lost")


def test_analyses_count_against_the_keys_daily_quota(db, demo_catalog, broker):
    client = key_client("small", "render", render_quota_per_day=1)

    def send():
        return client.post(
            "/api/v1/analyses/",
            {"image": png(Image.effect_noise((300, 300), 60).convert("RGB"))},
            format="multipart",
        )

    assert send().status_code == 202
    refused = send()
    assert refused.status_code == 429 and refused["Retry-After"]
    assert refused.json()["error"]["code"] == "quota_exceeded"
    assert ColourAnalysis.objects.count() == 1


def test_staff_analyse_a_photo_in_the_admin_and_make_a_recipe_of_it(
    admin_client, demo_catalog, broker, django_capture_on_commit_callbacks
):
    from catalog.models import ColorRecipe

    listing = admin_client.get("/admin/renders/colouranalysis/").content.decode()
    assert "/admin/renders/colouranalysis/analyse/" in listing
    bad = admin_client.post(
        "/admin/renders/colouranalysis/analyse/",
        {"image": png(Image.new("RGB", (32, 32), "red")), "tolerance_pp": "3"},
    )
    assert bad.status_code == 200 and "needs 64 px" in bad.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        sent = admin_client.post(
            "/admin/renders/colouranalysis/analyse/",
            {
                "image": png(Image.effect_noise((300, 300), 60).convert("RGB")),
                "recipe": "RED:60,BLACK:40",
                "tolerance_pp": "3",
            },
        )
    analysis = ColourAnalysis.objects.get()
    assert sent.status_code == 302 and sent["Location"].endswith(f"/{analysis.pk}/change/")
    assert (analysis.recipe_canonical, analysis.source) == ("BLACK:40,RED:60", "admin")
    page = admin_client.get(sent["Location"]).content.decode()
    assert 'http-equiv="refresh"' in page  # reloads until the worker is done
    assert "Make a recipe from this" not in page

    # Done (as the worker leaves it): its nearest stock mix becomes a recipe to edit.
    ColourAnalysis.objects.filter(pk=analysis.pk).update(
        status="succeeded",
        result={
            "shares": {"RED": 58.6, "BLACK": 41.4},
            "colours": [
                {"code": "RED", "percent": 58.6, "confidence": 0.97, "runner_up": "TERCOT"},
                {"code": "BLACK", "percent": 41.4, "confidence": 0.9, "runner_up": "DKGRAY"},
            ],
            "nearest_stock_mix": {"components": [["RED", 59], ["BLACK", 41]]},
            "check": {"shares": {"RED": 59.1, "BLACK": 40.9}, "passed": True},
            "pictures": {
                "tile_mask": "analyses/maps/ab/mask.webp",
                "colour_map": "analyses/maps/cd/map.png",
            },
        },
    )
    page = admin_client.get(sent["Location"]).content.decode()
    assert "Make a recipe from this" in page and 'http-equiv="refresh"' not in page
    # The photo, the tile mask and the colour map side by side; each colour's row beside its
    # share in the recipe, carrying the colour the map paints it in.
    assert "/media/analyses/maps/ab/mask.webp" in page
    assert 'src="/media/analyses/maps/cd/map.png" alt="Counted as" data-colour-map' in page
    assert '<tr data-rgb="208,80,66" tabindex="0">' in page  # RED, #D05042
    assert "<td>60 %</td><td>59.1 %</td>" in page and "plitka/analysis_pictures.js" in page
    made = admin_client.post(f"/admin/renders/colouranalysis/{analysis.pk}/make-recipe/")
    recipe = ColorRecipe.objects.get(name__startswith="From photo")
    assert made["Location"].endswith(f"/admin/catalog/colorrecipe/{recipe.pk}/change/")
    assert recipe.canonical == "BLACK:41,RED:59"
    again = admin_client.post(f"/admin/renders/colouranalysis/{analysis.pk}/make-recipe/")
    assert again.status_code == 302
    assert ColorRecipe.objects.filter(name__startswith="From photo").count() == 2  # "(2)"
    assert (
        admin_client.get(f"/admin/renders/colouranalysis/{analysis.pk}/make-recipe/").status_code
        == 403
    )


def test_an_oversized_upload_in_the_admin_is_refused_before_it_is_read(admin_client):
    answer = admin_client.post(
        "/admin/renders/colouranalysis/analyse/",
        data=b"x",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(13 * 2**20),
    )
    assert answer.status_code == 302 and not ColourAnalysis.objects.exists()


def test_pruning_deletes_old_analyses_with_their_photos_unless_still_named(db):
    from renders.services import render_history_prune
    from renders.storage import media_put

    def analysis(photo: bytes, *, days: int, pictures: bool = True) -> ColourAnalysis:
        digest = hashlib.sha256(photo).hexdigest()
        name = media_put(name=f"analyses/{digest[:2]}/{digest}.png", content=photo)
        maps = {
            "tile_mask": media_put(name=f"analyses/maps/aa/{digest}.webp", content=b"m"),
            "colour_map": media_put(name=f"analyses/maps/bb/{digest}.png", content=b"c"),
        }
        return ColourAnalysis.objects.create(
            image=name,
            image_sha256=digest,
            image_format="PNG",
            width=64,
            height=64,
            source="api",
            client_id="k",
            status="succeeded",
            finished_at=timezone.now() - timedelta(days=days),
            result={"shares": {}, "pictures": maps} if pictures else None,
        )

    old = analysis(b"old photo", days=90)
    shared_old = analysis(b"sent twice", days=90)
    shared_new = analysis(b"sent twice", days=1)
    failed = analysis(b"unreadable", days=90, pictures=False)
    recent = analysis(b"recent", days=1)
    dry = render_history_prune(older_than_days=30, dry_run=True)
    assert (dry.analyses, dry.analysis_files) == (3, 0)
    assert ColourAnalysis.objects.count() == 5

    report = render_history_prune(older_than_days=30)
    assert report.analyses == 3 and report.analysis_files == 4  # old's 3, failed's photo
    assert set(ColourAnalysis.objects.all()) == {shared_new, recent}
    for gone in (old, failed):
        assert not default_storage.exists(str(gone.image.name))
    for name in (old.result or {})["pictures"].values():
        assert not default_storage.exists(name)
    # The photo sent again, and its pictures, stay for the analysis that still names them.
    for kept in (str(shared_old.image.name), *(shared_new.result or {})["pictures"].values()):
        assert default_storage.exists(kept)


def test_a_store_that_refuses_the_pictures_costs_them_not_the_analysis(
    db, demo_catalog, broker, tile_png, monkeypatch
):
    import errno

    from renders.worker import analysis as worker

    client = key_client("lab", "render")
    answer = client.post("/api/v1/analyses/", {"image": tile_png}, format="multipart")
    assert answer.status_code == 202, answer.content

    def full(**_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(worker, "media_put_retrying", full)
    assert worker.colour_analysis_execute(analysis_id=answer.json()["id"], worker_name="w") == (
        "succeeded"
    )
    analysis = ColourAnalysis.objects.get()
    result = analysis.result or {}
    assert {c["code"] for c in result["colours"]} == {"RED", "BLACK"}
    assert result["pictures"] == {}
    assert result["warnings"] == ["the tile mask and colour map could not be stored (OSError)"]
    page = client.get(f"/api/v1/analyses/{analysis.pk}/").json()
    assert page["result"]["pictures"] == {}
