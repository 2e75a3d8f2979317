"""How the commands print a colour-fidelity report as a table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from renders.selectors import CellResult, cells_best_per_angle


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


def identification_table(report: Mapping[str, Any]) -> str:
    """Colours found without a recipe, then the nearest whole-percent mix and recipes."""
    lines = [f"{'colour':<10}{'measured %':>12}{'confidence':>12}  {'could be':<10}{'ΔE to it':>9}"]
    for colour in report["colours"]:
        lines.append(
            f"{colour['code']:<10}{colour['percent']:>12.1f}{colour['confidence']:>12.2f}  "
            f"{colour['runner_up'] or '-':<10}{colour['delta_e00']:>9.2f}"
        )
    if not report["colours"]:
        lines.append("no stock colour found")
    nearest = report["nearest_stock_mix"]
    if nearest:
        lines.append(f"nearest whole-percent mix: {nearest['name']}")
    for match in report["nearest_recipes"]:
        lines.append(
            f"nearest recipe: {match['name']} ({match['key']}): {match['distance_pp']:.1f} pp "
            f"of area apart, ΔE2000 {match['delta_e00']:.2f}"
        )
    lines.append(
        f"tile fraction of the picture: {report['tile_fraction']:.3f}; "
        f"granules measured: {report['granules']}"
    )
    lines.extend(f"warning: {warning}" for warning in report["warnings"])
    return "\n".join(lines)


def experiment_table(results: Sequence[CellResult]) -> str:
    """One line per cell, the winner of each angle marked."""
    winners = {id(r) for r in cells_best_per_angle(results).values()}
    lines = [
        f"{'angle':>5}  {'control':<14}{'status':<11}{'before pp':>10}{'after pp':>9}"
        f"{'ΔE2000':>8}{'render s':>9}{'peak MB':>9}"
    ]
    for r in results:
        cell = r.cell
        setting = cell.control if cell.control == "off" else f"{cell.control} {cell.scale:g}"
        lines.append(
            f"{cell.angle:>5}  {setting:<14}{r.status:<11}{_num(r.error_before_pp, 1):>10}"
            f"{_num(r.error_pp, 1):>9}{_num(r.appearance_delta_e, 2):>8}{_num(r.seconds, 2):>9}"
            f"{_num(r.peak_memory_mb, 0):>9}" + ("  winner" if id(r) in winners else "")
        )
    return "\n".join(lines)


def _num(value: float | None, places: int) -> str:
    return "-" if value is None else f"{value:.{places}f}"
