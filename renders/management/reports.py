"""How the commands print a colour-fidelity report as a table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def fidelity_table(fidelity: Mapping[str, Any], recipe: Mapping[str, int] | None = None) -> str:
    shares: dict[str, float] = fidelity["shares"]
    delta: dict[str, float] = fidelity["delta_e00"]
    lines = [f"{'colour':<10}{'recipe %':>10}{'measured %':>12}{'ΔE2000':>9}"]
    codes = sorted(set(shares) | set(recipe or {}))
    for code in codes:
        target = "" if recipe is None else str(recipe.get(code, 0))
        measured = f"{shares.get(code, 0.0):.1f}"
        de = f"{delta[code]:.2f}" if code in delta else "-"
        lines.append(f"{code:<10}{target:>10}{measured:>12}{de:>9}")
    if fidelity.get("max_share_error_pp") is not None:
        lines.append(f"largest share error: {fidelity['max_share_error_pp']:.1f} pp")
    if fidelity.get("appearance_delta_e00") is not None:
        lines.append(f"whole top face vs recipe mix: ΔE2000 {fidelity['appearance_delta_e00']:.2f}")
    lines.append(f"tile fraction of the picture: {fidelity['tile_fraction']:.3f}")
    return "\n".join(lines)
