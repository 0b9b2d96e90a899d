"""Parse workers only when they pay: a cycle where every feed answers 304 starts none."""

from __future__ import annotations

import os
from pathlib import Path

import feedserver
from helpers import feeds_config, migrated_sqlite
from newswatch.config import load_config
from newswatch.pipeline.app import open_app
from newswatch.pipeline.feeds import WARM_UP_AT
from procs import workers_of


def test_a_cycle_of_304s_starts_no_parse_workers(tmp_path: Path, server) -> None:
    urls = []
    for index in range(WARM_UP_AT + 2):
        body = (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Feed</title>'
            f"<item><guid>g{index}</guid><title>Story {index}</title></item></channel></rss>"
        ).encode()
        urls.append(feedserver.set_route(server, f"/f{index}.xml", feedserver.feed(body)))
    config = load_config(feeds_config(tmp_path, migrated_sqlite(tmp_path / "nw.db"), urls))
    app = open_app(config)
    try:
        first = app.pipeline.refresh_feeds(config.sources.feeds, force=True)
        assert len(first) == len(urls)
        assert workers_of(os.getpid()), "new feeds, all due: the workers start ahead"
        app.pipeline.parsers.close()

        steady = app.pipeline.refresh_feeds(config.sources.feeds, force=True)
        assert len(steady) == len(urls)
        assert {report.details.get("http_status") for report in steady} == {304}
        assert workers_of(os.getpid()) == []
    finally:
        app.close()
