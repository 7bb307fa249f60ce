"""Fetch one policy page over http(s): a timeout, a size cap, a User-Agent naming ClauseCite, and an
optional refusal of loopback, private and link-local addresses that also holds after redirects.

The address check runs where the socket connects, on the address actually dialled, so a name that
resolves to 127.0.0.1 (or re-resolves there between a check and a connect) is refused just the same.
"""

from __future__ import annotations

import datetime as dt
import functools
import http.client
import ipaddress
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ingest.fetch import MAX_BYTES, FetchError
from settings import SettingsError

USER_AGENT = "ClauseCite/1.0 (privacy policy change checker; fetches one page per check)"
CHUNK = 64 * 1024
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class UrlRefused(FetchError):
    """A URL that points at this machine or a private network while such addresses are refused."""


@dataclass(frozen=True)
class Guard:
    """Refuse loopback, private, link-local and other non-public addresses, except the networks allowed."""

    allowed: tuple[Network, ...] = ()

    def check(self, host: str, ip: str) -> None:
        """Raise UrlRefused when `ip` (what `host` resolved to) is not a public address."""
        addr = ipaddress.ip_address(ip.split("%", 1)[0])
        if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
            addr = addr.ipv4_mapped
        if addr.is_global or any(addr in net for net in self.allowed):
            return
        raise UrlRefused(
            f"{host} is {addr}, a loopback, private or link-local address; this server refuses "
            "to fetch such addresses because it listens beyond 127.0.0.1 (set "
            "CLAUSECITE_ALLOW_PRIVATE_URLS=1, or a list of networks, to allow them)"
        )


def guard_for(host: str, allow_private: str) -> Guard | None:
    """The guard an app listening on `host` needs: none on loopback or when every address is allowed.

    `allow_private` is "", "1"/"all" (allow everything), or a comma-separated list of addresses or
    networks (e.g. "10.0.0.0/8,127.0.0.1") to allow while refusing the rest.
    """
    allow = allow_private.strip().lower()
    if allow in ("1", "all", "true", "yes") or _is_loopback(host):
        return None
    try:
        nets = tuple(ipaddress.ip_network(part.strip(), strict=False) for part in allow.split(",") if part.strip())
    except ValueError as exc:
        raise SettingsError(f"CLAUSECITE_ALLOW_PRIVATE_URLS: {exc}; write 1, or networks such as 10.0.0.0/8") from None
    return Guard(nets)


def _is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _connect(
    address: tuple[str, int],
    timeout: float | None = None,
    source_address: tuple[str, int] | None = None,
    *,
    guard: Guard,
) -> socket.socket:
    """socket.create_connection, dialling only addresses the guard accepts (`get` always sets a timeout)."""
    host, port = address
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    for *_, sockaddr in infos:
        guard.check(host, str(sockaddr[0]))  # every address: a name must not mix a public and a private one
    family, kind, proto, _, sockaddr = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        if isinstance(timeout, (int, float)):
            sock.settimeout(timeout)
        sock.connect(sockaddr)
        return sock
    except BaseException:
        sock.close()
        raise


def _guarded(cls: type[Any], guard: Guard) -> type[Any]:
    class Guarded(cls):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._create_connection = functools.partial(_connect, guard=guard)

    return Guarded


class _Redirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects to http(s) only; each hop connects through the same guard."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if urlsplit(newurl).scheme not in ("http", "https"):
            raise UrlRefused(f"{req.full_url} redirects to {newurl}, which is not an http(s) URL")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener(guard: Guard | None) -> urllib.request.OpenerDirector:
    if guard is None:
        return urllib.request.build_opener(_Redirects())

    class Http(urllib.request.HTTPHandler):
        def http_open(self, req):
            return self.do_open(_guarded(http.client.HTTPConnection, guard), req)

    class Https(urllib.request.HTTPSHandler):
        def https_open(self, req):
            return self.do_open(_guarded(http.client.HTTPSConnection, guard), req, context=self._context)

    # no proxy: a proxy would resolve the name itself, out of the guard's sight
    return urllib.request.build_opener(urllib.request.ProxyHandler({}), Http(), Https(), _Redirects())


@dataclass(frozen=True)
class Page:
    """What one GET returned: the URL asked, the URL after redirects, bytes, content type, fetch date."""

    url: str
    final_url: str
    data: bytes
    content_type: str
    fetched: str


def get(url: str, *, timeout: float = 30, max_bytes: int = MAX_BYTES, guard: Guard | None = None) -> Page:
    """GET a policy page within `timeout` seconds in all and `max_bytes`; failures are FetchErrors saying why."""
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
        raise FetchError(f"{url!r} is not an http(s) URL")
    request = urllib.request.Request(
        url,
        headers={
            "User-Agent": USER_AGENT,
            "Accept": "text/html,text/markdown,text/plain,application/pdf;q=0.9,*/*;q=0.5",
        },
    )
    deadline = time.monotonic() + timeout
    try:
        with _opener(guard).open(request, timeout=timeout) as response:
            declared = int(response.headers.get("Content-Length") or 0)
            if declared > max_bytes:
                raise _too_large(url, max_bytes)
            data = _read(response, url, max_bytes, deadline, timeout)
            kind = response.headers.get_content_type() if response.headers.get("Content-Type") else ""
            final = response.geturl()
    except urllib.error.HTTPError as exc:
        raise FetchError(f"{url} answered {exc.code} {exc.reason}; check the address") from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, FetchError):
            raise exc.reason from None
        raise FetchError(f"could not fetch {url}: {_why(exc.reason)}") from None
    except TimeoutError:
        raise FetchError(f"{url} did not answer within {timeout:g} s") from None
    except (OSError, http.client.HTTPException) as exc:
        raise FetchError(f"could not fetch {url}: {_why(exc)}") from None
    return Page(url, final, data, kind, dt.date.today().isoformat())


def _read(response: Any, url: str, max_bytes: int, deadline: float, timeout: float) -> bytes:
    """The body in chunks: never more than max_bytes + 1 bytes, never past the deadline."""
    parts, size = [], 0
    while chunk := response.read(CHUNK):
        parts.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(url, max_bytes)
        if time.monotonic() > deadline:
            raise FetchError(f"{url} did not finish sending within {timeout:g} s")
    return b"".join(parts)


def _too_large(url: str, max_bytes: int) -> FetchError:
    return FetchError(f"{url} sends more than {max_bytes:,} bytes, over the limit for a policy; nothing was kept")


def _why(reason: object) -> str:
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return "it timed out"
    return str(reason)
