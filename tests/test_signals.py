"""The daemon's signal inbox: handlers that take no lock, a wait that wakes at once."""

from __future__ import annotations

import os
import signal
import threading
import time

from newswatch.ops.signals import SignalInbox


def test_a_signal_sent_before_the_wait_is_handed_over_by_it() -> None:
    with SignalInbox([signal.SIGUSR1, signal.SIGUSR2]) as inbox:
        os.kill(os.getpid(), signal.SIGUSR1)
        os.kill(os.getpid(), signal.SIGUSR2)
        assert inbox.wait(timeout=30) == [signal.SIGUSR1, signal.SIGUSR2]
        assert inbox.wait(timeout=0) == []  # handed over once


def test_a_signal_during_the_wait_ends_it_long_before_its_timeout() -> None:
    with SignalInbox([signal.SIGUSR1]) as inbox:
        sender = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGUSR1))
        started = time.monotonic()
        sender.start()
        received = inbox.wait(timeout=60)
        sender.join()
    assert received == [signal.SIGUSR1]
    assert time.monotonic() - started < 30


def test_a_nudge_ends_a_wait_from_another_thread_with_no_signal() -> None:
    """How `ingest` ends its watcher thread when the command is over."""
    with SignalInbox([signal.SIGUSR1]) as inbox:
        nudger = threading.Timer(0.5, inbox.nudge)
        started = time.monotonic()
        nudger.start()
        received = inbox.wait(timeout=60)
        nudger.join()
    assert received == []
    assert time.monotonic() - started < 30


def test_leaving_restores_the_handlers_and_the_wakeup_fd() -> None:
    before = signal.getsignal(signal.SIGUSR1)
    with SignalInbox([signal.SIGUSR1]):
        assert signal.getsignal(signal.SIGUSR1) != before
    assert signal.getsignal(signal.SIGUSR1) == before
    assert signal.set_wakeup_fd(-1) == -1  # none was left behind
