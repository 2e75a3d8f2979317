"""Examples for the schema: a real render's request and answers, as a storefront sees them
(taken from a procedural render of the demo catalog, host names and versions left out)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample

_IMAGE = "https://shop.example/media/renders/f9/7a/f97a89e57e5d6ccd66d6753c575d02a76e31463874406e23326d9cba46361de7"

QUEUED_JOB = {
    "id": "b6bc7972-7680-46cd-b889-b89da1940aa0",
    "status": "queued",
    "progress": 0,
    "product": "SQ-500-30",
    "recipe": [{"color": "BLACK", "percent": 40}, {"color": "RED", "percent": 60}],
    "recipe_canonical": "BLACK:40,RED:60",
    "params": {
        "product": {
            "sku": "SQ-500-30",
            "shape": "square",
            "width_mm": 500,
            "height_mm": 500,
            "thickness_mm": 30,
            "granule_size": "medium",
        },
        "recipe": "BLACK:40,RED:60",
        "engine": "procedural",
        "view": "perspective",
        "angle": 30,
        "size": 1024,
        "seed": 777873876,
        "quality": "standard",
        "options": {},
        "tilt": 55.0,
    },
    "render_key": "21e972c0f4002f426a6495e0f1793942fed3083726bc4161493e8cb714dad467",
    "engine": "procedural",
    "engine_version": "2.1.0",
    "model_revision": "",
    "queue": "interactive",
    "source": "api",
    "attempts": 0,
    "worker": "",
    "device": "",
    "created_at": "2026-11-29T12:09:28.494763Z",
    "started_at": None,
    "finished_at": None,
    "result": None,
    "fidelity": None,
    "telemetry": None,
    "error": None,
}

SUCCEEDED_JOB = QUEUED_JOB | {
    "status": "succeeded",
    "progress": 100,
    "attempts": 1,
    "device": "cpu (x86_64, 2 cores)",
    "started_at": "2026-11-29T12:09:28.497569Z",
    "finished_at": "2026-11-29T12:09:29.301390Z",
    "result": {
        "image": f"{_IMAGE}.png",
        "thumbnail": f"{_IMAGE}.thumb.webp",
        "width": 1024,
        "height": 1024,
    },
    "fidelity": {
        "shares": {"BLACK": 40.0, "RED": 60.0},
        "max_share_error_pp": 0.0,
        "delta_e00": {"BLACK": 0.03, "RED": 0.11},
        "appearance_delta_e00": 2.38,
        "tile_fraction": 0.24,
    },
    "telemetry": {
        "queue_wait_s": 0.0028,
        "time_to_first_progress_s": 0.2976,
        "load_s": 0.1888,
        "inference_s": 0.3581,
        "postprocess_s": 0.1264,
        "store_s": 0.0084,
        "other_s": 0.1221,
        "total_s": 0.8038,
        "engine_render_s": 0.454,
        "cache_hit": False,
        "oom_retries": 0,
        "batch_size": 1,
        "peak_device_memory_mb": None,
        "total_device_memory_mb": None,
        "memory_budget_mb": None,
        "gpu_util_mean": None,
        "gpu_util_max": None,
        "cpu_percent_mean": 103.47,
        "rss_peak_mb": 185.4,
        "device_name": "cpu (x86_64, 2 cores)",
        "versions": {},
        "created_at": "2026-11-29T12:09:29.303463Z",
    },
}

SUBMIT_EXAMPLES = [
    OpenApiExample(
        "A recipe as a list",
        value={
            "product": "SQ-500-30",
            "recipe": [{"color": "RED", "percent": 60}, {"color": "BLACK", "percent": 40}],
            "view": "perspective",
            "angle": 30,
            "size": 1024,
        },
        request_only=True,
    ),
    OpenApiExample(
        "A recipe as text",
        value={"product": "SQ-500-30", "recipe": "RED:60,BLACK:40", "view": "top"},
        request_only=True,
    ),
    OpenApiExample("A new job (201)", value=QUEUED_JOB, response_only=True, status_codes=["201"]),
    OpenApiExample(
        "An identical render already asked for (200)",
        value=SUCCEEDED_JOB,
        response_only=True,
        status_codes=["200"],
    ),
    OpenApiExample(
        "A recipe that does not add up (400)",
        value={
            "error": {
                "code": "invalid",
                "message": "recipe: the percents sum to 99; they must sum to exactly 100",
                "fields": {"recipe": ["the percents sum to 99; they must sum to exactly 100"]},
            }
        },
        response_only=True,
        status_codes=["400"],
    ),
]

POLL_EXAMPLES = [
    OpenApiExample("A finished render", value=SUCCEEDED_JOB, response_only=True),
]
