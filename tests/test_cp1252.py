"""The fast Windows-1252 fix-up table maps every character exactly as feedparser's own."""

from __future__ import annotations

import feedparser.mixin

from newswatch.sources import cp1252


def test_the_fast_table_maps_every_character_like_feedparsers_dict() -> None:
    table = cp1252.fast_table(cp1252.ORIGINAL)
    characters = "".join(chr(c) for c in range(0x11000) if not 0xD800 <= c < 0xE000)
    assert characters.translate(table) == characters.translate(cp1252.ORIGINAL)
    assert "\x93quoted\x94".translate(table) == "\u201cquoted\u201d"


def test_parsing_a_feed_installs_it() -> None:
    import newswatch.sources.feeds  # noqa: F401 - importing installs the table

    assert isinstance(feedparser.mixin._cp1252, list)
