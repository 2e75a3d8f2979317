"""How a request tells the web server that from now on it only waits (a long poll).

The production worker (`plitka_site/web_worker.py`) lets each process work on a few
requests at once and leaves the rest in the listen queue that all its processes share. A
long poll then waits up to 30 s on Redis, which needs no turn: it gives its turn back, and
its process takes the next request while the long poll's thread waits. Without that worker
(runserver, tests, another WSGI server) giving a turn back does nothing.
"""

from __future__ import annotations

from typing import Protocol


class TurnKeeper(Protocol):
    def turn_give_back(self) -> None:
        """The calling thread's request no longer needs its turn (idempotent)."""


_keeper: TurnKeeper | None = None


def turn_keeper_install(keeper: TurnKeeper | None) -> None:
    """Called by the worker in each web process it starts."""
    global _keeper
    _keeper = keeper


def turn_give_back() -> None:
    """The current request only waits from now on; its process may serve another meanwhile.
    The request still finishes afterwards (a millisecond of work), outside any turn."""
    if _keeper is not None:
        _keeper.turn_give_back()
