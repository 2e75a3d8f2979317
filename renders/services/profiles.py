"""Model profiles: a job's `options.model` naming a profile becomes the profile's settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from renders.errors import RenderRequestError
from renders.models import ModelProfile


def is_profile_name(reference: object) -> bool:
    """A model reference without a path separator names a profile; one with, a folder."""
    return isinstance(reference, str) and "/" not in reference and "\\" not in reference


def profile_control(*, profile: ModelProfile, angle: int) -> dict[str, Any] | None:
    """The ControlNet the profile's table picks for `angle` (None: off, or no table)."""
    for row in profile.control_by_angle or []:
        if angle <= int(row.get("up_to", 359)):
            kind = row.get("type", "off")
            if kind == "off":
                return None
            folder = (profile.controlnets or {}).get(kind)
            if folder is None:
                raise RenderRequestError(
                    f"model profile {profile.name!r} picks a {kind} ControlNet at {angle} "
                    "degrees but names no folder for it",
                    fields={"options": [f"profile {profile.name}: no {kind} ControlNet"]},
                )
            return {"type": kind, "model": folder, "scale": float(row.get("scale", 0.5))}
    return None


def profile_options(
    *, profile: ModelProfile, options: Mapping[str, Any], angle: int
) -> dict[str, Any]:
    """The job's options with the profile's settings filled in (the job's own win)."""
    resolved: dict[str, Any] = {
        "textual_inversions": list(profile.textual_inversions or []),
        "loras": list(profile.loras or []),
    }
    control = profile_control(profile=profile, angle=angle)
    if control is not None:
        resolved["controlnet"] = control
    # Only what differs from the engine's defaults, so render keys made before these
    # settings existed still match.
    if profile.dtype != "auto":
        resolved["dtype"] = profile.dtype
    if profile.scheduler != "default":
        resolved["scheduler"] = profile.scheduler
    if profile.preset_steps:
        resolved["preset_steps"] = dict(profile.preset_steps)
    if profile.prompt:
        resolved["prompt"] = profile.prompt
    resolved.update({k: v for k, v in options.items() if k != "model"})
    resolved["model"] = profile.base_model
    resolved["profile"] = profile.name
    return resolved


def model_profile_resolve(*, options: Mapping[str, Any], angle: int) -> tuple[dict[str, Any], str]:
    """(options with a named profile resolved, the revision for the render key)."""
    reference = options.get("model")
    if not is_profile_name(reference):
        return dict(options), ""
    profile = ModelProfile.objects.filter(name=reference, is_active=True).first()
    if profile is None:
        message = f"there is no active model profile named {reference!r}"
        raise RenderRequestError(f"options.model: {message}", fields={"options": [message]})
    return profile_options(profile=profile, options=options, angle=angle), profile.revision
