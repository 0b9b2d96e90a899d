"""The `log` sink: one JSON object per alert, one per line, on standard output."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TextIO

from newswatch.alerts.sink import SinkError
from newswatch.model import Alert, iso_utc


class LogSink:
    key = "log"

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def deliver(self, batch: Sequence[Alert]) -> None:
        stream = self._stream or sys.stdout
        now = iso_utc(datetime.now(UTC))
        try:
            for alert in batch:
                record = {"event": "alert", **alert.record(), "timestamp": now}
                stream.write(json.dumps(record, ensure_ascii=False) + "\n")
            stream.flush()
        except (OSError, ValueError) as exc:
            raise SinkError(f"cannot write alerts to standard output: {exc}") from exc
