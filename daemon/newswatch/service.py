"""Daemon life: start, SIGHUP reload (a bad config keeps the old one), clean stop."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType

from newswatch.app import compile_config, feed_settings, open_app
from newswatch.config import Config, ConfigError
from newswatch.httpapi import StatusEndpoint
from newswatch.log import get_logger
from newswatch.scheduler import (
    new_scheduler,
    schedule_housekeeping,
    schedule_outbox,
    schedule_sources,
)
from newswatch.sinks import build_sinks
from newswatch.systemd import notify

STOP_TIMEOUT_S = 6.0

log = get_logger(__name__)


class Service:
    def __init__(self, config: Config, reload: Callable[[], Config]) -> None:
        self.config = config
        self._load = reload
        self.app = open_app(config)
        self.scheduler = new_scheduler()
        self.stopping = threading.Event()
        self.reload_requested = threading.Event()
        self.http = StatusEndpoint(self.app.engine)

    def start(self) -> None:
        schedule_sources(self.scheduler, self.config, self.app.pipeline)
        schedule_outbox(self.scheduler, self.app.pipeline)
        schedule_housekeeping(self.scheduler, self.app.pipeline)
        self.scheduler.start()
        self.http.apply(self.config.http)
        log.info(
            "daemon_started",
            config=str(self.config.path),
            seeds=len(self.config.sources.seeds),
            feeds=len(self.config.sources.feeds),
            people=len(self.config.watch.people),
            topics=len(self.config.watch.topics),
        )
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
            notify("READY=1")
            return
        if new.database != self.config.database:
            log.warning("config_reload_database_ignored", hint="restart to change `database:`")
            new = new.model_copy(update={"database": self.config.database})
        self.app.pipeline.reconfigure(matcher, build_sinks(new), feed_settings(new), new.dedup)
        schedule_outbox(self.scheduler, self.app.pipeline)
        schedule_sources(self.scheduler, new, self.app.pipeline)
        self.http.apply(new.http)  # restarted only when `listen` changed
        self.config = new
        log.info("config_reloaded", people=len(new.watch.people), topics=len(new.watch.topics))
        notify("READY=1")

    def wait(self) -> None:
        while not self.stopping.is_set():
            self.stopping.wait(timeout=1.0)
            if self.reload_requested.is_set():
                self.reload_requested.clear()
                self.reload()

    def stop(self) -> bool:
        """Stop the jobs and close the database; False if a job was still stuck in I/O."""
        notify("STOPPING=1")
        log.info("daemon_stopping")
        self.app.pipeline.stop_requested.set()
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
        self.app.close()
        log.info("daemon_stopped")
        return clean


def run_service(config: Config, reload: Callable[[], Config]) -> int:
    service = Service(config, reload)

    def on_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal_received", signal=signal.Signals(signum).name)
        service.stopping.set()

    def on_hup(_signum: int, _frame: FrameType | None) -> None:
        service.reload_requested.set()

    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGINT, on_stop)
    signal.signal(signal.SIGHUP, on_hup)
    service.start()
    try:
        service.wait()
    finally:
        clean = service.stop()
    if not clean:
        # A job thread stuck in a network call would keep the interpreter alive past
        # its timeout; the database is closed and the outbox keeps what was not sent.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    return 0
