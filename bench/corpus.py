"""Where the benchmarks find the shared feed corpus: the checkout's sibling
`shared/corpus/feeds` (also from a worktree deeper down), else the workplace's copy."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = next(
    (
        p / "shared" / "corpus" / "feeds"
        for p in ROOT.parents
        if (p / "shared/corpus/feeds").is_dir()
    ),
    Path("/work/shared/corpus/feeds"),
)
