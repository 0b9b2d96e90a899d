"""Which proxy a feed URL goes through: HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY.

The environment is read as the standard library reads it (either case; NO_PROXY by
host name suffix, "*" for none), as httpx did for the feeds before (its
`trust_env`), so a daemon set up behind a proxy keeps working.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Mapping


def environment_proxies() -> dict[str, str]:
    """The proxy settings of this process's environment ({} when there are none)."""
    return urllib.request.getproxies_environment()


def proxy_for(scheme: str, host: str, proxies: Mapping[str, str]) -> str | None:
    """The proxy URL for a request to `host` by `scheme`, or None to go direct."""
    proxy = proxies.get(scheme) or proxies.get("all")
    bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]
    if not proxy or bypass(host, dict(proxies)):
        return None
    return proxy if "://" in proxy else f"http://{proxy}"
