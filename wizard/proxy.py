"""Forwarded headers, believed only from the reverse proxies we were told about.

Behind nginx, the phone's address and the scheme (https) arrive in X-Forwarded-For and
X-Forwarded-Proto. Anyone can send those headers, though: if the app is also reachable directly
(a port left open, another container on the network), a rotating X-Forwarded-For would give a
guesser a fresh rate limit on every request. So the headers are applied only when the request's
own peer address is one of the configured proxies; from anyone else they are ignored.
"""

from __future__ import annotations

import ipaddress

from werkzeug.middleware.proxy_fix import ProxyFix


def networks(setting: str | list | tuple) -> tuple:
    """'127.0.0.1, ::1, 10.0.0.0/8' (or a list of such) -> networks; a bad entry raises."""
    items = setting.split(",") if isinstance(setting, str) else setting
    return tuple(ipaddress.ip_network(str(item).strip(), strict=False)
                 for item in items if str(item).strip())


class TrustedProxyFix:
    """ProxyFix for requests whose peer is a trusted proxy; everything else untouched."""

    def __init__(self, app, trusted: str | list | tuple):
        self.app = app
        self.fixed = ProxyFix(app, x_for=1, x_proto=1)
        self.trusted = networks(trusted)

    def __call__(self, environ, start_response):
        if _peer_in(environ.get("REMOTE_ADDR", ""), self.trusted):
            return self.fixed(environ, start_response)
        return self.app(environ, start_response)


def _peer_in(address: str, trusted: tuple) -> bool:
    try:
        peer = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    return any(peer in network for network in trusted)


def client_key(address: str | None) -> str:
    """The address a rate limit counts: IPv4 as it is, IPv6 by its /64 (one subscriber
    line usually gets a whole /64, so counting single IPv6 addresses would be no limit)."""
    try:
        peer = ipaddress.ip_address((address or "").split("%")[0])
    except ValueError:
        return "unknown"
    if peer.version == 6:
        if peer.ipv4_mapped is not None:
            return str(peer.ipv4_mapped)
        return str(ipaddress.ip_network(f"{peer}/64", strict=False))
    return str(peer)
