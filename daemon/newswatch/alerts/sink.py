"""The interface every alert sink implements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from newswatch.model import Alert


class SinkError(Exception):
    """Delivery failed; the alerts stay pending and are retried later."""


class Sink(Protocol):
    @property
    def key(self) -> str:
        """Stable name of this sink in the outbox (e.g. `log`, `email:a@example.org`)."""
        ...

    def deliver(self, batch: Sequence[Alert]) -> None:
        """Deliver every alert of the batch or raise SinkError."""
        ...
