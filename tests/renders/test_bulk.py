"""Bulk rendering: the standard views are valid render parameters."""

from __future__ import annotations

from gpu_worker.params import render_params_parse
from renders.services.bulk import STANDARD_VIEWS


def test_the_standard_views_pass_the_declarations():
    for view, angle in STANDARD_VIEWS:
        params = render_params_parse({"view": view, "angle": angle})
        assert (params.view, params.angle) == (view, angle)
