"""Signing loads numpy without OpenBLAS's thread pool (issue 11): MinHash does no linear
algebra, and the threads OpenBLAS starts at import (one per core) only cost CPU. Nor
does it load numpy.random (0.025 s and 6.7 MB in each parse worker): the permutations
are written out."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

SIGN_AND_COUNT_THREADS = """
import os, sys
from newswatch.dedup.signature import signatures_of
text = " ".join(f"word{i} of a story long enough to be signed" for i in range(40))
assert signatures_of([text])[0] is not None
print(len(os.listdir("/proc/self/task")), os.environ.get("OPENBLAS_NUM_THREADS"))
print("numpy.random" in sys.modules)
"""


def _signed_in_fresh_interpreter(env: dict[str, str]) -> tuple[int, str, str]:
    out = subprocess.run(
        [sys.executable, "-c", SIGN_AND_COUNT_THREADS],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return int(out[0]), out[1], out[2]


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: OpenBLAS starts no threads")
def test_signing_starts_no_blas_threads() -> None:
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    assert _signed_in_fresh_interpreter(env) == (1, "1", "False")


def test_a_users_openblas_setting_is_kept() -> None:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "2"}
    assert _signed_in_fresh_interpreter(env)[1] == "2"
