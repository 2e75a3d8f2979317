"""The web process's gunicorn worker: the sync worker's fair share-out, plus long polls.

gunicorn's sync worker takes a connection from the listen queue only when it is free, so its
processes share one queue and a request never waits behind a busy process while another is
idle. It cannot hold a long poll (`?wait=30`): its process would stop for 30 s. The gthread
worker can, but it takes every connection it is offered and queues the requests inside its
own process (with keep-alive a client stays with the process it first reached), and its
threads take turns on the interpreter lock in the middle of requests. Measured beside each
other (`benchmarks/bench_api.py`, 16 clients), the status poll's p99 latency under gthread
was 3-4 times the sync worker's at the same throughput.

This worker keeps `GUNICORN_THREADS` threads per process, of which at most
`GUNICORN_REQUESTS_AT_ONCE` hold a turn. Only a thread with a turn takes a connection, serves
its one request and closes it, as the sync worker does; the other connections stay in the
shared listen queue for whichever process frees a turn first. A long poll gives its turn
back while it waits (`plitka_site.web_turns.turn_give_back`): its thread waits on Redis and
the turn serves the next request.

- A connection whose client has sent nothing 2 ms after it was taken (a browser's spare,
  preconnected socket) waits in the lobby, one thread watching such sockets, instead of in
  a turn; once its request arrives it is served before any new connection. The lobby
  closes a connection silent for `LOBBY_WAIT_S`.
- Every response closes its connection (no keep-alive), as with the sync worker: a kept
  connection would tie its client to one process. A reverse proxy speaks to its upstreams
  that way by default (nginx's HTTP/1.0 to upstreams).
- A request that holds its turn over a second holds back this process's heartbeat, so one
  stuck for `GUNICORN_TIMEOUT` gets the process replaced by gunicorn's arbiter, as a stuck
  sync worker would be. A thread that fails in a way it does not expect stops the process
  too, rather than leaving it to serve with fewer threads.
"""

from __future__ import annotations

import contextlib
import errno
import os
import resource
import select
import selectors
import socket
import threading
import time
from collections import deque
from typing import Any

from gunicorn import util
from gunicorn.workers.sync import SyncWorker

from plitka_site.env import web_requests_at_once
from plitka_site.web_turns import turn_keeper_install

# How long an accepted connection may stay silent before the lobby closes it (nginx waits
# 60 s for a request's head; a browser drops an unused preconnected socket after about 10).
LOBBY_WAIT_S = 15.0
# How long a turn waits for a new connection's first bytes before it leaves the connection
# to the lobby: a client sends its request right behind the handshake, so this is nearly
# always enough, and the hop through the lobby costs more (at one client, 0.87x the
# requests per second).
FIRST_BYTES_WAIT_S = 0.002
# Each read or write of a request served in a turn: a client that stalls longer loses its
# connection instead of holding the turn (the whole request is bounded by GUNICORN_TIMEOUT).
CLIENT_IO_TIMEOUT_S = 10.0
# How often a thread waiting for a turn or a connection looks whether the process stops.
IDLE_CHECK_S = 0.5

_NOTHING_WAITING = (errno.EAGAIN, errno.EWOULDBLOCK, errno.ECONNABORTED)
# accept() passes on errors already pending on the new connection: that client is gone.
_CLIENT_GONE = (
    errno.ECONNRESET, errno.EPROTO, errno.ENETDOWN, errno.ENETUNREACH, errno.EHOSTDOWN,
    errno.EHOSTUNREACH, errno.ENONET, errno.ENOPROTOOPT, errno.EOPNOTSUPP, errno.ETIMEDOUT,
)  # fmt: skip
# Out of file descriptors or kernel memory: the connection waits in the queue meanwhile.
_NO_ROOM = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)
NO_ROOM_PAUSE_S = 0.1
# The main thread keeps the arbiter's heartbeat while no request has held a turn longer than
# this; a longer one holds it back, so a request stuck for GUNICORN_TIMEOUT gets its process
# replaced, as a sync worker's would.
HEARTBEAT_BUSY_S = 1.0

# (listener, client socket, client address): what SyncWorker.handle serves.
Accepted = tuple[socket.socket, socket.socket, Any]


def _readable(*sources: socket.socket | int, timeout_s: float) -> bool:
    """Whether any of `sources` becomes readable within `timeout_s`."""
    poller = select.poll()  # not select.select: file descriptors past 1023 are normal here
    for source in sources:
        poller.register(source, select.POLLIN)
    return bool(poller.poll(timeout_s * 1000))


def _drain(fd: int) -> None:
    with contextlib.suppress(BlockingIOError):
        os.read(fd, 4096)


class Lobby:
    """Connections accepted before their client sent anything, watched by one thread until
    their request arrives, off the turns."""

    def __init__(self, *, wait_s: float, capacity: int, log: Any) -> None:
        self.wait_s = wait_s
        self.capacity = capacity
        self.log = log
        self._selector = selectors.DefaultSelector()
        self._lock = threading.Lock()
        self._arrivals: deque[tuple[Accepted, float]] = deque()
        self._ready: deque[Accepted] = deque()
        # Wakes the lobby's thread (arrivals, closing); tells the turns a connection is ready.
        self._wake_r, self._wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self.ready_fd, self._ready_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        self._open = True
        self._thread = threading.Thread(target=self._watch, name="lobby", daemon=True)
        self._thread.start()

    def admit(self, accepted: Accepted) -> None:
        with self._lock:
            self._arrivals.append((accepted, time.monotonic()))
        self._signal(self._wake_w)

    def take(self) -> Accepted | None:
        """A connection whose request has arrived, if any."""
        _drain(self.ready_fd)
        with self._lock:
            if not self._ready:
                return None
            accepted = self._ready.popleft()
            more = bool(self._ready)
        if more:  # another thread waiting for a connection should look too
            self._signal(self._ready_w)
        return accepted

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def close(self) -> list[Accepted]:
        """Stop watching; closes the silent connections and returns those whose request
        has arrived, for the caller to serve."""
        self._open = False
        self._signal(self._wake_w)
        self._thread.join(timeout=2)
        with self._lock:
            ready, self._ready = list(self._ready), deque()
            silent, self._arrivals = list(self._arrivals), deque()
        for accepted, _ in silent:
            util.close(accepted[1])
        return ready

    def _watch(self) -> None:
        waiting: dict[int, tuple[Accepted, float]] = {}
        try:
            self._watch_until_closed(waiting)
        except Exception:  # the worker sees the thread gone and stops the process
            self.log.exception("the lobby failed")
        for accepted, _ in waiting.values():
            util.close(accepted[1])

    def _watch_until_closed(self, waiting: dict[int, tuple[Accepted, float]]) -> None:
        while self._open:
            oldest = min((since for _, since in waiting.values()), default=None)
            timeout = 1.0 if oldest is None else max(0.0, oldest + self.wait_s - time.monotonic())
            for key, _ in self._selector.select(min(timeout, 1.0)):
                if key.fd == self._wake_r:
                    _drain(self._wake_r)
                    with self._lock:
                        arrivals, self._arrivals = list(self._arrivals), deque()
                    for accepted, since in arrivals:
                        waiting[accepted[1].fileno()] = (accepted, since)
                        self._selector.register(accepted[1], selectors.EVENT_READ)
                    continue
                accepted, _ = waiting[key.fd]
                request = self._has_request(accepted[1])
                if request is None:  # woken without data after all: keep waiting
                    continue
                del waiting[key.fd]
                self._selector.unregister(accepted[1])
                if request:
                    with self._lock:
                        self._ready.append(accepted)
                    self._signal(self._ready_w)
                else:
                    util.close(accepted[1])
            self._close_stale(waiting)

    def _close_stale(self, waiting: dict[int, tuple[Accepted, float]]) -> None:
        deadline = time.monotonic() - self.wait_s
        by_age = sorted(waiting.items(), key=lambda item: item[1][1])
        excess = len(by_age) - self.capacity
        for index, (fd, (accepted, since)) in enumerate(by_age):
            if since > deadline and index >= excess:
                break
            del waiting[fd]
            self._selector.unregister(accepted[1])
            util.close(accepted[1])

    @staticmethod
    def _has_request(client: socket.socket) -> bool | None:
        """True: data has come; False: closed by its client (or failed); None: neither."""
        try:
            return bool(client.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT))
        except BlockingIOError:
            return None
        except OSError:
            return False

    @staticmethod
    def _signal(fd: int) -> None:
        with contextlib.suppress(BlockingIOError):  # a full pipe already says so
            os.write(fd, b"x")


class TurnWorker(SyncWorker):
    """See the module's docstring."""

    def run(self) -> None:
        for listener in self.sockets:
            listener.setblocking(False)
        self.turns = threading.BoundedSemaphore(web_requests_at_once())
        self.holds_turn = threading.local()
        # Thread id -> when the request it serves in a turn began (for the heartbeat).
        self.busy_since: dict[int, float] = {}
        # Silent connections hold file descriptors: at most half of what the process may open.
        descriptors = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        capacity = min(self.cfg.worker_connections, max(16, descriptors // 2))
        self.lobby = Lobby(wait_s=LOBBY_WAIT_S, capacity=capacity, log=self.log)
        self.first_listener = 0
        turn_keeper_install(self)
        self.servers = [
            threading.Thread(target=self._serve, name=f"request-{number}", daemon=True)
            for number in range(self.cfg.threads)
        ]
        for server in self.servers:
            server.start()
        try:
            self._keep_heartbeat()
        finally:
            self.alive = False  # a quick stop (SIGQUIT, SIGINT) exits from here at once
        # A graceful stop (SIGTERM, GUNICORN_MAX_REQUESTS, the parent gone, a failed thread):
        # the requests in hand finish, long polls included, within the grace period, and so
        # do those that had arrived in the lobby.
        deadline = time.monotonic() + self.cfg.graceful_timeout
        while any(server.is_alive() for server in self.servers):
            if time.monotonic() > deadline:
                return
            self._beat()
            for server in self.servers:
                server.join(0.2)
        for accepted in self.lobby.close():
            self._serve_one(accepted)

    def _serve_one(self, accepted: Accepted) -> None:
        listener, client, address = accepted
        client.settimeout(CLIENT_IO_TIMEOUT_S)
        self.handle(listener, client, address)  # answers, logs and closes, whatever happens

    def _keep_heartbeat(self) -> None:
        """The main thread: signals, the arbiter's heartbeat, a parent gone away, a thread
        that failed."""
        while self.alive:
            self._beat()
            if not self.is_parent_alive():
                return
            if not self.lobby.is_alive() or not all(s.is_alive() for s in self.servers):
                self.log.error("a thread of this process stopped: stopping the process")
                return
            if _readable(self.PIPE[0], timeout_s=1.0):  # a signal arrived (set_wakeup_fd)
                _drain(self.PIPE[0])

    def _beat(self) -> None:
        if self._stuck_for() <= HEARTBEAT_BUSY_S:
            self.notify()

    def _stuck_for(self) -> float:
        started = min(list(self.busy_since.values()), default=None)
        return 0.0 if started is None else time.monotonic() - started

    def _serve(self) -> None:
        """One thread: take a turn, serve one connection, give the turn back; repeat. An
        error it does not expect stops the process, which the arbiter replaces."""
        try:
            self._serve_turns()
        except Exception:
            self.log.exception("a request thread failed: stopping this process")
            self.alive = False

    def _serve_turns(self) -> None:
        me = threading.get_ident()
        while self.alive:
            if not self.turns.acquire(timeout=IDLE_CHECK_S):
                continue
            self.holds_turn.value = True
            try:
                accepted = self._next_connection()
                if accepted is not None:
                    self.busy_since[me] = time.monotonic()
                    self._serve_one(accepted)
            finally:
                self.turn_give_back()

    def _next_connection(self) -> Accepted | None:
        """A connection whose request has arrived: the lobby's first, then the listen
        queue's; waits up to IDLE_CHECK_S for one."""
        for attempt in range(2):
            ready = self.lobby.take()
            if ready is not None:
                return ready
            self.first_listener = (self.first_listener + 1) % len(self.sockets)
            listeners = self.sockets[self.first_listener :] + self.sockets[: self.first_listener]
            for listener in listeners:  # each in turn: none waits behind a busy one
                accepted = self._accept(listener)
                if accepted is None:
                    continue
                if _readable(accepted[1], timeout_s=FIRST_BYTES_WAIT_S):
                    return accepted
                self.lobby.admit(accepted)
            if attempt == 0:
                _readable(*self.sockets, self.lobby.ready_fd, timeout_s=IDLE_CHECK_S)
        return None

    def _accept(self, listener: socket.socket) -> Accepted | None:
        try:
            client, address = listener.accept()
        except OSError as error:
            if error.errno in _NOTHING_WAITING or error.errno in _CLIENT_GONE:
                return None
            if error.errno in _NO_ROOM:
                self.log.warning("cannot take a connection (%s): waiting", error)
                time.sleep(NO_ROOM_PAUSE_S)
                return None
            raise
        client.setblocking(True)
        util.close_on_exec(client)
        return listener, client, address

    def turn_give_back(self) -> None:
        if getattr(self.holds_turn, "value", False):
            self.holds_turn.value = False
            self.busy_since.pop(threading.get_ident(), None)
            self.turns.release()
