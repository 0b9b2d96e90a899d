"""Daemon life: start, SIGHUP reload (a bad config keeps the old one), clean stop."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from newswatch.alerts.sink import Sink
from newswatch.config import Config, ConfigError
from newswatch.httpapi import StatusEndpoint
from newswatch.listen import is_loopback
from newswatch.log import get_logger, set_node
from newswatch.match.watchlist import compile_config
from newswatch.ops import metrics
from newswatch.ops.node import Node
from newswatch.ops.schema import upgrade_aside
from newswatch.ops.signals import SignalInbox
from newswatch.ops.status import status_line
from newswatch.ops.systemd import notify, under_systemd, watchdog_interval
from newswatch.pipeline.app import feed_settings, open_app
from newswatch.pipeline.feeds import feed_label
from newswatch.pipeline.seeds import seed_label
from newswatch.scheduler import (
    new_scheduler,
    schedule_housekeeping,
    schedule_outbox,
    schedule_retention,
    schedule_sources,
    schedule_supervision,
)
from newswatch.sinks import build_sinks, sink_labels, sink_routes
from newswatch.store import deliveries
from newswatch.store import feeds as feed_store
from newswatch.store.db import DatabaseError, database_error
from newswatch.store.leases import DAEMON
from newswatch.store.sqlitelock import lock_database

STOP_TIMEOUT_S = 6.0

log = get_logger(__name__)


class Service:
    def __init__(self, config: Config, reload: Callable[[], Config]) -> None:
        self.config = config
        self._load = reload
        self.sqlite_lock = lock_database(config.database)  # SQLite is single-node
        try:
            upgrade_aside(config.database)  # Alembic stays out of the daemon's memory
            self.app = open_app(config)
            self.node = Node(self.app.engine, config.node.id, DAEMON, config.node.lease)
            _start_node(self.node)
        except BaseException:
            if self.sqlite_lock is not None:
                self.sqlite_lock.release()
            raise
        set_node(self.node.id)
        self.app.pipeline.node = self.node
        self.scheduler = new_scheduler()
        self.http = StatusEndpoint(
            self.app.engine,
            sinks=lambda: [sink.key for sink in self.app.pipeline.sinks],
            lease=config.node.lease,
        )
        # shown in systemd's STATUS= until the next good reload
        self.status_note: str | None = None

    def start(self) -> None:
        configure_metrics(self.config, self.app.pipeline.sinks)
        schedule_sources(self.scheduler, self.config, self.app.pipeline)
        schedule_outbox(self.scheduler, self.app.pipeline)
        schedule_housekeeping(self.scheduler, self.app.pipeline)
        schedule_retention(self.scheduler, self.config, self.app.pipeline)
        if under_systemd():
            interval = watchdog_interval()
            ping_every = interval / 3 if interval is not None else None
            schedule_supervision(self.scheduler, self.ping_watchdog, ping_every, self.report_status)
        self.scheduler.start()
        self.http.apply(self.config.http)
        config = self.config
        log.info(
            "daemon_started",
            config=str(config.path),
            database=make_url(config.database).get_backend_name(),
            lease_s=config.node.lease.total_seconds(),
            seeds=len(config.sources.seeds),
            feeds=len(config.sources.feeds),
            people=len(config.watch.people),
            topics=len(config.watch.topics),
            sinks=[sink.key for sink in self.app.pipeline.sinks],
            status_endpoint=config.http.listen if config.http else None,
        )
        _warn_if_exposed(config)
        notify("READY=1")

    def reload(self) -> None:
        """Swap in a new config; any error keeps the running one."""
        notify("RELOADING=1")
        try:
            new = self._load()
            matcher = compile_config(new)
        except ConfigError as exc:
            for problem in exc.problems:
                log.error("config_reload_rejected", problem=problem)
            log.error("config_reload_rejected", keeping="the running configuration")
            self.status_note = f"reload rejected ({len(exc.problems)} errors; see the log)"
            notify("READY=1")
            self.report_status()
            return
        if new.database != self.config.database:
            log.warning("config_reload_database_ignored", hint="restart to change `database:`")
            new = new.model_copy(update={"database": self.config.database})
        if new.node != self.config.node:
            log.warning("config_reload_node_ignored", hint="restart to change `node:`")
            new = new.model_copy(update={"node": self.config.node})
        sinks = build_sinks(new)
        routes = sink_routes(new, sinks)  # new routing applies to alerts raised from now on
        self.app.pipeline.reconfigure(matcher, sinks, feed_settings(new), new.dedup, routes)
        configure_metrics(new, self.app.pipeline.sinks)
        schedule_outbox(self.scheduler, self.app.pipeline)
        schedule_sources(self.scheduler, new, self.app.pipeline)
        schedule_retention(self.scheduler, new, self.app.pipeline)
        self.http.apply(new.http)  # restarted only when `listen` changed
        self.config = new
        self.status_note = None
        log.info("config_reloaded", people=len(new.watch.people), topics=len(new.watch.topics))
        notify("READY=1")
        self.report_status()

    @staticmethod
    def ping_watchdog() -> None:
        notify("WATCHDOG=1")

    def report_status(self) -> None:
        """STATUS= for `systemctl status`: feeds by health, deliveries pending."""
        urls = [feed.url for feed in self.config.sources.feeds]
        try:
            with self.app.engine.connect() as connection:
                feeds = feed_store.count_by_status(connection, urls)
                pending: int | None = deliveries.count_undelivered(connection)
        except SQLAlchemyError:
            feeds, pending = {}, None
        notify("STATUS=" + status_line(feeds, pending, self.status_note))

    def wait(self, inbox: SignalInbox) -> None:
        """Until SIGTERM or SIGINT; SIGHUP reloads the config (once for several)."""
        while True:
            received = inbox.wait(timeout=None)
            stop = next((signum for signum in received if signum != signal.SIGHUP), None)
            if stop is not None:
                log.info("signal_received", signal=signal.Signals(stop).name)
                return
            if received:
                self.reload()

    def stop(self) -> bool:
        """Stop the jobs and close the database; False if a job was still stuck in I/O."""
        notify("STOPPING=1")
        log.info("daemon_stopping")
        self.app.pipeline.stop()  # abandons parses in flight: their feeds are polled next time
        self.http.stop()
        stopper = threading.Thread(target=self.scheduler.shutdown, kwargs={"wait": True})
        stopper.start()
        stopper.join(timeout=STOP_TIMEOUT_S)
        clean = not stopper.is_alive()
        if not clean:
            log.warning(
                "daemon_stop_timeout",
                waited_s=STOP_TIMEOUT_S,
                hint="a job is stuck in I/O (e.g. an SMTP server that does not answer); "
                "its work stays pending and is retried at the next start",
            )
        self.node.stop()  # gives its leases back at once
        self.app.close()
        if self.sqlite_lock is not None:
            self.sqlite_lock.release()
        log.info("daemon_stopped")
        return clean


def configure_metrics(config: Config, sinks: Sequence[Sink]) -> None:
    """Declare every configured source's and sink's series; forget removed ones."""
    sources = {seed_label(seed): "seeds" for seed in config.sources.seeds}
    sources |= {feed_label(feed): "feed" for feed in config.sources.feeds}
    feed_urls = [feed.url for feed in config.sources.feeds]
    metrics.REGISTRY.configure(sources, sink_labels(config, sinks), feed_urls)


def _start_node(node: Node) -> None:
    try:
        node.start()
    except SQLAlchemyError as exc:
        node.engine.dispose()
        raise DatabaseError(
            f"cannot register this node: {database_error(node.engine, exc)}"
        ) from None


def _warn_if_exposed(config: Config) -> None:
    if config.http is not None and not is_loopback(config.http.listen):
        log.warning(
            "status_endpoint_exposed",
            listen=config.http.listen,
            hint="/healthz and /metrics have no authentication; listen on 127.0.0.1 "
            "or put a proxy that authenticates in front",
        )


def run_service(config: Config, reload: Callable[[], Config]) -> int:
    service = Service(config, reload)
    with SignalInbox((signal.SIGTERM, signal.SIGINT, signal.SIGHUP)) as inbox:
        service.start()
        try:
            service.wait(inbox)
        finally:
            clean = service.stop()
    if not clean:
        # A job thread stuck in a network call would keep the interpreter alive past
        # its timeout; the database is closed and the outbox keeps what was not sent.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    return 0
