"""Batching: queued diffusion jobs with one batch key share a pipeline call on a worker."""

from __future__ import annotations

import pytest

from gpu_worker.params import RenderParams
from renders.models import RenderJob, RenderTelemetry
from renders.services import Requester, render_job_submit
from renders.worker import execute as execute_module
from renders.worker.execute import render_job_execute

REQUESTER = Requester(client_id="t", label="test", source="cli", sees_unpublished=True)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from gpu_worker.engines.diffusion.tiny import tiny_sdxl_save

    return tiny_sdxl_save(tmp_path_factory.mktemp("models") / "tiny-sdxl")


@pytest.fixture
def hybrid(settings, monkeypatch, tiny_model, demo_catalog, broker):
    from gpu_worker.engines.diffusion.models import ALLOW_CPU_ENV

    monkeypatch.setenv(ALLOW_CPU_ENV, "1")
    settings.RENDER_ENGINES_ENABLED = ["procedural", "hybrid"]
    settings.RENDER_BATCH_MAX = 3


def submit(tiny_model, *, seed, size=256, queue=RenderJob.Queue.BATCH, steps=3):
    return render_job_submit(
        product_sku="SQ-500-30",
        recipe="RED:60,BLACK:40",
        requester=REQUESTER,
        params=RenderParams(
            engine="hybrid",
            size=size,
            seed=seed,
            options={"model": str(tiny_model), "steps": steps},
        ),
        queue=queue,
    ).job


def test_queued_jobs_with_one_key_render_in_one_call(hybrid, tiny_model):
    jobs = [submit(tiny_model, seed=seed) for seed in range(1, 5)]
    other_size = submit(tiny_model, seed=9, size=320)
    other_steps = submit(tiny_model, seed=10, steps=4)
    interactive = submit(tiny_model, seed=11, queue=RenderJob.Queue.INTERACTIVE)

    assert render_job_execute(job_id=jobs[0].pk, worker_name="w1") == "succeeded"
    states = {j.pk: j for j in RenderJob.objects.all()}
    # The first job and the two oldest partners (RENDER_BATCH_MAX 3), one worker, one call.
    for job in jobs[:3]:
        done = states[job.pk]
        assert done.status == "succeeded" and done.worker == "w1" and done.attempts == 1
        assert done.result_image and done.fidelity is not None
        assert done.fidelity["before_correction"] is not None
        assert RenderTelemetry.objects.get(job=done).batch_size == 3
    assert len({states[j.pk].result_image.name for j in jobs[:3]}) == 3
    for job in (jobs[3], other_size, other_steps, interactive):
        assert states[job.pk].status == "queued" and states[job.pk].attempts == 0
    # The partners' own task messages find them done.
    assert render_job_execute(job_id=jobs[1].pk, worker_name="w2") == "skipped"
    # Alone, the last job renders as a batch of one.
    assert render_job_execute(job_id=jobs[3].pk, worker_name="w2") == "succeeded"
    assert RenderTelemetry.objects.get(job_id=jobs[3].pk).batch_size == 1


def test_batching_is_off_by_default(hybrid, tiny_model, settings):
    settings.RENDER_BATCH_MAX = 1
    first, second = submit(tiny_model, seed=1), submit(tiny_model, seed=2)
    assert render_job_execute(job_id=first.pk, worker_name="w1") == "succeeded"
    assert RenderJob.objects.get(pk=second.pk).status == "queued"


def test_a_failed_batch_fails_its_first_job_and_gives_the_rest_back(
    hybrid, tiny_model, broker, monkeypatch, django_capture_on_commit_callbacks
):
    jobs = [submit(tiny_model, seed=seed) for seed in range(1, 4)]
    broker.delete("render.batch")

    def broken(**kwargs):
        raise RuntimeError("the GPU fell off")

    monkeypatch.setattr(execute_module, "render_run_batch", broken)
    with django_capture_on_commit_callbacks(execute=True):
        assert render_job_execute(job_id=jobs[0].pk, worker_name="w1") == "failed"
    first = RenderJob.objects.get(pk=jobs[0].pk)
    assert first.error_code == "engine_error" and "the GPU fell off" in first.error_message
    for job in jobs[1:]:
        back = RenderJob.objects.get(pk=job.pk)
        assert (back.status, back.attempts, back.worker) == ("queued", 0, "")
    assert broker.llen("render.batch") == 2  # sent again, to whichever worker is free


def test_canceling_one_job_of_a_batch_cancels_only_it(hybrid, tiny_model, monkeypatch):
    jobs = [submit(tiny_model, seed=seed) for seed in range(1, 3)]
    real = execute_module.render_run_batch

    def cancel_the_second_midway(**kwargs):
        RenderJob.objects.filter(pk=jobs[1].pk).update(cancel_requested=True)
        return real(**kwargs)

    monkeypatch.setattr(execute_module, "render_run_batch", cancel_the_second_midway)
    render_job_execute(job_id=jobs[0].pk, worker_name="w1")
    assert RenderJob.objects.get(pk=jobs[0].pk).status == "succeeded"
    assert RenderJob.objects.get(pk=jobs[1].pk).status == "canceled"
