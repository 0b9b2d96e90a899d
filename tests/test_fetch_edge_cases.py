"""The urllib3 fetcher at its edges, over real loopback I/O: redirects into a busy host,
a cycle left early, proxies (credentials, https tunnels after a cut), bodies on a 304,
a stop mid-redirect, a deflate body in one-byte chunks.

A TLS server here is feedserver's handler behind a self-signed certificate (made by the
openssl command), trusted through SSL_CERT_FILE as a user would.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import select
import shutil
import socket
import ssl
import subprocess
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

import feedserver
from feedserver import FeedServer, Reply
from newswatch.config import Fetch
from newswatch.feedcycle import fetch_streamed
from newswatch.sources.http import Fetcher, FetchRequest, FetchResult
from test_fetch_backpressure import _due
from test_fetch_proxy import _Proxy

NAME = "DNS:feeds.invalid,IP:127.0.0.1"
BODY = b"<?xml version='1.0'?><rss version='2.0'><channel><title>R</title></channel></rss>"


@pytest.fixture(autouse=True)
def no_proxy_set(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


def _listen() -> socket.socket:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    return listener


def _serve(listener: socket.socket, handle: object, stop: threading.Event) -> None:
    def loop() -> None:
        with listener:
            while not stop.is_set():
                if select.select([listener], [], [], 0.05)[0]:
                    client, _ = listener.accept()
                    threading.Thread(target=handle, args=(client,), daemon=True).start()  # type: ignore[arg-type]

    threading.Thread(target=loop, daemon=True).start()


# -- TLS handshakes are not under the total deadline --------------------------------------


def test_a_tls_handshake_that_drips_is_cut_at_the_deadline() -> None:
    """The handshake runs in urllib3's _validate_conn, before request() claims the
    connection for the deadline: the watcher has no socket to shut, and each byte
    comes within the connect timeout, so the fetch ran for as long as the server liked."""
    stop = threading.Event()
    listener = _listen()

    def handle(client: socket.socket) -> None:
        client.recv(4096)  # the ClientHello
        client.sendall(b"\x16\x03\x03\x40\x00")  # a 16 KiB handshake record follows...
        while not stop.is_set():  # ...a byte at a time
            try:
                client.send(b"\x00")
            except OSError:
                return
            stop.wait(0.1)
        client.close()

    _serve(listener, handle, stop)
    url = f"https://127.0.0.1:{listener.getsockname()[1]}/feed.xml"
    threading.Timer(20, stop.set).start()
    started = time.perf_counter()
    try:
        with Fetcher(Fetch.model_validate({"timeout": "1s", "connect_timeout": "1s"})) as f:
            result = f.fetch(FetchRequest(url))
    finally:
        stop.set()
    took = time.perf_counter() - started
    assert result.outcome == "error"
    assert took < 8, f"a 1 s deadline, a fetch of {took:.1f} s"


# -- https through a proxy: a connection cut at the deadline loses its tunnel ---------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("openssl") is None:
        pytest.skip("no openssl command")
    folder = tmp_path_factory.mktemp("tls")
    key, cert = str(folder / "key.pem"), str(folder / "cert.pem")
    command = "openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=feeds.invalid"
    subprocess.run(
        [*command.split(), "-keyout", key, "-out", cert, "-addext", f"subjectAltName={NAME}"],
        check=True,
        capture_output=True,
    )
    return folder


@pytest.fixture
def tls_server(certificate: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FeedServer]:
    """feedserver's handler over TLS as feeds.invalid, its certificate trusted."""
    bound = feedserver._bind("127.0.0.1", 0)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate / "cert.pem", certificate / "key.pem")
    bound.socket = context.wrap_socket(bound.socket, server_side=True)
    running = FeedServer(port=bound.server_address[1], hosts=("127.0.0.1",), servers=[bound])
    bound.feed_server = running  # type: ignore[attr-defined]
    threading.Thread(target=bound.serve_forever, args=(0.05,), daemon=True).start()
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate / "cert.pem"))
    yield running
    feedserver.stop(running)


def _tunnel(upstream_port: int, stop: threading.Event) -> int:
    """A CONNECT proxy whose every tunnel leads to 127.0.0.1:upstream_port."""
    listener = _listen()

    def handle(client: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            data = client.recv(4096)
            if not data:
                return
            head += data
        if not head.startswith(b"CONNECT "):
            client.close()
            return
        upstream = socket.create_connection(("127.0.0.1", upstream_port))
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        ends = [client, upstream]
        with client, upstream, contextlib.suppress(OSError):
            while not stop.is_set():
                for end in select.select(ends, [], [], 0.05)[0]:
                    data = end.recv(65536)
                    if not data:
                        return
                    (upstream if end is client else client).sendall(data)

    _serve(listener, handle, stop)
    return listener.getsockname()[1]


def test_https_via_a_proxy_after_a_feed_cut_at_the_deadline(
    tls_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two feeds of one https host through a proxy, one at a time: the first drips and is
    cut at its deadline; its connection goes back to the pool closed, marked `was_cut`;
    urllib3 tunnels it anew for the second, then _claim closes it again, which drops the
    tunnel (urllib3's close() forgets _tunnel_host), and the request reconnects to the
    proxy itself, speaking TLS to it."""
    stop = threading.Event()
    port = _tunnel(tls_server.port, stop)
    monkeypatch.setenv("https_proxy", f"http://127.0.0.1:{port}")
    feedserver.set_route(tls_server, "/drip", Reply(behaviour="drip"))
    feedserver.set_route(tls_server, "/fine", feedserver.feed(BODY))
    base = f"https://feeds.invalid:{tls_server.port}"
    settings = Fetch.model_validate({"timeout": "2s", "per_host": 1, "concurrency": 1})
    try:
        with Fetcher(settings) as fetcher:
            dripped, fine = fetcher.fetch_all(
                [FetchRequest(f"{base}/drip"), FetchRequest(f"{base}/fine")]
            )
    finally:
        stop.set()
    assert "deadline" in (dripped.error or "")
    assert (fine.outcome, fine.error) == ("ok", None), fine.error


def test_https_directly_verifies_with_ssl_cert_file(tls_server: FeedServer) -> None:
    """The hostname is checked: the certificate names feeds.invalid and 127.0.0.1 only."""
    feedserver.set_route(tls_server, "/ok", feedserver.feed(BODY))
    with Fetcher(Fetch()) as fetcher:
        result = fetcher.fetch(FetchRequest(f"https://localhost:{tls_server.port}/ok"))
    assert result.outcome == "error" and "TLS (https) failure" in (result.error or "")


# -- a consumer that leaves the stream early ---------------------------------------------


def test_a_stream_left_early_ends_its_fetching_threads() -> None:
    """A cycle whose consumer raises (a database error: the daemon logs it and runs the
    next cycle) leaves fetch_streamed without a stop: its threads waited in _room for a
    consumer that was gone, for ever, one set per failed cycle."""
    running = feedserver.start()
    try:
        url = feedserver.set_route(running, "/many", feedserver.feed(BODY))
        due = _due([f"{url}?{i}" for i in range(40)])
        stream = fetch_streamed(due, Fetch(), threading.Event(), lambda i, r: None, 2)
        next(stream)
        stream.close()  # what the generator's collection does when the consumer raised
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and _fetch_threads():
            time.sleep(0.1)
        assert _fetch_threads() == []
    finally:
        feedserver.stop(running)


def _fetch_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("newswatch-fetch")]


# -- proxy credentials ---------------------------------------------------------------------


def test_proxy_credentials_are_percent_decoded(monkeypatch: pytest.MonkeyPatch) -> None:
    """A password with '@' or ':' must be percent-encoded in the proxy URL; httpx sent
    it decoded, urllib3's make_headers sends the URL's text as it is."""
    running = feedserver.start()
    proxy = _Proxy(running.port)
    threading.Thread(target=proxy.serve_forever, args=(0.05,), daemon=True).start()
    try:
        feedserver.set_route(running, "/auth.xml", feedserver.feed(BODY))
        port = proxy.server_address[1]
        monkeypatch.setenv("http_proxy", f"http://me%40corp:p%3Ass%25@127.0.0.1:{port}")
        with Fetcher(Fetch()) as fetcher:
            assert fetcher.fetch(FetchRequest("http://feeds.invalid/auth.xml")).body == BODY
    finally:
        proxy.shutdown()
        proxy.server_close()
        feedserver.stop(running)
    token = base64.b64encode(b"me@corp:p:ss%").decode()
    assert [auth for _, auth in proxy.seen] == [f"Basic {token}"]


# -- a stop while a redirect waits for its target host's slot -----------------------------


def test_a_stop_during_a_redirect_logs_no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    """hop() raises Stopped once the run stops; _fetch's catch-all took it for a bug
    and logged `fetch_failed_unexpectedly` with a traceback at every such stop."""
    hosts = feedserver.loopback_hosts(2)
    running = feedserver.start(hosts)
    try:
        hang = feedserver.set_route(running, "/hang", Reply(behaviour="hang"))
        target = running.url("/hang")
        moved = feedserver.set_route(running, "/moved", feedserver.redirect(302, target))
        moved = running.url("/moved", hosts[1])
        settings = Fetch.model_validate({"per_host": 1, "timeout": "30s"})
        stop = threading.Event()
        threading.Timer(1.0, stop.set).start()
        with caplog.at_level(logging.ERROR), Fetcher(settings) as fetcher:
            fetcher.run([FetchRequest(hang), FetchRequest(moved)], lambda i, r: None, stop)
            time.sleep(0.5)  # the redirected fetch's thread ends after run() returns
    finally:
        feedserver.stop(running)
    assert [r.message for r in caplog.records] == []


# -- the body of a 304 is read without a bound ---------------------------------------------


def test_a_304_with_an_endless_chunked_body_is_not_read_whole() -> None:
    """http.client reads a chunked body even for a 304, and drain_conn() reads it all
    into memory: no max_bytes applies (only the deadline, at loopback speed GBs)."""
    stop = threading.Event()
    listener = _listen()
    sent = [0]

    def handle(client: socket.socket) -> None:
        client.recv(4096)
        client.sendall(b"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"%x\r\n%s\r\n" % (1 << 20, b"x" * (1 << 20))
        try:
            for _ in range(64):  # 64 MiB, then the end
                client.sendall(chunk)
                sent[0] += 1 << 20
            client.sendall(b"0\r\n\r\n")
        except OSError:
            pass
        client.close()

    _serve(listener, handle, stop)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/feed.xml"
    try:
        with Fetcher(Fetch.model_validate({"max_bytes": "1MiB"})) as fetcher:
            result: FetchResult = fetcher.fetch(FetchRequest(url, etag='"e"'))
    finally:
        stop.set()
    assert result.outcome in {"not_modified", "error"}
    assert sent[0] < 16 << 20, f"{sent[0] >> 20} MiB of a 304's body read"


def test_a_304_that_names_a_transfer_coding_is_not_modified() -> None:
    """RFC 9112 6.1: a server MAY send Transfer-Encoding in a 304, which has no body all
    the same (h11, under httpx, knew). http.client waits for chunks that never come, so
    the feed's 304 became a deadline error after the whole timeout."""
    stop = threading.Event()
    listener = _listen()

    def handle(client: socket.socket) -> None:
        with client:
            client.recv(4096)
            client.sendall(b"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n")
            stop.wait(20)  # a keep-alive connection, held open
        client.close()

    _serve(listener, handle, stop)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/feed.xml"
    try:
        with Fetcher(Fetch.model_validate({"timeout": "3s"})) as fetcher:
            result = fetcher.fetch(FetchRequest(url, etag='"e"'))
    finally:
        stop.set()
    assert (result.outcome, result.error) == ("not_modified", None)


def test_redirects_into_a_host_whose_slot_waits_for_the_consumer_do_not_deadlock() -> None:
    """max_unfinished is kept by _room, which the fetcher calls with a host's slot held:
    fetches let go, redirected to that host, waited in hop() for the slot, and the
    thread holding it waited in _room for them to be taken. (Before, the limit was taken
    before any host slot.) Only with more threads than max_unfinished (concurrency up
    to 1,024 is allowed; max_unfinished is 32)."""
    hosts = feedserver.loopback_hosts(5)
    running = feedserver.start(hosts)
    try:
        target = running.url("/target", hosts[4])
        feedserver.set_route(running, "/target", feedserver.feed(BODY))
        moved = Reply(302, headers={"Location": target}, delay=0.5)
        feedserver.set_route(running, "/moved", moved)
        urls = [running.url("/moved", host) for host in hosts[:4]]
        urls += [f"{target}?{i}" for i in range(8)]
        settings = Fetch.model_validate({"per_host": 1, "concurrency": 6, "timeout": "30s"})
        stop = threading.Event()
        taken: list[int] = []

        def consume() -> None:
            stream = fetch_streamed(_due(urls), settings, stop, lambda i, r: None, 2)
            for index, _, _ in stream:
                taken.append(index)

        consumer = threading.Thread(target=consume, daemon=True)
        consumer.start()
        consumer.join(10)
        stuck = consumer.is_alive()
        stop.set()
        consumer.join(10)
    finally:
        feedserver.stop(running)
    assert not stuck, f"deadlocked after {len(taken)} of {len(urls)} feeds"
    assert sorted(taken) == list(range(len(urls)))


def test_a_feed_cut_at_its_deadline_through_an_https_proxy(
    tls_server: FeedServer, certificate: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through an https proxy urllib3 speaks TLS in TLS: the connection's sock is an
    SSLTransport, which has no shutdown(); the watcher's _cut raised AttributeError out
    of cut_expired, out of Fetcher.run, out of fetch() (and ended a cycle's stream)."""
    stop = threading.Event()
    listener = _listen()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate / "cert.pem", certificate / "key.pem")

    def pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def handle(plain: socket.socket) -> None:
        with contextlib.suppress(OSError), context.wrap_socket(plain, server_side=True) as client:
            head = b""
            while b"\r\n\r\n" not in head and (data := client.recv(4096)):
                head += data
            upstream = socket.create_connection(("127.0.0.1", tls_server.port))
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            threading.Thread(target=pump, args=(upstream, client), daemon=True).start()
            pump(client, upstream)

    _serve(listener, handle, stop)
    monkeypatch.setenv("https_proxy", f"https://127.0.0.1:{listener.getsockname()[1]}")
    feedserver.set_route(tls_server, "/drip", Reply(behaviour="drip"))
    url = f"https://feeds.invalid:{tls_server.port}/drip"
    try:
        with Fetcher(Fetch.model_validate({"timeout": "2s"})) as fetcher:
            result = fetcher.fetch(FetchRequest(url))
    finally:
        stop.set()
    assert result.error == f"no complete answer within the 2 s deadline from {url}"


def test_a_deflate_body_whose_first_chunk_is_one_byte() -> None:
    """urllib3 hands over a chunked body chunk by chunk, as the server framed it; the
    first chunk alone told zlib-wrapped from raw deflate, and one byte was taken for raw."""
    stop = threading.Event()
    listener = _listen()
    payload = zlib.compress(BODY)

    def handle(client: socket.socket) -> None:
        with client:
            client.recv(4096)
            head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: deflate"
            client.sendall(head + b"\r\n\r\n")
            for part in (payload[:1], payload[1:]):
                client.sendall(b"%x\r\n%s\r\n" % (len(part), part))
            client.sendall(b"0\r\n\r\n")

    _serve(listener, handle, stop)
    try:
        with Fetcher(Fetch()) as fetcher:
            result = fetcher.fetch(FetchRequest(f"http://127.0.0.1:{listener.getsockname()[1]}/"))
    finally:
        stop.set()
    assert (result.outcome, result.body, result.error) == ("ok", BODY, None)
