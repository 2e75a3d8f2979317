"""Colour science from scratch: conversions, CIEDE2000, apportionment, fidelity analysis."""

from .apportion import largest_remainder
from .ciede2000 import delta_e00
from .measure import Fidelity, fidelity_measure

__all__ = ["Fidelity", "delta_e00", "fidelity_measure", "largest_remainder"]
