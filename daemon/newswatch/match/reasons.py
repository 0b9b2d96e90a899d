"""Human-readable output of a match: a snippet around a mention, and why it matched."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from newswatch.model import Hit, Match, WatchKind

OPEN, CLOSE, ELLIPSIS = "«", "»", "…"
_SHOWN_HITS = 5


@dataclass(frozen=True, slots=True)
class Rejection:
    """A candidate mention of a watch that a matching rule did not count, and why.

    `reason` names the rule: `case` (the text lacks the term's capitals, or has
    them only because of where the word stands), `hyphen` (the second half of a
    hyphenated name) or `ambiguous` (an alias several watched people share).
    """

    watch: str
    kind: WatchKind
    hit: Hit
    reason: Literal["case", "hyphen", "name", "ambiguous"]
    detail: str

    def record(self) -> dict[str, object]:
        hit = self.hit
        return {
            "field": hit.field,
            "start": hit.start,
            "end": hit.end,
            "text": hit.text,
            "reason": self.reason,
            "detail": self.detail,
        }


def explain_rejection(rejection: Rejection) -> str:
    """One line: rejected person 'Nathan Law': "law" body 8-11: case: ..."""
    where = _describe(rejection.hit)
    head = f"rejected {rejection.kind} {rejection.watch!r}: {where}"
    return f"{head}: {rejection.reason}: {rejection.detail}"


def snippet(text: str, hit: Hit, width: int = 240) -> str:
    """About `width` characters around the hit, whitespace squeezed, the term as «term».

    The passage is cut at spaces where it can be, with "…" where it was cut.
    Offsets outside the text are clamped rather than refused.
    """
    start = min(max(hit.start, 0), len(text))
    end = min(max(hit.end, start), len(text))
    room = max(width - (end - start), 0)
    low = max(start - room // 2, 0)
    high = min(end + room - (start - low), len(text))
    low = max(start - (room - (high - end)), 0)
    low, high = _at_spaces(text, low, start, end, high)
    passage = f"{text[low:start]}{OPEN}{text[start:end]}{CLOSE}{text[end:high]}"
    passage = " ".join(passage.split())
    return f"{ELLIPSIS if low > 0 else ''}{passage}{ELLIPSIS if high < len(text) else ''}"


def _at_spaces(text: str, low: int, start: int, end: int, high: int) -> tuple[int, int]:
    """Move the cuts inwards to the nearest whitespace, so no word is cut in half."""
    if low > 0 and not text[low - 1].isspace():
        space = next((i for i in range(low, start) if text[i].isspace()), None)
        low = space + 1 if space is not None else low
    if high < len(text) and not text[high].isspace():
        space = next((i for i in range(high - 1, end - 1, -1) if text[i].isspace()), None)
        high = space if space is not None else high
    return low, high


def explain(match: Match) -> str:
    """Which rule fired and the mentions that counted, e.g.

    alias "Kosachev": 6 mentions: "Kosachev" body 160-168, ... and 1 more
    """
    hits = sorted(match.hits, key=lambda h: (h.field != "title", h.start))
    count = f"{len(hits)} mention{'s' if len(hits) != 1 else ''}"
    shown = ", ".join(_describe(hit) for hit in hits[:_SHOWN_HITS])
    more = f", and {len(hits) - _SHOWN_HITS} more" if len(hits) > _SHOWN_HITS else ""
    return f"{match.rule or 'matched'}: {count}: {shown}{more}"


def _describe(hit: Hit) -> str:
    return f'"{" ".join(hit.text.split())}" {hit.field} {hit.start}-{hit.end}'
