"""Result writes failing on a real filesystem: a tiny tmpfs as the media folder, filled up
(a full disk, for a moment or for good) or remounted read-only. A transient error is tried
again with backoff; a lasting one fails the job with a named error; never a partial file,
and the worker goes on serving once the disk is fixed."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from renders.models import RenderJob
from tests.faults.conftest import Stack, now, wait_until


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True)


@pytest.fixture
def tiny_media(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs (mounting needs root: CI has it; elsewhere the tests are skipped unless
    PLITKA_REQUIRE_MOUNTS=1 makes that a failure)."""
    media = tmp_path / "media"
    media.mkdir()
    try:
        _mount("-t", "tmpfs", "-o", "size=4m", "tmpfs", str(media))
    except (OSError, subprocess.CalledProcessError) as exc:
        if os.environ.get("PLITKA_REQUIRE_MOUNTS") == "1":
            raise AssertionError(f"make faults needs to mount a tmpfs (root): {exc}") from exc
        pytest.skip(f"cannot mount a tmpfs here (needs root): {exc}")
    try:
        yield media
    finally:
        subprocess.run(["umount", "-l", str(media)], check=False)


@pytest.fixture
def media_stack(stack: Stack, tiny_media: Path, settings: Any) -> Stack:
    stack.media = tiny_media
    settings.MEDIA_ROOT = tiny_media
    return stack


def fill(media: Path) -> Path:
    """Take every free byte of the filesystem."""
    ballast = media / "ballast"
    space = os.statvfs(media)
    ballast.write_bytes(b"\0" * (space.f_bavail * space.f_frsize))
    assert os.statvfs(media).f_bavail == 0
    return ballast


def test_a_disk_full_for_a_moment_is_waited_out(media_stack: Stack) -> None:
    stack = media_stack
    stack.worker("alpha", render_s=1)
    ballast = fill(stack.media)
    (job_id,) = stack.submit()
    worker = stack.procs[-1]
    wait_until(lambda: "trying again" in worker.log.read_text(errors="replace"), 60, worker)
    freed = now()
    ballast.unlink()
    stack.wait_finished([job_id], timeout=60)
    stack.audit([job_id], fault="media disk full, freed during the retries", since=freed)
    stack.still_serving()


def test_a_disk_that_stays_full_fails_the_job_by_name(media_stack: Stack) -> None:
    stack = media_stack
    stack.worker("alpha")
    ballast = fill(stack.media)
    (job_id,) = stack.submit()
    stack.wait_finished([job_id], timeout=60)
    stack.audit([job_id], fault="media disk full for good", expect_failed=1)
    job = RenderJob.objects.get(pk=job_id)
    assert job.error_code == "storage_error"
    assert "No space left on device" in job.error_message and "tried 5 times" in job.error_message
    ballast.unlink()
    stack.still_serving()


def test_a_read_only_media_folder_fails_at_once_by_name(media_stack: Stack) -> None:
    stack = media_stack
    stack.worker("alpha")
    _mount("-o", "remount,ro", str(stack.media))
    (job_id,) = stack.submit()
    stack.wait_finished([job_id], timeout=60)
    stack.audit([job_id], fault="media folder read-only", expect_failed=1)
    job = RenderJob.objects.get(pk=job_id)
    assert job.error_code == "storage_error" and "Read-only file system" in job.error_message
    assert "tried" not in job.error_message  # not transient: no retries
    _mount("-o", "remount,rw", str(stack.media))
    stack.still_serving()
