"""ControlNet experiments: a grid of hybrid renders whose winners become a profile's table."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from catalog.models import ColorRecipe, TileProduct
from renders.errors import RenderRequestError
from renders.models import Experiment, ModelProfile, RenderJob, RenderTelemetry
from renders.services import Requester
from renders.services.experiments import (
    experiment_adopt,
    experiment_create,
    experiment_grid,
    experiment_grid_parse,
)


@pytest.fixture
def hybrid_enabled(settings):
    settings.RENDER_ENGINES_ENABLED = ["procedural", "hybrid"]


@pytest.fixture
def profile(db):
    return ModelProfile.objects.create(
        name="sdxl-shop",
        base_model="/models/sdxl-base",
        controlnets={"canny": "/models/cn-canny", "softedge": "/models/cn-soft"},
        control_by_angle=[{"up_to": 359, "type": "canny", "scale": 0.5}],
    )


def start(profile, staff_user, **grid):
    return experiment_create(
        profile=profile,
        product=TileProduct.objects.get(sku="SQ-500-30"),
        recipe=ColorRecipe.objects.get(name="Autumn"),
        grid=experiment_grid(**grid),
        requester=Requester.staff(staff_user),
        size=256,
        seed=5,
    )


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ({"angles": [], "controls": ["off"], "scales": []}, "at least one angle"),
        ({"angles": [400], "controls": ["off"], "scales": []}, "400 is not a whole number"),
        ({"angles": [0], "controls": ["depth"], "scales": [0.5]}, "choose from off, canny"),
        ({"angles": [0], "controls": ["canny"], "scales": []}, "at least one conditioning"),
        ({"angles": [0], "controls": ["canny"], "scales": [3]}, "3 is not a conditioning scale"),
        ({"angles": [0], "controls": ["canny"], "scales": [0]}, "0 is not a conditioning scale"),
        (
            {
                "angles": list(range(0, 120, 10)),
                "controls": ["off", "canny", "softedge"],
                "scales": [0.2, 0.4, 0.6],
            },
            "an experiment makes at most 60",
        ),
    ],
)
def test_a_bad_grid_is_refused_naming_the_problem(grid, message):
    with pytest.raises(RenderRequestError, match=message):
        experiment_grid(**grid)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ({"angles": "0,x", "controls": "off", "scales": ""}, "list of whole numbers"),
        ({"angles": "0", "controls": "canny", "scales": "0.5," * 80}, "longer than 200"),
        ({"angles": "٣", "controls": "off", "scales": ""}, "list of whole numbers"),
    ],
)
def test_grid_text_is_bounded_and_checked(text, message):
    with pytest.raises(RenderRequestError, match=message):
        experiment_grid_parse(**text)


def test_every_cell_is_a_batch_job_with_its_own_controlnet(
    demo_catalog, profile, staff_user, hybrid_enabled
):
    experiment = start(
        profile, staff_user, angles=[0, 90], controls=["off", "canny"], scales=[0.3, 0.7]
    )
    cells = list(experiment.cells.select_related("job"))
    assert [(c.angle, c.control, c.scale) for c in cells] == [
        (0, "canny", 0.3),
        (0, "canny", 0.7),
        (0, "off", 0.0),
        (90, "canny", 0.3),
        (90, "canny", 0.7),
        (90, "off", 0.0),
    ]
    for cell in cells:
        assert cell.job is not None
        params = cell.job.render_params
        assert (params.engine, params.angle, params.size, params.seed) == (
            "hybrid",
            cell.angle,
            256,
            5,
        )
        assert cell.job.queue == "batch" and cell.job.source == "experiment"
        control = params.options["controlnet"]
        # The cell's own setting, not the profile's table (which says canny 0.5 everywhere).
        if cell.control == "off":
            assert control is None
        else:
            assert control == {"type": "canny", "model": "/models/cn-canny", "scale": cell.scale}
    # Asked again, identical cells share the renders already made.
    again = start(profile, staff_user, angles=[0], controls=["off"], scales=[])
    assert again.cells.get().job == experiment.cells.get(angle=0, control="off").job


def test_a_controlnet_the_profile_lacks_or_a_disabled_engine_is_refused(
    demo_catalog, profile, staff_user, settings
):
    settings.RENDER_ENGINES_ENABLED = ["procedural"]
    with pytest.raises(RenderRequestError, match="hybrid engine is not enabled"):
        start(profile, staff_user, angles=[0], controls=["off"], scales=[])
    settings.RENDER_ENGINES_ENABLED = ["procedural", "hybrid"]
    with pytest.raises(RenderRequestError, match="names no lineart ControlNet folder"):
        start(profile, staff_user, angles=[0], controls=["lineart"], scales=[0.5])
    assert not Experiment.objects.exists() and not RenderJob.objects.exists()


def finish(cell, before, after, seconds=1.0):
    job = cell.job
    job.status = RenderJob.Status.SUCCEEDED
    job.fidelity = {
        "max_share_error_pp": after,
        "appearance_delta_e00": 1.0,
        "before_correction": {"max_share_error_pp": before},
    }
    job.save()
    RenderTelemetry.objects.create(job=job, engine_render_s=seconds, versions={})


def test_the_winners_become_the_profiles_table_round_the_circle(
    demo_catalog, profile, staff_user, hybrid_enabled
):
    experiment = start(
        profile, staff_user, angles=[0, 90, 180], controls=["off", "canny"], scales=[0.5]
    )
    with pytest.raises(RenderRequestError, match="no finished render at 0°, 90°, 180°"):
        experiment_adopt(experiment=experiment)
    cell = {(c.angle, c.control): c for c in experiment.cells.select_related("job")}
    # Before correction decides; after correction and time only break ties.
    finish(cell[0, "off"], before=9.0, after=0.5)
    finish(cell[0, "canny"], before=4.0, after=0.9)
    finish(cell[90, "off"], before=3.0, after=0.4, seconds=2.0)
    finish(cell[90, "canny"], before=3.0, after=0.4, seconds=1.0)
    finish(cell[180, "off"], before=2.0, after=0.3)  # 180's canny cell never finished
    profile = experiment_adopt(experiment=experiment)
    assert profile.control_by_angle == [
        {"up_to": 45, "type": "canny", "scale": 0.5},
        {"up_to": 135, "type": "canny", "scale": 0.5},
        {"up_to": 270, "type": "off"},
        {"up_to": 359, "type": "canny", "scale": 0.5},  # 271..359 is nearer 0 than 180
    ]
    experiment.refresh_from_db()
    assert experiment.adopted_at is not None


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_the_command_runs_a_grid_with_the_tiny_models_and_adopts_it(
    demo_catalog, staff_user, hybrid_enabled, monkeypatch, tmp_path
):
    from gpu_worker.engines.diffusion.models import ALLOW_CPU_ENV
    from gpu_worker.engines.diffusion.tiny import controlnet_from_unet_save, tiny_sdxl_save

    monkeypatch.setenv(ALLOW_CPU_ENV, "1")
    model = tiny_sdxl_save(tmp_path / "tiny-sdxl")
    canny = controlnet_from_unet_save(model, tmp_path / "tiny-canny")
    ModelProfile.objects.create(
        name="tiny",
        base_model=str(model),
        controlnets={"canny": str(canny)},
        preset_steps={"draft": 4},
    )
    args = ["--profile", "tiny", "--product", "SQ-500-30", "--recipe", "autumn"]
    grid = ["--angles", "0,90", "--controls", "off,canny", "--scales", "0.5"]
    size = ["--size", "256", "--quality", "draft", "--view", "top"]
    out = run("experiment", *args, *grid, *size, "--here", "--adopt")
    lines = out.splitlines()
    assert lines[0].startswith("Experiment ")
    assert sum("succeeded" in line for line in lines) == 4
    assert sum(line.endswith("winner") for line in lines) == 2
    table = ModelProfile.objects.get(name="tiny").control_by_angle
    assert [row["up_to"] for row in table] == [45, 225, 359]
    experiment = Experiment.objects.get()
    for cell in experiment.cells.select_related("job"):
        job = cell.job
        assert job is not None and job.fidelity is not None
        assert job.fidelity["before_correction"]["max_share_error_pp"] is not None
        assert job.model_revision and job.result_thumbnail
    # Shown again later, by id.
    assert "winner" in run("experiment", "--show", str(experiment.pk))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--profile", "nope", "--product", "SQ-500-30", "--recipe", "Autumn"], "no active model"),
        (["--profile", "sdxl-shop", "--product", "X", "--recipe", "Autumn"], "no product"),
        (["--profile", "sdxl-shop", "--product", "SQ-500-30", "--recipe", "Nope"], "no stored"),
        (["--profile", "sdxl-shop", "--product", "SQ-500-30"], "--recipe is required"),
        (["--show", "999"], "there is no experiment 999"),
    ],
)
def test_the_command_names_what_is_wrong(demo_catalog, profile, hybrid_enabled, args, message):
    with pytest.raises(CommandError, match=message):
        run("experiment", *args)


def test_staff_start_an_experiment_see_its_sheet_and_adopt_it(
    demo_catalog, profile, staff_user, hybrid_enabled, broker, django_capture_on_commit_callbacks
):
    client = Client()
    client.force_login(staff_user)
    form = {
        "profile": profile.pk,
        "product": TileProduct.objects.get(sku="SQ-500-30").pk,
        "recipe": ColorRecipe.objects.get(name="Autumn").pk,
        "angles": "0,90",
        "controls": ["off", "lineart"],
        "scales": "0.5",
        "view": "perspective",
        "size": "256",
        "quality": "draft",
        "seed": "1",
    }
    page = client.post("/admin/renders/experiment/add/", form).content.decode()
    assert "names no lineart ControlNet folder" in page
    form["controls"] = ["off", "canny"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/renders/experiment/add/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    experiment = Experiment.objects.get()
    assert experiment.cells.count() == 4 and broker.llen("render.batch") == 4
    # Not finished: the sheet says so, refreshes itself, and adopting is refused.
    sheet = client.get(f"/admin/renders/experiment/{experiment.pk}/change/").content.decode()
    assert "Contact sheet" in sheet and "queued" in sheet and "location.reload" in sheet
    adopt = f"/admin/renders/experiment/{experiment.pk}/adopt/"
    page = client.post(adopt, follow=True).content.decode()
    assert "no finished render at 0°, 90° yet" in page.lower()
    for cell in experiment.cells.select_related("job"):
        finish(cell, before=5.0 if cell.control == "off" else 2.0, after=0.3)
    sheet = client.get(f"/admin/renders/experiment/{experiment.pk}/change/").content.decode()
    assert sheet.count(">winner<") == 2 and "before 2.0 pp" in sheet
    assert "location.reload" not in sheet
    page = client.post(adopt, follow=True).content.decode()
    assert "Profile sdxl-shop now picks" in page
    assert ModelProfile.objects.get().control_by_angle[0] == {
        "up_to": 45,
        "type": "canny",
        "scale": 0.5,
    }
    assert client.get(adopt).status_code == 403
