"""Media on S3-compatible storage: a web node and a worker that share only the database,
Redis and a bucket (moto's standalone S3 server on loopback)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from plitka_site.env import ConfigError
from plitka_site.media_storage import media_storage
from renders.models import RenderJob
from renders.storage import media_put
from tests.loopback import fetch, free_port, shared_database_url, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
BUCKET = "plitka-media"
KEYS = {"access_key": "testing", "secret_key": "testing", "region_name": "us-east-1"}


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for_port(port, server)
        endpoint = f"http://127.0.0.1:{port}"
        import boto3

        boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id=KEYS["access_key"],
            aws_secret_access_key=KEYS["secret_key"],
            region_name=KEYS["region_name"],
        ).create_bucket(Bucket=BUCKET)
        yield endpoint
    finally:
        server.terminate()
        server.communicate(timeout=30)


@pytest.fixture
def s3_env(s3_endpoint: str) -> dict[str, str]:
    return {
        "MEDIA_STORAGE": "s3",
        "MEDIA_S3_BUCKET": BUCKET,
        "MEDIA_S3_ENDPOINT_URL": s3_endpoint,
        "MEDIA_S3_ACCESS_KEY_ID": KEYS["access_key"],
        "MEDIA_S3_SECRET_ACCESS_KEY": KEYS["secret_key"],
        "MEDIA_S3_REGION": KEYS["region_name"],
    }


@pytest.fixture
def s3_media(settings: Any, s3_env: dict[str, str]) -> dict[str, Any]:
    """This process (the web node) stores and links media in the bucket, configured from
    the same environment as the worker's, by the same code as settings.py."""
    storage = media_storage(s3_env)
    settings.STORAGES = {**settings.STORAGES, "default": storage}
    return dict(storage["OPTIONS"])


def test_a_write_keeps_its_content_address_and_is_all_or_nothing(s3_media):
    name = "renders/ab/cd/abcd.png"
    assert media_put(name=name, content=b"first") == name
    # The same name again is the same bytes: it stays as it is, with no suffix.
    assert media_put(name=name, content=b"first") == name
    from django.core.files.storage import default_storage

    assert default_storage.exists(name)
    assert fetch(default_storage.url(name))[1] == b"first"
    assert "X-Amz-Signature=" in default_storage.url(name)  # presigned by default


def test_a_render_goes_from_web_to_worker_to_bucket_and_back(
    transactional_db, demo_catalog, broker, broker_url, render_client, s3_env, s3_media, tmp_path
):
    worker_media = tmp_path / "worker-media"
    env = {
        **os.environ,
        **s3_env,
        "DATABASE_URL": shared_database_url(),
        "REDIS_URL": broker_url,
        "MEDIA_ROOT": str(worker_media),
        "PLITKA_VAR_DIR": str(tmp_path),
    }
    worker = subprocess.Popen(
        [
            *(str(BIN / "celery"), "-A", "plitka_site", "worker", "-n", "s3worker@%h"),
            *("--pool", "solo", "-Q", "render.interactive,render.batch", "--loglevel", "INFO"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        body = {"product": "SQ-500-30", "recipe": "RED:60,BLACK:40", "size": 256, "seed": 3}
        response = render_client.post("/api/v1/renders/", body, format="json")
        assert response.status_code == 201, response.content
        job_id = response.json()["id"]
        deadline = time.monotonic() + 120
        while True:
            job = render_client.get(f"/api/v1/renders/{job_id}/").json()
            if job["status"] in {"succeeded", "failed"}:
                break
            assert worker.poll() is None, worker.communicate()[0]
            assert time.monotonic() < deadline, f"the job is still {job['status']}"
            time.sleep(0.2)
        assert job["status"] == "succeeded", job["error"]
        # The URLs the API gives point into the bucket, and they work.
        image_url, thumbnail_url = job["result"]["image"], job["result"]["thumbnail"]
        assert image_url.startswith(s3_media["endpoint_url"] + f"/{BUCKET}/renders/")
        assert fetch(image_url)[1].startswith(b"\x89PNG")
        assert fetch(thumbnail_url)[1][8:12] == b"WEBP"
        # The worker wrote nothing to its own disk.
        assert not worker_media.exists() or not any(worker_media.rglob("*"))
        assert RenderJob.objects.get(pk=job_id).worker.startswith("s3worker@")
    finally:
        worker.terminate()
        output = worker.communicate(timeout=60)[0]
    assert "succeeded" in output or "Task renders.render" in output, output[-3000:]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MEDIA_STORAGE": "ftp"}, "must be filesystem or s3"),
        ({"MEDIA_STORAGE": "s3"}, "needs MEDIA_S3_BUCKET"),
        (
            {"MEDIA_STORAGE": "s3", "MEDIA_S3_BUCKET": "b", "MEDIA_S3_URL_EXPIRE_S": "0"},
            "1..604800",
        ),
    ],
)
def test_a_bad_media_storage_setting_is_named(env, message):
    with pytest.raises(ConfigError, match=message):
        media_storage(env)


def test_public_urls_when_the_bucket_is_public():
    options = media_storage(
        {"MEDIA_STORAGE": "s3", "MEDIA_S3_BUCKET": "b", "MEDIA_S3_PUBLIC": "1"}
    )["OPTIONS"]
    assert options["querystring_auth"] is False
    assert media_storage({})["BACKEND"].endswith("FileSystemStorage")
