"""A Python client generated from the live OpenAPI schema (openapi-python-client) drives
the API over HTTP: submit, poll, list, cancel and errors all parse into its typed models.
If the schema and the server drift apart, the generated models fail to read the answers."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from renders.worker.execute import render_job_execute
from tests.conftest import key_client
from tests.loopback import ROOT

BIN = Path(sys.executable).parent
PACKAGE = "plitka_generated_client"


@pytest.fixture
def generated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The client package, generated now from the schema the server serves."""
    schema = tmp_path / "schema.yml"
    call_command("spectacular", file=str(schema), validate=True, fail_on_warn=True)
    result = subprocess.run(
        [
            str(BIN / "openapi-python-client"),
            *("generate", "--path", str(schema), "--meta", "none"),
            *("--output-path", str(tmp_path / PACKAGE)),
        ],
        cwd=ROOT,
        env={**os.environ, "PATH": f"{BIN}:{os.environ.get('PATH', '')}"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    monkeypatch.syspath_prepend(str(tmp_path))
    yield importlib.import_module(PACKAGE)
    for name in [name for name in sys.modules if name.startswith(PACKAGE)]:
        del sys.modules[name]


def _api(name: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.api.v1.{name}")


def _models() -> Any:
    return importlib.import_module(f"{PACKAGE}.models")


def test_a_generated_client_round_trips_every_render_call(
    generated, live_server, demo_catalog, settings, tmp_path, monkeypatch
):
    from plitka_site.celery import app

    # Messages go nowhere that matters (a worker's run is done in this test instead).
    monkeypatch.setitem(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SERVE_MEDIA = True
    key = key_client("generated", "render").plaintext
    client = generated.AuthenticatedClient(
        base_url=live_server.url, token=key, prefix="Api-Key", raise_on_unexpected_status=True
    )
    models = _models()
    body = models.RenderSubmitRequest(
        product="SQ-500-30",
        recipe="RED:60,BLACK:40",
        view=models.ViewEnum.PERSPECTIVE,
        angle=30,
        size=256,
        seed=3,
    )

    made = _api("v1_renders_create").sync_detailed(client=client, body=body, idempotency_key="o-1")
    assert made.status_code == 201
    job = made.parsed
    assert isinstance(job, models.RenderJob)
    assert job.status == models.StatusEnum.QUEUED and job.product == "SQ-500-30"
    again = _api("v1_renders_create").sync_detailed(client=client, body=body, idempotency_key="o-1")
    assert again.parsed.id == job.id

    assert render_job_execute(job_id=job.id, worker_name="w1") == "succeeded"
    polled = _api("v1_renders_retrieve").sync(client=client, id=job.id)
    assert isinstance(polled, models.RenderJob)
    assert polled.status == models.StatusEnum.SUCCEEDED and polled.progress == 100
    assert polled.result.width == 256 and polled.fidelity is not None
    image = client.get_httpx_client().get(polled.result.image)
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")

    listed = _api("v1_renders_list").sync(
        client=client, status=models.V1RendersListStatus.SUCCEEDED
    )
    assert [found.id for found in listed.results] == [job.id]

    # Errors parse into the envelope, as documented.
    bad = _api("v1_renders_create").sync_detailed(
        client=client, body=models.RenderSubmitRequest(product="SQ-500-30", recipe="NOPE:100")
    )
    assert bad.status_code == 400 and isinstance(bad.parsed, models.ErrorEnvelope)
    assert bad.parsed.error.code == "invalid" and "recipe" in bad.parsed.error.fields.to_dict()
    finished = _api("v1_renders_cancel_create").sync_detailed(client=client, id=job.id)
    assert finished.status_code == 409 and finished.parsed.error.code == "conflict"
    products = _api("v1_products_list").sync(client=client)
    assert "SQ-500-30" in {product.sku for product in products.results}
