"""Which proxy a feed URL goes through: HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY.

The environment is read as the standard library reads it (either case; NO_PROXY by
host name suffix, with or without a port, "*" for none), as httpx did for the feeds
before (its `trust_env`), so a daemon set up behind a proxy keeps working.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Mapping


def environment_proxies() -> dict[str, str]:
    """The proxy settings of this process's environment ({} when there are none)."""
    return urllib.request.getproxies_environment()


def proxy_for(scheme: str, host: str, port: int, proxies: Mapping[str, str]) -> str | None:
    """The proxy URL for a request to `host`:`port` by `scheme`, or None to go direct."""
    proxy = proxies.get(scheme) or proxies.get("all")
    if not proxy or _bypassed(host, port, proxies):
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


def _bypassed(host: str, port: int, proxies: Mapping[str, str]) -> bool:
    """Whether NO_PROXY names the host: an entry may carry the port (`host:8080`), and an
    IPv6 address may be written with or without its brackets, as httpx read them."""
    bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]
    return any(bypass(f"{name}:{port}", dict(proxies)) for name in {host, host.strip("[]")})
