"""The orchestrator: the only place that composes the stages.

`core` stores, matches and alerts; `seeds` and `feeds` bring documents in.

Seed folders, parsing and the document store load when a source needs them: a
cycle of feeds that all answer 304 pays for none of them (issue 11).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError

from newswatch.log import get_logger
from newswatch.pipeline.core import (
    FeedSettings,
    IngestCounts,
    PipelineCore,
    RefreshReport,
    utc_now,
)
from newswatch.pipeline.feeds import FeedRefresh
from newswatch.store.db import database_error

if TYPE_CHECKING:
    from newswatch.config import FeedSource, SeedSource
    from newswatch.pipeline.seeds import SeedFolderState

__all__ = ["FeedSettings", "IngestCounts", "Pipeline", "RefreshReport", "utc_now"]

log = get_logger(__name__)


class Pipeline(PipelineCore):
    """Refreshes sources against one database with the current matcher and sinks."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._seed_folders: dict[tuple[str, str], SeedFolderState] = {}

    def refresh_seeds(self, source: SeedSource, *, quiet_if_idle: bool = False) -> RefreshReport:
        """Import new and edited files of one seed folder; report broken ones and go on.

        What was learnt of the folder is kept for the next rescan (per name and path).
        """
        from newswatch.pipeline.seeds import SeedFolderState, refresh_seed_folder
        from newswatch.sources.seedfolder import SeedFolder

        place = (source.source_name, str(source.path))
        state = self._seed_folders.get(place)
        if state is None:
            state = self._seed_folders[place] = SeedFolderState(SeedFolder(source.path))
        return refresh_seed_folder(self, source, state, quiet_if_idle=quiet_if_idle)

    def rescan_seeds(self, source: SeedSource) -> RefreshReport:
        """The daemon's periodic rescan: as refresh_seeds, idle rescans logged at debug."""
        return self.refresh_seeds(source, quiet_if_idle=True)

    def refresh_feeds(
        self, feeds: Sequence[FeedSource], *, force: bool = False
    ) -> list[RefreshReport]:
        """Poll the due feeds (all but those told to wait, with `force`) and import them."""
        try:
            reports = FeedRefresh(self, force).run(feeds)
        except SQLAlchemyError as exc:
            log.error("feed_cycle_failed", error=database_error(self.engine, exc))
            return []
        return reports
