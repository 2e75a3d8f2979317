"""Colour science from scratch: conversions, CIEDE2000, apportionment, fidelity analysis."""

from .analyzer import Fidelity, fidelity_measure
from .apportion import largest_remainder
from .ciede2000 import delta_e00

__all__ = ["Fidelity", "delta_e00", "fidelity_measure", "largest_remainder"]
