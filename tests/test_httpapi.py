"""The status endpoint: /healthz and /metrics on a real server after a real ingest."""

from __future__ import annotations

import json
import re
import shutil
import signal
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import create_engine
from structlog.testing import capture_logs

from conftest import SEED_FILE
from helpers import write_config
from newswatch import __version__, httpapi, metrics
from newswatch.app import App, open_app
from newswatch.config import load_config
from newswatch.config.schema import HttpServer
from test_daemon import Daemon

SAMPLE = re.compile(r"^([a-z_]+)(\{.*\})? (\S+)$", re.DOTALL)
LABEL = re.compile(r'([a-z_]+)="((?:[^"\\]|\\.)*)"')


@pytest.fixture(autouse=True)
def fresh_registry() -> Iterator[metrics.Registry]:
    """The pipeline records into the process-wide registry: start every test from zero."""
    metrics.REGISTRY.clear()
    yield metrics.REGISTRY
    metrics.REGISTRY.clear()


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    folder = tmp_path / "seeds"
    folder.mkdir()
    shutil.copy(SEED_FILE, folder / SEED_FILE.name)
    return folder


@contextmanager
def ingested(tmp_path: Path, database_url: str, seeds: Path, extra: str = "") -> Iterator[App]:
    """The seed folder imported once through the real pipeline."""
    config = load_config(write_config(tmp_path, database_url, seeds, extra))
    app = open_app(config)
    try:
        app.pipeline.refresh_seeds(config.sources.seeds[0])
        yield app
    finally:
        app.close()


@contextmanager
def serving(app: App, listen: str = "127.0.0.1:0") -> Iterator[httpapi.StatusServer]:
    server = httpapi.start(listen, app.engine)
    try:
        yield server
    finally:
        server.stop()


def unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), value)


def samples(exposition: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Prometheus text -> {(name, labels): value}; fails on any line it cannot read."""
    found = {}
    assert exposition.endswith("\n")
    for line in exposition[:-1].split("\n"):  # the format's only line break
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            continue
        match = SAMPLE.match(line)
        assert match, f"not a Prometheus sample line: {line!r}"
        name, labels, value = match.groups()
        pairs = frozenset((k, unescape(v)) for k, v in LABEL.findall(labels or ""))
        found[(name, pairs)] = float(value)
    return found


def sample(found: dict, name: str, **labels: str) -> float:
    return found[(name, frozenset(labels.items()))]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_healthz_after_an_ingest_reports_the_database_sources_and_no_pending_alerts(
    tmp_path: Path, seeds: Path, database_url: str
) -> None:
    with ingested(tmp_path, database_url, seeds) as app, serving(app) as server:
        response = httpx.get(f"{server.url}/healthz")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["version"] == __version__ and body["uptime_s"] >= 0
    assert body["pending_alerts"] == 0
    assert set(body["sources"]) == {"seeds"}
    seeds_state = body["sources"]["seeds"]
    assert seeds_state["status"] == "ok" and seeds_state["last_error"] is None
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", seeds_state["last_refresh"])


def test_metrics_count_refreshes_documents_duplicates_alerts_and_deliveries(
    tmp_path: Path, seeds: Path
) -> None:
    with ingested(tmp_path, f"sqlite:///{tmp_path}/nw.db", seeds) as app:
        shutil.copy(SEED_FILE, seeds / "copy-of-the-same-article.txt")
        app.pipeline.refresh_seeds(app.config.sources.seeds[0])
        with serving(app) as server:
            response = httpx.get(f"{server.url}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    found = samples(response.text)
    assert sample(found, "newswatch_refreshes_total", source="seeds", status="ok") == 2
    assert sample(found, "newswatch_documents_new_total", source="seeds") == 1
    assert sample(found, "newswatch_duplicates_total", source="seeds") == 1
    assert sample(found, "newswatch_alerts_total", source="seeds") == 9
    assert sample(found, "newswatch_refresh_duration_seconds_count", source="seeds") == 2
    assert 0 < sample(found, "newswatch_refresh_duration_seconds_sum", source="seeds") < 10
    assert sample(found, "newswatch_alert_deliveries_total", sink="log", result="ok") == 9
    assert sample(found, "newswatch_up") == 1
    assert sample(found, "newswatch_build_info", version=__version__) == 1
    assert abs(sample(found, "newswatch_process_start_time_seconds") - time.time()) < 600
    assert "# TYPE newswatch_refresh_duration_seconds summary" in response.text
    assert "# TYPE newswatch_refreshes_total counter" in response.text


def test_a_failing_sink_leaves_alerts_pending_and_counts_the_failures(
    tmp_path: Path, seeds: Path
) -> None:
    closed = free_port()  # nothing listens there: the SMTP connection is refused
    email = f"""
alerts:
  - type: log
  - type: email
    to: [desk@example.org]
    from: newswatch@example.org
    smtp: {{host: 127.0.0.1, port: {closed}, timeout: 1s}}
"""
    database = f"sqlite:///{tmp_path}/nw.db"
    with ingested(tmp_path, database, seeds, email) as app, serving(app) as server:
        health = httpx.get(f"{server.url}/healthz").json()
        found = samples(httpx.get(f"{server.url}/metrics").text)
    assert health["pending_alerts"] == 9
    sink = "email:desk@example.org"
    assert sample(found, "newswatch_alert_deliveries_total", sink=sink, result="failed") == 9
    assert sample(found, "newswatch_alert_deliveries_total", sink="log", result="ok") == 9


def test_a_failing_source_makes_the_status_degraded_with_its_error(
    tmp_path: Path, seeds: Path
) -> None:
    with ingested(tmp_path, f"sqlite:///{tmp_path}/nw.db", seeds) as app:
        shutil.rmtree(seeds)
        app.pipeline.refresh_seeds(app.config.sources.seeds[0])
        with serving(app) as server:
            response = httpx.get(f"{server.url}/healthz")
    body = response.json()
    assert response.status_code == 200  # the daemon itself is fine: no restart wanted
    assert body["status"] == "degraded"
    assert body["sources"]["seeds"]["status"] == "error"
    assert str(seeds) in body["sources"]["seeds"]["last_error"]


def test_an_unusable_database_gives_503_with_the_error_line(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder" / "nw.db"
    engine = create_engine(f"sqlite:///{missing}")
    server = httpapi.start("127.0.0.1:0", engine)
    try:
        response = httpx.get(f"{server.url}/healthz")
    finally:
        server.stop()
        engine.dispose()
    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "degraded" and body["pending_alerts"] is None
    assert str(missing) in body["database"] and "unable to open" in body["database"]


def test_other_paths_are_404_and_only_get_and_head_are_answered(
    tmp_path: Path, seeds: Path
) -> None:
    with (
        ingested(tmp_path, f"sqlite:///{tmp_path}/nw.db", seeds) as app,
        serving(app) as server,
        httpx.Client(base_url=server.url) as client,
    ):
        missing = [client.get(path).status_code for path in ("/", "/healthz/x", "/metric")]
        with_query = client.get("/metrics?name[]=newswatch_up")
        post = client.post("/metrics", content=b"x")
        head = client.head("/metrics")
        get = client.get("/metrics")
    assert missing == [404, 404, 404]
    assert with_query.status_code == 200
    assert post.status_code == 405 and post.headers["allow"] == "GET, HEAD"
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]


def test_label_values_are_escaped() -> None:
    registry = metrics.Registry()
    name = 'Le "Monde"\\ C:\\feeds\nsecond line'
    metrics.record_refresh(
        name, "ok", new=1, duplicates=0, alerts=0, duration_s=0.5, error=None, registry=registry
    )
    text = registry.render()
    label = r'source="Le \"Monde\"\\ C:\\feeds\nsecond line"'
    expected = f'newswatch_refreshes_total{{{label},status="ok"}} 1'
    assert expected in text.splitlines()


@given(st.text(max_size=40))
def test_any_source_name_reads_back_from_the_exposition(name: str) -> None:
    registry = metrics.Registry()
    metrics.record_delivery(name, "ok", 3, registry=registry)
    found = samples(registry.render())
    assert sample(found, "newswatch_alert_deliveries_total", sink=name, result="ok") == 3


@pytest.mark.parametrize(
    ("listen", "expected"),
    [
        ("127.0.0.1:9464", ("127.0.0.1", 9464)),
        ("localhost:80", ("localhost", 80)),
        ("[::1]:9464", ("::1", 9464)),
        (":9464", ("", 9464)),
    ],
)
def test_listen_addresses_are_read(listen: str, expected: tuple[str, int]) -> None:
    assert httpapi.parse_listen(listen) == expected


@pytest.mark.parametrize(
    ("listen", "says"),
    [
        ("9464", "no port"),
        ("127.0.0.1:", "not a number"),
        ("127.0.0.1:99999", "not a number"),
        ("127.0.0.1:http", "not a number"),
        ("::1:9464", "in brackets"),
        ("[::1]9464", "[IPv6]:PORT"),
        ("[::1", "[IPv6]:PORT"),
    ],
)
def test_a_bad_listen_address_is_one_clear_error(listen: str, says: str) -> None:
    with pytest.raises(httpapi.StatusServerError) as error:
        httpapi.parse_listen(listen)
    assert says in str(error.value) and repr(listen) in str(error.value)


def test_serves_on_ipv6_loopback(tmp_path: Path) -> None:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    engine = create_engine(f"sqlite:///{tmp_path}/nw.db")
    server = httpapi.start("[::1]:0", engine)
    try:
        assert server.url.startswith("http://[::1]:")
        assert httpx.get(f"{server.url}/metrics").status_code == 200
    finally:
        server.stop()
        engine.dispose()


def test_a_port_in_use_is_one_clear_error(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/nw.db")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        listen = f"127.0.0.1:{taken.getsockname()[1]}"
        with pytest.raises(httpapi.StatusServerError) as error:
            httpapi.start(listen, engine)
    message = str(error.value)
    assert listen in message and "already in use" in message and "another port" in message


def test_the_endpoint_follows_listen_across_reloads(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/nw.db")
    endpoint = httpapi.StatusEndpoint(engine)
    first, second = free_port(), free_port()
    try:
        endpoint.apply(HttpServer(listen=f"127.0.0.1:{first}"))
        running = endpoint.running
        endpoint.apply(HttpServer(listen=f"127.0.0.1:{first}"))
        assert endpoint.running is running  # unchanged: not restarted
        with capture_logs() as logs:  # valid syntax, but not an address of this machine
            endpoint.apply(HttpServer(listen="192.0.2.1:9464"))
        failed = [entry for entry in logs if entry["event"] == "http_server_failed"]
        assert len(failed) == 1 and "192.0.2.1" in failed[0]["error"]
        assert endpoint.running is not None  # an unusable new address keeps the old one
        assert endpoint.running.listen == f"127.0.0.1:{first}"
        assert httpx.get(f"http://127.0.0.1:{first}/metrics").status_code == 200
        endpoint.apply(HttpServer(listen=f"127.0.0.1:{second}"))
        assert httpx.get(f"http://127.0.0.1:{second}/metrics").status_code == 200
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{first}/metrics")
        endpoint.apply(None)
        assert endpoint.running is None
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{second}/metrics")
    finally:
        endpoint.stop()
        engine.dispose()


def wait_for_json(url: str, ready: Callable[[dict], bool], timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = httpx.get(url).json()
        if ready(body) or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


def test_the_daemon_serves_both_endpoints_and_moves_them_on_reload(
    tmp_path: Path, seeds: Path
) -> None:
    port, moved = free_port(), free_port()
    database = f"sqlite:///{tmp_path}/nw.db"
    config = write_config(tmp_path, database, seeds, f"http: {{listen: 127.0.0.1:{port}}}\n")
    daemon = Daemon(config)
    try:
        started = json.loads(daemon.wait_for(daemon.err, '"http_server_started"'))
        assert started["url"] == f"http://127.0.0.1:{port}"
        health = wait_for_json(
            f"http://127.0.0.1:{port}/healthz", lambda body: "seeds" in body["sources"]
        )
        assert health["status"] == "ok" and health["sources"]["seeds"]["status"] == "ok"
        found = samples(httpx.get(f"http://127.0.0.1:{port}/metrics").text)
        assert sample(found, "newswatch_documents_new_total", source="seeds") == 1
        write_config(tmp_path, database, seeds, f"http: {{listen: 127.0.0.1:{moved}}}\n")
        daemon.process.send_signal(signal.SIGHUP)
        daemon.wait_for(daemon.err, f'"http://127.0.0.1:{moved}"')
        assert httpx.get(f"http://127.0.0.1:{moved}/healthz").status_code == 200
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/healthz")
    finally:
        code, _took = daemon.stop()
    assert code == 0


def test_with_its_port_taken_the_daemon_says_so_and_still_imports_seeds(
    tmp_path: Path, seeds: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        extra = f"http: {{listen: 127.0.0.1:{port}}}\n"
        daemon = Daemon(write_config(tmp_path, f"sqlite:///{tmp_path}/nw.db", seeds, extra))
        try:
            failed = json.loads(daemon.wait_for(daemon.err, '"http_server_failed"'))
            daemon.wait_for(daemon.out, "Konstantin Kosachev")
        finally:
            code, _took = daemon.stop()
    assert failed["level"] == "error" and "already in use" in failed["error"]
    assert f"127.0.0.1:{port}" in failed["error"]
    assert code == 0
