"""The orchestrator: the only place that composes the stages.

`core` stores, matches and alerts; `seeds` and `feeds` bring documents in.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.exc import SQLAlchemyError

from newswatch.config import FeedSource, SeedSource
from newswatch.log import get_logger
from newswatch.pipeline.core import (
    FeedSettings,
    IngestCounts,
    PipelineCore,
    RefreshReport,
    database_error,
    utc_now,
)
from newswatch.pipeline.feeds import FeedRefresh
from newswatch.pipeline.seeds import refresh_seed_folder

__all__ = ["FeedSettings", "IngestCounts", "Pipeline", "RefreshReport", "utc_now"]

log = get_logger(__name__)


class Pipeline(PipelineCore):
    """Refreshes sources against one database with the current matcher and sinks."""

    def refresh_seeds(self, source: SeedSource) -> RefreshReport:
        """Import new and edited files of one seed folder; report broken ones and go on."""
        return refresh_seed_folder(self, source)

    def refresh_feeds(
        self, feeds: Sequence[FeedSource], *, force: bool = False
    ) -> list[RefreshReport]:
        """Poll the due feeds (all but those told to wait, with `force`) and import them."""
        try:
            return FeedRefresh(self, force).run(feeds)
        except SQLAlchemyError as exc:
            log.error("feed_cycle_failed", error=database_error(self.engine, exc))
            return []
