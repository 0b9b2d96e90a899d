"""Feeds behind a proxy named by the environment (http_proxy, no_proxy), as before urllib3.

A tiny forwarding proxy on loopback takes the absolute-URI requests and relays them
to the test server, whatever host they name: a feed on a host no DNS knows can only
have been fetched through it.
"""

from __future__ import annotations

import base64
import http.client
import http.server
import threading
from collections.abc import Iterator

import pytest

import feedserver
from feedserver import FeedServer
from newswatch.config import Fetch
from newswatch.sources.http import Fetcher, FetchRequest, FetchResult
from newswatch.sources.proxyenv import proxy_for

BODY = b"<?xml version='1.0'?><rss version='2.0'><channel><title>P</title></channel></rss>"


class _Proxy(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, upstream_port: int) -> None:
        super().__init__(("127.0.0.1", 0), _Forward)
        self.upstream_port = upstream_port
        self.seen: list[tuple[str, str | None]] = []  # (request target, Proxy-Authorization)


class _Forward(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Proxy

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.server.seen.append((self.path, self.headers.get("Proxy-Authorization")))
        path = "/" + self.path.split("://", 1)[-1].split("/", 1)[-1]
        upstream = http.client.HTTPConnection("127.0.0.1", self.server.upstream_port, timeout=10)
        try:
            skip = {"proxy-authorization", "proxy-connection", "host"}
            headers = {k: v for k, v in self.headers.items() if k.lower() not in skip}
            upstream.request("GET", path, headers=headers)
            answer = upstream.getresponse()
            body = answer.read()
        finally:
            upstream.close()
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in {"content-length", "connection", "transfer-encoding"}:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_CONNECT(self) -> None:
        """A tunnel for https: refused here (there is no TLS server to reach)."""
        self.server.seen.append((self.path, self.headers.get("Proxy-Authorization")))
        self.send_response(403)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def proxy(server: FeedServer) -> Iterator[_Proxy]:
    running = _Proxy(server.port)
    threading.Thread(target=running.serve_forever, args=(0.05,), daemon=True).start()
    yield running
    running.shutdown()
    running.server_close()


@pytest.fixture(autouse=True)
def no_proxy_set(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


def fetch(url: str) -> FetchResult:
    with Fetcher(Fetch()) as fetcher:
        return fetcher.fetch(FetchRequest(url))


def test_feeds_go_through_the_proxy_the_environment_names(
    server: FeedServer, proxy: _Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    feedserver.set_route(server, "/via-proxy.xml", feedserver.feed(BODY))
    port = proxy.server_address[1]
    monkeypatch.setenv("http_proxy", f"http://reader:s3cret@127.0.0.1:{port}")
    result = fetch("http://feeds.invalid/via-proxy.xml")
    assert (result.outcome, result.body) == ("ok", BODY)
    token = base64.b64encode(b"reader:s3cret").decode()
    assert proxy.seen == [("http://feeds.invalid/via-proxy.xml", f"Basic {token}")]


def test_no_proxy_hosts_are_fetched_directly(
    server: FeedServer, proxy: _Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = feedserver.set_route(server, "/direct.xml", feedserver.feed(BODY))
    monkeypatch.setenv("HTTP_PROXY", f"127.0.0.1:{proxy.server_address[1]}")  # no scheme: http
    monkeypatch.setenv("NO_PROXY", "example.org,127.0.0.1")
    assert fetch(url).body == BODY
    assert fetch("http://feeds.invalid/direct.xml").outcome == "ok"  # the others: proxied
    assert [target for target, _ in proxy.seen] == ["http://feeds.invalid/direct.xml"]


def test_https_feeds_are_tunnelled_through_the_https_proxy(
    proxy: _Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("https_proxy", f"http://127.0.0.1:{proxy.server_address[1]}")
    result = fetch("https://feeds.invalid/secure.xml")
    assert proxy.seen == [("feeds.invalid:443", None)]
    assert result.outcome == "error"
    assert result.error == (
        "the proxy failed us on the way to feeds.invalid: Tunnel connection failed: 403 Forbidden"
    )


def test_no_proxy_entries_may_name_the_port(
    server: FeedServer, proxy: _Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = feedserver.set_route(server, "/port.xml", feedserver.feed(BODY))
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{proxy.server_address[1]}")
    monkeypatch.setenv("no_proxy", f"127.0.0.1:{server.port}")
    assert fetch(url).body == BODY
    assert proxy.seen == []  # fetched directly


@pytest.mark.parametrize(
    ("host", "no_proxy", "direct"),
    [
        ("[::1]", "::1", True),
        ("[::1]", "[::1]", True),
        ("[::1]", "[::1]:8080", True),
        ("[::1]", "::1:9090", False),
        ("feeds.example.org", "example.org", True),
        ("feeds.example.org", "example.org:8080", True),
        ("feeds.example.org", "example.org:443", False),
        ("example.net", "example.org", False),
    ],
)
def test_no_proxy_matches_ipv6_with_or_without_brackets(
    host: str, no_proxy: str, direct: bool
) -> None:
    proxies = {"http": "http://proxy.invalid:3128", "no": no_proxy}
    expected = None if direct else "http://proxy.invalid:3128"
    assert proxy_for("http", host, 8080, proxies) == expected
