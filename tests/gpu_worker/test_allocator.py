"""gpu_worker/allocator.py: freed picture memory is reused instead of faulted in again."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from gpu_worker.allocator import KEEP_BYTES_MAX, allocator_keep_freed
from tests.loopback import ROOT

# Three 1024 px procedural renders in a fresh process; the page faults of the last one
# (steady state: glibc moves its own thresholds during the first ones) are printed.
_LAST_ROUND_FAULTS = textwrap.dedent(
    """
    import json, resource, sys
    from catalog.geometry import TileGeometry
    from catalog.palette import stock_palette_colors
    from catalog.recipes import Component, Recipe
    from gpu_worker.allocator import allocator_keep_freed
    from gpu_worker.contract import RenderSpec
    from gpu_worker.engines.procedural.render import render_layers
    from gpu_worker.params import RenderParams
    kept = sys.argv[1] == "keep" and allocator_keep_freed(keep_bytes=256 << 20)
    spec = RenderSpec(
        tile=TileGeometry.from_dict({"shape": "square", "width_mm": 500, "height_mm": 500,
                                     "thickness_mm": 30, "granule_size": "fine"}),
        recipe=Recipe(components=(Component("BLACK", 40), Component("RED", 60))),
        palette=tuple(stock_palette_colors()),
        params=RenderParams(size=1024, seed=7),
    )
    render_layers(spec)
    render_layers(spec)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    render_layers(spec)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    print(json.dumps({"kept": kept, "faults": after - before}))
    """
)


def _last_round(mode: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _LAST_ROUND_FAULTS, mode],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return dict(json.loads(out))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_a_render_reuses_the_last_ones_memory_instead_of_faulting_it_in_again():
    as_it_comes = _last_round("default")
    kept = _last_round("keep")
    # As glibc comes, a render's arrays are faulted in again each time (about 40 MB of
    # 4 KB pages); kept, the next render finds them in the heap.
    assert not as_it_comes["kept"] and as_it_comes["faults"] > 2_500, as_it_comes
    assert kept["kept"] and kept["faults"] < 250, kept


def test_the_kept_amount_is_bounded():
    with pytest.raises(ValueError, match=r"keep_bytes must be 0\.\."):
        allocator_keep_freed(keep_bytes=KEEP_BYTES_MAX + 1)


def test_every_worker_process_sets_it_as_it_starts():
    from celery.signals import worker_init, worker_process_init

    from renders.worker.process_start import allocator_setup

    for signal in (worker_init, worker_process_init):
        receivers = [ref() for _, ref in signal.receivers]
        assert allocator_setup in receivers
