"""Model profiles: staff set a diffusion model up once; a job names it and copies it."""

from __future__ import annotations

import pytest
from django.test import Client

from renders.models import ModelProfile, RenderJob

BODY = {
    "product": "SQ-500-30",
    "recipe": "RED:60,BLACK:40",
    "view": "perspective",
    "size": 256,
    "seed": 7,
    "engine": "diffusion",
}


@pytest.fixture
def profile(db):
    return ModelProfile.objects.create(
        name="sdxl-shop",
        base_model="/models/sdxl-base",
        revision="abc123",
        loras=[{"path": "/models/crumb.safetensors", "scale": 0.8}],
        controlnets={"canny": "/models/cn-canny", "lineart": "/models/cn-lineart"},
        control_by_angle=[
            {"up_to": 44, "type": "canny", "scale": 0.5},
            {"up_to": 89, "type": "lineart", "scale": 0.7},
            {"up_to": 359, "type": "off"},
        ],
    )


@pytest.fixture
def diffusion_enabled(settings):
    settings.RENDER_ENGINES_ENABLED = ["procedural", "diffusion", "hybrid"]


def post(client, body, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post("/api/v1/renders/", body, format="json")


@pytest.mark.parametrize(
    ("angle", "control"),
    [
        (30, {"type": "canny", "model": "/models/cn-canny", "scale": 0.5}),
        (60, {"type": "lineart", "model": "/models/cn-lineart", "scale": 0.7}),
        (120, None),
    ],
)
def test_a_job_naming_a_profile_copies_it_with_the_controlnet_for_its_angle(
    render_client,
    demo_catalog,
    profile,
    diffusion_enabled,
    broker,
    angle,
    control,
    django_capture_on_commit_callbacks,
):
    body = {**BODY, "angle": angle, "options": {"model": "sdxl-shop", "steps": 20}}
    response = post(render_client, body, django_capture_on_commit_callbacks)
    assert response.status_code == 201, response.content
    options = RenderJob.objects.get().render_params.options
    assert options["model"] == "/models/sdxl-base" and options["profile"] == "sdxl-shop"
    assert options["loras"] == [{"path": "/models/crumb.safetensors", "scale": 0.8}]
    assert options["steps"] == 20  # the job's own options win
    assert options.get("controlnet") == control


def test_the_profiles_revision_is_part_of_the_render_key(
    render_client,
    demo_catalog,
    profile,
    diffusion_enabled,
    broker,
    django_capture_on_commit_callbacks,
):
    body = {**BODY, "angle": 120, "options": {"model": "sdxl-shop"}}
    first = post(render_client, body, django_capture_on_commit_callbacks).json()
    profile.revision = "def456"
    profile.save()
    second = post(render_client, body, django_capture_on_commit_callbacks).json()
    keys = {
        RenderJob.objects.get(pk=first["id"]).render_key,
        RenderJob.objects.get(pk=second["id"]).render_key,
    }
    assert len(keys) == 2


def test_an_unknown_or_inactive_profile_is_a_400_naming_it(
    render_client,
    demo_catalog,
    profile,
    diffusion_enabled,
    broker,
    django_capture_on_commit_callbacks,
):
    profile.is_active = False
    profile.save()
    for name in ("sdxl-shop", "nope"):
        body = {**BODY, "options": {"model": name}}
        response = post(render_client, body, django_capture_on_commit_callbacks)
        assert response.status_code == 400
        assert f"no active model profile named '{name}'" in response.json()["error"]["message"]
    assert not RenderJob.objects.exists()


def test_staff_edit_profiles_and_a_bad_one_is_refused_naming_the_problem(staff_user):
    client = Client()
    client.force_login(staff_user)
    form = {
        "name": "sdxl-bad",
        "base_model": "/models/sdxl-base",
        "revision": "",
        "textual_inversions": "[]",
        "loras": '[{"path": "/m/l.safetensors", "scale": 5}]',
        "controlnets": "{}",
        "control_by_angle": "[]",
        "dtype": "bfloat16",
        "scheduler": "dpmpp_2m_karras",
        "preset_steps": '{"draft": 200}',
        "is_active": "on",
        "notes": "",
    }
    page = client.post("/admin/renders/modelprofile/add/", form).content.decode()
    assert "options.loras[0].scale must be 0..2" in page
    assert not ModelProfile.objects.exists()
    form["loras"] = '[{"path": "/m/l.safetensors", "scale": 0.5}]'
    page = client.post("/admin/renders/modelprofile/add/", form).content.decode()
    assert "options.preset_steps.draft must be 1..100" in page
    form["preset_steps"] = '{"draft": 8}'
    form["prompt"] = "{view} only"
    page = client.post("/admin/renders/modelprofile/add/", form).content.decode()
    assert "options.prompt: it must place {colours}" in page
    form["prompt"] = "{colours} {tokens} crumb"
    assert client.post("/admin/renders/modelprofile/add/", form).status_code == 302
    saved = ModelProfile.objects.get()
    assert saved.loras == [{"path": "/m/l.safetensors", "scale": 0.5}]
    assert (saved.dtype, saved.scheduler, saved.preset_steps) == (
        "bfloat16",
        "dpmpp_2m_karras",
        {"draft": 8},
    )


def test_a_profiles_number_type_scheduler_and_steps_reach_the_job_and_its_key(
    render_client,
    demo_catalog,
    profile,
    diffusion_enabled,
    broker,
    django_capture_on_commit_callbacks,
):
    body = {**BODY, "angle": 120, "options": {"model": "sdxl-shop"}}
    plain = post(render_client, body, django_capture_on_commit_callbacks).json()
    assert not {"dtype", "scheduler", "preset_steps", "prompt"} & set(
        RenderJob.objects.get(pk=plain["id"]).render_params.options
    )
    profile.dtype, profile.scheduler, profile.preset_steps = "bfloat16", "euler_a", {"draft": 6}
    profile.prompt = "<crumb> {colours}, {view}"
    profile.save()
    tuned = post(render_client, body, django_capture_on_commit_callbacks).json()
    job = RenderJob.objects.get(pk=tuned["id"])
    assert job.render_params.options["dtype"] == "bfloat16"
    assert job.render_params.options["scheduler"] == "euler_a"
    assert job.render_params.options["preset_steps"] == {"draft": 6}
    assert job.render_params.options["prompt"] == "<crumb> {colours}, {view}"
    assert job.render_key != RenderJob.objects.get(pk=plain["id"]).render_key


def test_a_malformed_angle_table_is_a_form_error_not_a_crash(staff_user):
    client = Client()
    client.force_login(staff_user)
    form = {
        "name": "sdxl-table",
        "base_model": "/models/sdxl-base",
        "revision": "",
        "textual_inversions": "[]",
        "loras": "[]",
        "controlnets": "{}",
        "control_by_angle": '["canny"]',
        "dtype": "auto",
        "scheduler": "default",
        "preset_steps": "{}",
        "is_active": "on",
        "notes": "",
    }
    response = client.post("/admin/renders/modelprofile/add/", form)
    assert response.status_code == 200
    assert "Control by angle must be a list of rows" in response.content.decode()
    assert not ModelProfile.objects.exists()
