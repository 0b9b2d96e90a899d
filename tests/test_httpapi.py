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
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine
from structlog.testing import capture_logs

from conftest import SEED_FILE
from helpers import migrated_sqlite, write_config
from newswatch import __version__, httpapi
from newswatch.config import load_config
from newswatch.config.schema import HttpServer
from newswatch.ops import metrics
from newswatch.pipeline.app import App, open_app
from newswatch.service import configure_metrics
from test_daemon import Daemon

IMPORTED_AT = time.time()


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


def samples(exposition: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Prometheus text -> {(name, labels): value}, read by prometheus_client's own parser
    (it raises on any line it cannot read)."""
    assert exposition.endswith("\n")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(exposition)
        for s in family.samples
    }


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
    with ingested(tmp_path, migrated_sqlite(tmp_path / "nw.db"), seeds) as app:
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
    assert sample(found, "newswatch_refresh_duration_seconds_count", kind="seeds") == 2
    assert 0 < sample(found, "newswatch_refresh_duration_seconds_sum", kind="seeds") < 10
    assert sample(found, "newswatch_refresh_duration_seconds_bucket", kind="seeds", le="+Inf") == 2
    assert sample(found, "newswatch_alert_deliveries_total", sink="log", result="ok") == 9
    assert sample(found, "newswatch_up") == 1
    assert sample(found, "newswatch_build_info", version=__version__) == 1
    # this process started before it imported this module (a worker of a long parallel run
    # may have started long before this test: the import, not now, is the reference)
    assert IMPORTED_AT - 600 < sample(found, "process_start_time_seconds") <= IMPORTED_AT + 1
    assert sample(found, "process_resident_memory_bytes") > 0
    assert "# TYPE newswatch_refresh_duration_seconds histogram" in response.text
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
    database = migrated_sqlite(tmp_path / "nw.db")
    with ingested(tmp_path, database, seeds, email) as app, serving(app) as server:
        health = httpx.get(f"{server.url}/healthz").json()
        found = samples(httpx.get(f"{server.url}/metrics").text)
    assert health["pending_alerts"] == 9
    assert sample(found, "newswatch_alert_deliveries_total", sink="email", result="failed") == 9
    assert not any("desk@example.org" in str(labels) for _, labels in found)
    assert sample(found, "newswatch_alert_deliveries_total", sink="log", result="ok") == 9


def test_a_failing_source_makes_the_status_degraded_with_its_error(
    tmp_path: Path, seeds: Path
) -> None:
    with ingested(tmp_path, migrated_sqlite(tmp_path / "nw.db"), seeds) as app:
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
        ingested(tmp_path, migrated_sqlite(tmp_path / "nw.db"), seeds) as app,
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
    assert int(head.headers["content-length"]) > 0  # process metrics move between two scrapes
    assert int(get.headers["content-length"]) == len(get.content)


def test_label_values_are_escaped() -> None:
    registry = metrics.Registry()
    name = 'Le "Monde"\\ C:\\feeds\nsecond line'
    metrics.record_refresh(
        name, "ok", new=1, duplicates=0, alerts=0, duration_s=0.5, error=None, registry=registry
    )
    text = registry.render()
    assert r'source="Le \"Monde\"\\ C:\\feeds\nsecond line"' in text
    assert sample(samples(text), "newswatch_refreshes_total", source=name, status="ok") == 1


def test_configured_sources_and_sinks_have_every_series_at_zero_and_forget_removed_ones() -> None:
    registry = metrics.Registry()
    registry.configure({"World": "feed", "seeds": "seeds"}, {"email:a@x.org": "desk", "log": "log"})
    found = samples(registry.render())
    assert sample(found, "newswatch_refreshes_total", source="World", status="error") == 0
    assert sample(found, "newswatch_refreshes_total", source="seeds", status="ok") == 0
    assert sample(found, "newswatch_alert_deliveries_total", sink="desk", result="failed") == 0
    assert sample(found, "newswatch_alert_deliveries_total", sink="desk", result="dead") == 0
    metrics.record_delivery("email:a@x.org", "ok", 2, 0.01, registry=registry)
    assert (
        sample(
            samples(registry.render()), "newswatch_alert_deliveries_total", sink="desk", result="ok"
        )
        == 2
    )
    metrics.record_refresh(
        "World", "ok", new=1, duplicates=0, alerts=0, duration_s=1, error=None, registry=registry
    )
    assert "World" in registry.sources()
    registry.configure({"seeds": "seeds"}, {"log": "log"})
    assert "World" not in registry.sources()  # /healthz forgets it too
    labels = {dict(labels).get("source") for _, labels in samples(registry.render())}
    sinks = {dict(labels).get("sink") for _, labels in samples(registry.render())}
    assert "World" not in labels and "desk" not in sinks and "seeds" in labels


def test_openmetrics_when_the_scraper_asks_for_it(tmp_path: Path, seeds: Path) -> None:
    with (
        ingested(tmp_path, migrated_sqlite(tmp_path / "nw.db"), seeds) as app,
        serving(app) as server,
    ):
        response = httpx.get(
            f"{server.url}/metrics",
            headers={"Accept": "application/openmetrics-text; version=1.0.0"},
        )
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.endswith("# EOF\n")
    families = {f.name for f in openmetrics_families(response.text)}
    assert {"newswatch_refreshes", "newswatch_outbox_pending", "newswatch_feeds"} <= families


def test_the_outbox_backlog_and_feeds_by_status_come_from_the_database(
    tmp_path: Path, seeds: Path
) -> None:
    closed = free_port()
    email = f"""
alerts:
  - type: email
    name: desk
    to: [desk@example.org]
    from: newswatch@example.org
    smtp: {{host: 127.0.0.1, port: {closed}, timeout: 1s}}
sources:
  seeds:
    - path: {seeds}
  feeds:
    - url: http://127.0.0.1:{closed}/never-polled.xml
"""
    database = migrated_sqlite(tmp_path / "nw.db")
    with ingested(tmp_path, database, seeds, email) as app:
        configure_metrics(app.config, app.pipeline.sinks)
        with serving(app) as server:
            found = samples(httpx.get(f"{server.url}/metrics").text)
    assert sample(found, "newswatch_outbox_pending", sink="desk") == 9
    assert 0 <= sample(found, "newswatch_outbox_oldest_pending_age_seconds", sink="desk") < 600
    assert sample(found, "newswatch_feeds", status="new") == 1
    assert sample(found, "newswatch_feeds", status="failing") == 0


@given(st.text(max_size=40))
def test_any_source_name_reads_back_from_the_exposition(name: str) -> None:
    registry = metrics.Registry()
    metrics.record_refresh(
        name, "ok", new=3, duplicates=0, alerts=0, duration_s=0.1, error=None, registry=registry
    )
    found = samples(registry.render())
    assert sample(found, "newswatch_documents_new_total", source=name) == 3


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


@pytest.mark.slow(seconds=4)
def test_the_daemon_serves_both_endpoints_and_moves_them_on_reload(
    tmp_path: Path, seeds: Path
) -> None:
    port, moved = free_port(), free_port()
    database = migrated_sqlite(tmp_path / "nw.db")
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


@pytest.mark.slow(seconds=4)
def test_with_its_port_taken_the_daemon_says_so_and_still_imports_seeds(
    tmp_path: Path, seeds: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        extra = f"http: {{listen: 127.0.0.1:{port}}}\n"
        daemon = Daemon(write_config(tmp_path, migrated_sqlite(tmp_path / "nw.db"), seeds, extra))
        try:
            failed = json.loads(daemon.wait_for(daemon.err, '"http_server_failed"'))
            daemon.wait_for(daemon.out, "Konstantin Kosachev")
        finally:
            code, _took = daemon.stop()
    assert failed["level"] == "error" and "already in use" in failed["error"]
    assert f"127.0.0.1:{port}" in failed["error"]
    assert code == 0


def test_healthz_reports_a_sink_failing_for_longer_than_the_threshold(
    tmp_path: Path, seeds: Path
) -> None:
    closed = free_port()  # nothing listens there
    email = f"""
alerts:
  - type: log
  - type: email
    to: [desk@example.org]
    from: newswatch@example.org
    smtp: {{host: 127.0.0.1, port: {closed}, timeout: 2s}}
"""
    with ingested(tmp_path, migrated_sqlite(tmp_path / "nw.db"), seeds, email) as app:
        key = "email:desk@example.org"  # delivery was tried and failed during the import
        sinks = [sink.key for sink in app.pipeline.sinks]
        _status, patient = httpapi.health(app.engine, metrics.REGISTRY, sinks, timedelta(hours=1))
        assert patient["status"] == "ok", "failing, but not for long yet"
        time.sleep(1.5)
        endpoint = httpapi.StatusEndpoint(app.engine, sinks=lambda: sinks)
        port = free_port()
        try:
            endpoint.apply(HttpServer(listen=f"127.0.0.1:{port}", sink_failing_after="1s"))
            answer = httpx.get(f"http://127.0.0.1:{port}/healthz")
        finally:
            endpoint.stop()
    body = answer.json()
    assert answer.status_code == 200 and body["status"] == "degraded"
    assert body["sinks"]["log"]["pending"] == 0 and body["sinks"]["log"]["failing_since"] is None
    failing = body["sinks"][key]
    assert failing["pending"] == 9 and failing["dead"] == 0 and failing["failing_s"] >= 1
    assert f"cannot connect to SMTP server 127.0.0.1:{closed}" in failing["last_error"]
    assert failing["next_try"] > failing["failing_since"]
