"""The in-process commands: render one picture, analyse any picture."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from renders.models import RenderJob, Worker


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize("view", ["top", "perspective"])
def test_render_writes_a_png_and_reports_fidelity_within_target(db, demo_catalog, tmp_path, view):
    out = tmp_path / "tile.png"
    report = json.loads(
        run(
            "render",
            "--product",
            "BR-200-100-40",
            "--recipe",
            "RED:60,BLACK:40",
            "--size",
            "384",
            "--view",
            view,
            "--angle",
            "30",
            "--out",
            str(out),
            "--json",
        )
    )
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (report["width"], report["height"]) == (384, 384)
    assert report["params"]["view"] == view
    fidelity = report["fidelity"]
    assert set(fidelity["shares"]) == {"RED", "BLACK"}
    assert fidelity["max_share_error_pp"] <= 1.0
    assert max(fidelity["delta_e00"].values()) <= 2.0
    # The render left its audit row, made here rather than on a worker.
    job = RenderJob.objects.get(pk=report["job"])
    assert (job.source, job.status, job.fidelity) == ("cli", "succeeded", fidelity)
    assert job.telemetry.total_s is not None
    assert job.worker.startswith("cli@") and job.telemetry.total_s > 0
    # The command is no worker: it leaves no row in the worker list.
    assert not Worker.objects.filter(name=job.worker).exists()
    assert not job.dispatched_at  # nothing was queued in Redis


def test_render_prints_a_table_by_default(db, demo_catalog, tmp_path):
    text = run(
        "render",
        "--product",
        "SQ-500-30",
        "--recipe",
        "красный:70, black:30",
        "--size",
        "256",
        "--out",
        str(tmp_path / "t.png"),
    )
    assert "largest share error" in text
    assert "RED" in text


def test_analyze_colors_reads_a_top_view_file_as_the_engine_did(db, demo_catalog, tmp_path):
    out = tmp_path / "tile.png"
    engine = json.loads(
        run(
            "render",
            "--product",
            "SQ-500-30",
            "--recipe",
            "BLUE:70,WHITE:30",
            "--size",
            "512",
            "--out",
            str(out),
            "--json",
        )
    )["fidelity"]
    file = json.loads(run("analyze_colors", str(out), "--recipe", "BLUE:70,WHITE:30", "--json"))
    assert set(file) == {
        "shares",
        "max_share_error_pp",
        "delta_e00",
        "appearance_delta_e00",
        "tile_fraction",
    }
    assert file["max_share_error_pp"] <= 1.0
    for code, share in engine["shares"].items():
        assert abs(file["shares"][code] - share) <= 1.0


def rendered(folder: Path, recipe: str, *, size: int) -> Path:
    """A top-view render of SQ-500-30 in `recipe`, written by the render command."""
    out = folder / "tile.png"
    run(
        "render",
        "--product",
        "SQ-500-30",
        "--recipe",
        recipe,
        "--size",
        str(size),
        "--out",
        str(out),
    )
    return out


def test_analyze_colors_without_a_recipe_names_the_colours_present(db, demo_catalog, tmp_path):
    out = rendered(tmp_path, "YELLOW:50,DKBLUE:50", size=384)
    found = json.loads(run("analyze_colors", str(out), "--json"))
    assert set(found["shares"]) == {"YELLOW", "DKBLUE"}
    assert found["max_share_error_pp"] is None


@pytest.mark.parametrize("recipe", [[], ["--recipe", "YELLOW:50,DKBLUE:50"]])
def test_analyze_colors_draws_what_it_counted(db, demo_catalog, tmp_path, recipe):
    from PIL import Image

    out = rendered(tmp_path, "YELLOW:50,DKBLUE:50", size=384)
    json.loads(
        run("analyze_colors", str(out), *recipe, "--json", "--pictures", str(tmp_path / "p"))
    )
    mask = Image.open(tmp_path / "p" / f"{out.stem}.mask.webp")
    colours = Image.open(tmp_path / "p" / f"{out.stem}.colours.png").convert("RGB")
    assert mask.size == colours.size == Image.open(out).size
    painted = {rgb for _, rgb in colours.getcolors(maxcolors=64) or []}
    assert {(226, 211, 91), (45, 58, 138)} <= painted  # YELLOW and DKBLUE as the palette has them


def test_cli_errors_name_the_problem(db, demo_catalog, tmp_path):
    with pytest.raises(CommandError, match="sum to 99"):
        run(
            "render",
            "--product",
            "SQ-500-30",
            "--recipe",
            "RED:59,BLACK:40",
            "--out",
            str(tmp_path / "x.png"),
        )
    with pytest.raises(CommandError, match="no product with SKU"):
        run("render", "--product", "NOPE", "--recipe", "RED:100", "--out", str(tmp_path / "x.png"))
    with pytest.raises(CommandError, match="applies to the diffusion"):
        run(
            "render",
            "--product",
            "SQ-500-30",
            "--recipe",
            "RED:100",
            "--model",
            "sdxl",
            "--out",
            str(tmp_path / "x.png"),
        )
    # Parameters are checked by their one declaration: the API's words, on the CLI.
    with pytest.raises(CommandError, match=r"size: 100 is out of range; use 256\.\.2048"):
        run(
            "render",
            "--product",
            "SQ-500-30",
            "--recipe",
            "RED:100",
            "--size",
            "100",
            "--out",
            str(tmp_path / "x.png"),
        )
    bogus = tmp_path / "x.png"
    bogus.write_bytes(b"not an image")
    with pytest.raises(CommandError, match="not a usable image"):
        run("analyze_colors", str(bogus))
    with pytest.raises(CommandError, match="cannot read"):
        run("analyze_colors", str(tmp_path / "missing.png"))
    with pytest.raises(CommandError, match="--recipe"):
        run("analyze_colors", str(bogus), "--recipe", "RED:0.6")


def test_render_takes_object_parameters_as_json(db, demo_catalog, tmp_path):
    report = json.loads(
        run(
            "render",
            "--product",
            "SQ-500-30",
            "--recipe",
            "RED:100",
            "--view",
            "perspective",
            "--size",
            "256",
            "--options",
            '{"note": "for the catalogue"}',
            "--out",
            str(tmp_path / "t.png"),
            "--json",
        )
    )
    assert report["params"]["options"] == {"note": "for the catalogue"}
    with pytest.raises(CommandError, match="--options: not JSON"):
        run(
            "render",
            "--product",
            "SQ-500-30",
            "--recipe",
            "RED:100",
            "--options",
            "{",
            "--out",
            "x",
        )


def test_make_tiny_models_writes_a_diffusers_folder_once(tmp_path):
    folder = tmp_path / "tiny"
    assert "Wrote a tiny SDXL model" in run("make_tiny_models", str(folder))
    assert (folder / "model_index.json").is_file()
    assert (folder / "unet" / "diffusion_pytorch_model.safetensors").is_file()
    with pytest.raises(CommandError, match="is not empty"):
        run("make_tiny_models", str(folder))


def test_analyze_colors_warns_when_the_picture_is_not_a_tile_close_up(db, demo_catalog, tmp_path):
    """A web page screenshot used to read as "WHITE 97.5 %" without a word of doubt."""
    from PIL import Image, ImageDraw

    page = Image.new("RGB", (1280, 800), "white")
    draw = ImageDraw.Draw(page)
    for row in range(12):
        draw.rectangle((60, 40 + 60 * row, 900, 60 + 60 * row), fill=(40, 40, 40))
    draw.rectangle((950, 100, 1200, 350), fill=(200, 60, 50))
    shot = tmp_path / "screenshot.png"
    page.save(shot)
    found = json.loads(run("analyze_colors", str(shot), "--json"))
    assert any("granules could be measured" in w for w in found["warnings"]), found


def test_analyze_colors_without_a_recipe_names_the_nearest_recipes(db, demo_catalog, tmp_path):
    out = rendered(tmp_path, "RED:60,BLACK:40", size=1024)
    found = json.loads(run("analyze_colors", str(out), "--json"))
    assert found["warnings"] == [] and found["granules"] > 1000
    assert {c["code"] for c in found["colours"]} == {"RED", "BLACK"}
    assert all(0 <= c["confidence"] <= 1 and c["runner_up"] for c in found["colours"])
    assert found["nearest_stock_mix"]["distance_pp"] <= 3
    nearest = found["nearest_recipes"][0]
    assert nearest["name"] == "Autumn" and nearest["distance_pp"] <= 3, found["nearest_recipes"]
