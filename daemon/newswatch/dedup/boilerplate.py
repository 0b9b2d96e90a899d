"""Boilerplate in a source's batch (pure): what near-duplicate signing leaves out.

- **Pieces that recur across a source's batch are dropped.** A feed's
  newsletter blurb, cookie notice or "The post ... appeared first on ..."
  footer is the same text under each of its entries; a piece found under two
  entries of one batch that are not copies of each other (a seed folder may
  hold the original and its copy) is that source's boilerplate and is not
  signed. (Chosen over a keyword list, which misses every footer it was not
  written for, and over a stored table of lines per source, which needs I/O
  in this pure stage.) A body's *pieces* are its sentences and lines: many
  outlets run the footer on from the text's last sentence (a plain-text
  description is one paragraph). Sentences are cut at ". ", "? " and "! " by
  `str.replace` (a look-behind regular expression cost as much as signing),
  and only in a batch where two bodies begin or end alike (or end so but for
  a last sentence of their own): elsewhere nothing is run on, and its lines
  (paragraphs) are its pieces (54 of the corpus's 200 feeds are cut at
  sentences; lines cost a third as much).
- **Copies, and what is only a footer.** Two entries are copies when one holds
  every piece of the other (an original and its copy with a footer added), or
  when the pieces they share make up at least half the words of the shorter
  one, unless all they share is the run of pieces both end with (but for a
  last line of their own, and not reaching the start of either) and a few
  words both start with (up to `_HEADER_WORDS`: a byline), and the pieces in
  between are unalike (under half their words in common): that is a footer
  (and a header) around two different items. A longer shared start is a
  shared lead: the story itself. Under a 40-word item an 80-word footer
  is most of the text: by shared words alone the two items were copies, the
  footer was kept, and it made an unrelated item 0.52 similar to a copy and
  the copy only 0.37 similar to its original.
- **One outlet's stock description is not a story.** A body found word for word
  under three entries or more of one feed, with different titles and links on
  the same host (a site's tagline, a podcast's blurb under every episode), is
  not signed: those entries are the outlet's separate items, never copies of
  each other. (Under two, the text is signed: one feed may well carry a story
  and its re-headlined copy.) Across outlets (another host, another feed) and in a seed folder
  (documents of any outlet, often all linked on example.com), the same text
  under a new headline is re-published copy and is signed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import chain
from urllib.parse import urlsplit

from newswatch.model import Document

_SENTENCE_ENDS = (". ", "? ", "! ")
_EDGE = 40  # characters: a footer's or header's last or first few words
_HEADER_WORDS = 8  # a byline or a label over the text; a shared lead is longer
# A site's stock description sits under many of its entries; two entries of one feed
# with one text under two headlines are more likely a story and its re-headlined copy.
STOCK_ENTRIES = 3


def pieces(body: str) -> list[str]:
    """The body's sentences and lines: a footer, even one run on from the text's last
    sentence, is then pieces of its own (module docstring)."""
    for end in _SENTENCE_ENDS:
        body = body.replace(end, end[0] + "\n")
    return lines(body)


def lines(body: str) -> list[str]:
    """The body's lines (its paragraphs, and lines within them)."""
    return list(filter(None, map(str.strip, body.split("\n"))))


def read_pieces(bodies: Iterable[str], cut: int) -> dict[str, list[str]]:
    """The pieces of each distinct body, within its first `cut` characters. Cut at
    sentences only when two bodies of the batch begin or end alike (a footer or a
    header run on from the text), else at lines: sentences cost 3-4x as much."""
    texts = {body: body[:cut] for body in bodies}
    split = pieces if _edges_shared(texts.values()) else lines
    return {body: split(text) for body, text in texts.items()}


def _edges_shared(texts: Iterable[str]) -> bool:
    """Whether two of these (distinct) texts begin or end with the same _EDGE characters,
    or end so but for a last sentence of their own."""
    seen: set[str] = set()
    for text in texts:
        last = text.rfind(". ", 0, len(text) - 1)
        edges = {"^" + text[:_EDGE], "$" + text[-_EDGE:]}
        if last > 0:
            edges.add("$" + text[max(0, last - _EDGE + 1) : last + 1])
        if not seen.isdisjoint(edges):
            return True
        seen |= edges
    return False


def recurring(split: Iterable[list[str]]) -> frozenset[str]:
    """The pieces that recur under two *different* entries of one source's batch, of the
    entries' distinct texts, each a list of pieces. A footer recurs under unrelated
    entries; the pieces of a re-published copy recur too, under an entry that is mostly
    the same text (what makes two entries copies: module docstring); a piece shared
    only by copies is kept."""
    ordered = list(split)
    texts = [set(found) for found in ordered]
    # found under two entries: counted in one pass over all (most are not)
    counts = Counter(chain.from_iterable(texts))
    if len(counts) == sum(map(len, texts)):
        return frozenset()
    repeated = {piece for piece, count in counts.items() if count > 1}
    holders: dict[str, list[int]] = {}
    for index, text in enumerate(texts):
        for piece in text & repeated:
            holders.setdefault(piece, []).append(index)
    copies = _Copies(ordered, texts)
    found = set()
    for piece, where in holders.items():
        pairs = ((a, b) for i, a in enumerate(where) for b in where[i + 1 :])
        if any(not copies(pair) for pair in pairs):
            found.add(piece)
    return frozenset(found)


class _Copies:
    """Whether two entries of a batch are copies (module docstring). Shared words are
    held against those of the shorter entry's other pieces, counted a piece at a
    time and only until they pass the shared words (a footer is a few dozen words of
    an entry's hundreds), each piece's once; entries that share no piece are never
    compared."""

    def __init__(self, ordered: list[list[str]], texts: list[set[str]]) -> None:
        self.ordered = ordered
        self.texts = texts
        self.words: dict[str, int] = {}
        self.known: dict[tuple[int, int], bool] = {}

    def __call__(self, pair: tuple[int, int]) -> bool:
        if pair not in self.known:
            self.known[pair] = self._copies(*pair)
        return self.known[pair]

    def _copies(self, first: int, second: int) -> bool:
        a, b = self.texts[first], self.texts[second]
        if a <= b or b <= a:
            return True
        shared, only_a, only_b = a & b, a - b, b - a
        most = self._count(shared)
        if self._count(only_a, most) > most and self._count(only_b, most) > most:
            return False
        one, other = self.ordered[first], self.ordered[second]
        edges = _common_ending(one, other) | self._header(one, other)
        return not shared <= edges or _alike(only_a, only_b)

    def _header(self, one: list[str], other: list[str]) -> set[str]:
        """The run of pieces both lists start with, when it is a few words (a byline, a
        label): a longer one is a shared lead, the story itself."""
        run = _common_run(one, other)
        return set(one[:run]) if self._count(one[:run]) <= _HEADER_WORDS else set()

    def _count(self, pieces: Iterable[str], most: int | None = None) -> int:
        """Words of these pieces, by their separators (normalize_text folded the
        whitespace inside a paragraph to single spaces); counting stops once past
        `most`."""
        words, total = self.words, 0
        for piece in pieces:
            count = words.get(piece)
            if count is None:
                count = words[piece] = piece.count(" ") + 1
            total += count
            if most is not None and total > most:
                break
        return total


def _common_ending(a: list[str], b: list[str]) -> set[str]:
    """The pieces of the run both lists end with, or end with but for a last line of
    their own ("The post ... appeared first on ..."); none when the run reaches the
    start of either (then it is the story itself)."""
    for x, y in ((a, b), (a[:-1], b[:-1])):
        run = _common_run(reversed(x), reversed(y))
        if run:
            return set(x[len(x) - run :]) if run < min(len(x), len(y)) else set()
    return set()


def _common_run(a: Iterable[str], b: Iterable[str]) -> int:
    """How many pieces the two sequences have alike from their first on."""
    run = 0
    for x, y in zip(a, b, strict=False):  # the shorter ends it
        if x != y:
            break
        run += 1
    return run


def _alike(a: Iterable[str], b: Iterable[str]) -> bool:
    """Whether these pieces have at least half their words in common (two versions of
    one lead, not two different items)."""
    first = set(" ".join(a).casefold().split())
    second = set(" ".join(b).casefold().split())
    return 2 * len(first & second) >= len(first | second)


def stock_descriptions(documents: Sequence[Document]) -> frozenset[str]:
    """Bodies found under `STOCK_ENTRIES` entries or more of a batch, on one host, with
    different titles: that outlet's description of all its items, not one story
    (module docstring)."""
    repeated = Counter(d.body for d in documents)
    held: dict[tuple[str, str], list[str]] = {}
    for document in documents:
        if document.body and repeated[document.body] >= STOCK_ENTRIES and document.url:
            host = urlsplit(document.url).hostname
            if host:
                held.setdefault((host, document.body), []).append(document.title.casefold())
    return frozenset(
        body
        for (_, body), titles in held.items()
        if len(titles) >= STOCK_ENTRIES and len(set(titles)) > 1
    )
