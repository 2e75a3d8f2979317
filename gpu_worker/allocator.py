"""Keep the memory a render frees in the render process, for the next render.

A 1024 px procedural render allocates and frees a few dozen arrays of 4-12 MB. glibc's
malloc gives blocks that large mappings of their own and unmaps them on free, so renders
have their arrays faulted in again, page by page: back to back, 11,000 page faults (44 MB)
per render; with the colour measurement in between, as in a job, 1,000-2,000. Told to
serve blocks up to 32 MB (glibc's largest threshold) from its heap and to keep up to
`keep_bytes` of free heap instead of returning it, malloc hands the next render the memory
the last one freed: no faults, and the render took 0.92-0.96x the time with the measurement
in between (`benchmarks/bench_procedural.py --default-allocator` measures without it).

The cost: between jobs the process holds up to `keep_bytes` it is not using. The peak is no
higher (the same arrays, reused), and a 2048 px render's largest arrays (48 MB) still get
mappings of their own.
"""

from __future__ import annotations

import ctypes

# mallopt's parameters (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_MAX = 32 * 1024 * 1024  # glibc's HEAP_MAX for 64-bit: larger is refused
KEEP_BYTES_MAX = 2**31 - 1  # mallopt takes an int
# What a render worker keeps by default (RENDER_HEAP_KEEP_MB): a 1024 px render's working
# set (peak RSS 174 MB), with room.
KEEP_MB_DEFAULT = 256


def allocator_keep_freed(*, keep_bytes: int) -> bool:
    """Set this process's malloc to reuse freed picture memory (see the module). True when
    set; False where the C library is not glibc (nothing changes there)."""
    if not 0 <= keep_bytes <= KEEP_BYTES_MAX:
        raise ValueError(f"keep_bytes must be 0..{KEEP_BYTES_MAX}, not {keep_bytes}")
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library this process runs on
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    # Order matters: setting either turns off glibc's own moving of both thresholds.
    return bool(
        mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_MAX) == 1
        and mallopt(_M_TRIM_THRESHOLD, keep_bytes) == 1
    )
