"""Sending one signed webhook POST safely: the URL policy, the signature and the HTTP call.

A webhook URL is the one place where a client makes this backend open a connection of
its choosing, so (outside DEBUG) every address a host name resolves to must be public:
no private, loopback, link-local (cloud metadata), multicast or reserved address, except
the networks listed in WEBHOOK_ALLOWED_NETWORKS. The check is made after DNS resolution,
and the connection goes to the very address that was checked (a second lookup could
answer differently); each redirect is checked the same way. One attempt is bounded in
time as a whole, not only per read, so a receiver that drips bytes cannot hold a sender.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import hmac
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from django.conf import settings

SIGNATURE_HEADER = "Plitka-Signature"
TIMESTAMP_HEADER = "Plitka-Timestamp"
DELIVERY_HEADER = "Plitka-Delivery"
EVENT_HEADER = "Plitka-Event"
USER_AGENT = "Plitka-Webhooks/1"
MAX_REDIRECTS = 3
RESOLVE_TIMEOUT_S = 2.0
RESPONSE_EXCERPT = 300  # characters of the receiver's answer kept in the delivery log
REDIRECTS = {301, 302, 303, 307, 308}

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class WebhookUrlRefused(ValueError):
    """The URL cannot be a webhook (scheme, shape, or an address it may not reach)."""


class WebhookHostUnresolved(WebhookUrlRefused):
    """The host name does not resolve (now): at delivery, worth trying again later."""


def webhook_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """`v1=` and the hex HMAC-SHA256 of `<timestamp>.<body>` under the webhook's secret."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def _address_allowed(address: IpAddress) -> bool:
    if settings.WEBHOOK_ALLOW_PRIVATE:
        return True
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for network in settings.WEBHOOK_ALLOWED_NETWORKS:
        if address in ipaddress.ip_network(network, strict=False):
            return True
    return address.is_global and not address.is_multicast


_resolver = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="resolve")


def _resolve(host: str, port: int) -> list[IpAddress]:
    """The host's addresses; getaddrinfo has no timeout of its own, so it gets one here."""
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        return [literal]
    lookup = _resolver.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        infos = lookup.result(timeout=RESOLVE_TIMEOUT_S)
    except concurrent.futures.TimeoutError as exc:
        raise WebhookHostUnresolved(
            f"{host} did not resolve within {RESOLVE_TIMEOUT_S:g} s"
        ) from exc
    except (OSError, UnicodeError) as exc:
        raise WebhookHostUnresolved(f"{host} does not resolve") from exc
    found: list[IpAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address not in found:
            found.append(address)
    return found


@dataclass(frozen=True, slots=True)
class Target:
    """A checked URL: where to connect, and what to call the host on the wire."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[IpAddress, ...]


def webhook_url_check(url: str) -> Target:
    """The URL's target if a webhook may POST to it, else WebhookUrlRefused saying why."""
    if len(url) > 2000:
        raise WebhookUrlRefused("the URL is longer than 2000 characters")
    if not (url.isascii() and url.isprintable()) or " " in url:
        raise WebhookUrlRefused("the URL must be printable ASCII without spaces")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise WebhookUrlRefused(f"the URL cannot be read: {exc}") from exc
    if parts.scheme not in ("http", "https"):
        raise WebhookUrlRefused("only http and https URLs can be webhooks")
    if not parts.hostname:
        raise WebhookUrlRefused("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise WebhookUrlRefused(
            "the URL carries credentials; the signature header authenticates deliveries"
        )
    port = port or (443 if parts.scheme == "https" else 80)
    addresses = _resolve(parts.hostname, port)
    refused = [str(address) for address in addresses if not _address_allowed(address)]
    if refused or not addresses:
        raise WebhookUrlRefused(
            f"{parts.hostname} resolves to {', '.join(refused) or 'nothing'}: a private, "
            "loopback, link-local or reserved address, which webhooks may not reach"
        )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port, path, tuple(addresses))


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked address, whatever the host name would resolve to now."""

    def __init__(self, target: Target, address: IpAddress, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((str(self._address), self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target, address: IpAddress, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection((str(self._address), self.port), self.timeout)
        # The certificate is checked against the host name, not the address connected to.
        self.sock = ssl.create_default_context().wrap_socket(raw, server_hostname=self.host)


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one attempt got: an HTTP status, or an error (then status is None)."""

    url: str
    status: int | None
    error: str
    excerpt: str
    retry_after_s: float | None
    seconds: float

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def retryable(self) -> bool:
        """5xx, 429, 408, a timeout or a connection error: worth trying again later."""
        if self.status is None:
            return not self.error.startswith("refused:")
        return self.status >= 500 or self.status in (408, 429)


def _retry_after(value: str | None) -> float | None:
    if value and value.strip().isdigit() and len(value.strip()) <= 6:
        return float(value.strip())
    return None


def _post_once(target: Target, headers: dict[str, str], body: bytes, deadline: float) -> Any:
    """POST to the first address that connects; the caller's deadline bounds it all."""
    last_error: OSError | None = None
    for address in target.addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        kind = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
        connection = kind(target, address, timeout=remaining)
        # A watchdog ends the attempt at the deadline even if bytes keep trickling in.
        cut_off = threading.Event()
        watchdog = threading.Timer(remaining, _abort, args=(connection, cut_off))
        watchdog.daemon = True
        watchdog.start()
        try:
            connection.request("POST", target.path, body=body, headers=headers)
            response = connection.getresponse()
            excerpt = response.read(RESPONSE_EXCERPT * 4)
        except OSError as exc:
            last_error = exc
            continue
        finally:
            watchdog.cancel()
            connection.close()
        if cut_off.is_set():  # what was read before the cut is not an answer
            raise TimeoutError(f"no complete answer within {settings.WEBHOOK_TIMEOUT_S:g} s")
        return response, excerpt
    raise last_error or TimeoutError("no time left to connect")


def _abort(connection: http.client.HTTPConnection, cut_off: threading.Event) -> None:
    cut_off.set()
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def webhook_post(*, url: str, secret: str, delivery_id: str, event: str, body: bytes) -> Attempt:
    """One signed POST of `body`, following up to MAX_REDIRECTS redirects (each checked)."""
    started = time.monotonic()
    deadline = started + settings.WEBHOOK_TIMEOUT_S
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        DELIVERY_HEADER: delivery_id,
        EVENT_HEADER: event,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: webhook_signature(secret=secret, timestamp=timestamp, body=body),
    }

    def outcome(status: int | None, error: str = "", excerpt: str = "", **extra: Any) -> Attempt:
        return Attempt(
            url=url[:300],
            status=status,
            error=error[:300],
            excerpt=excerpt[:RESPONSE_EXCERPT],
            retry_after_s=extra.get("retry_after_s"),
            seconds=round(time.monotonic() - started, 3),
        )

    for _hop in range(MAX_REDIRECTS + 1):
        try:
            target = webhook_url_check(url)
        except WebhookHostUnresolved as exc:
            return outcome(None, f"dns: {exc}")
        except WebhookUrlRefused as exc:
            return outcome(None, f"refused: {exc}")
        try:
            response, raw = _post_once(target, headers, body, deadline)
        except (OSError, http.client.HTTPException) as exc:
            return outcome(None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
        location = response.getheader("Location")
        if response.status in REDIRECTS and location:
            # The same POST, body and signature to the new place (a receiver that moved).
            url = urljoin(url, location[:2000])
            continue
        return outcome(
            response.status,
            excerpt=raw.decode("utf-8", "replace"),
            retry_after_s=_retry_after(response.getheader("Retry-After")),
        )
    return outcome(None, f"refused: more than {MAX_REDIRECTS} redirects")
