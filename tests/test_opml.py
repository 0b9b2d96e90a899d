"""OPML files in, feed lists and YAML to paste out."""

from __future__ import annotations

import pytest
import yaml

from newswatch.config import FeedSource
from newswatch.sources.opml import OpmlError, OpmlFeed, feeds_yaml, parse_opml

OPML = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>Subscriptions</title></head>
  <body>
    <outline text="News" title="News">
      <outline type="rss" text="BBC World" xmlUrl="https://feeds.bbci.co.uk/news/world/rss.xml"
               htmlUrl="https://www.bbc.co.uk/news/world"/>
      <outline text="Nested">
        <outline type="rss" title="Al Jazeera" text="AJ"
                 xmlUrl=" https://www.aljazeera.com/xml/rss/all.xml "/>
      </outline>
    </outline>
    <outline type="rss" text="" xmlurl="http://lower.example/feed"/>
    <outline type="rss" text="BBC again" xmlUrl="https://feeds.bbci.co.uk/news/world/rss.xml"/>
    <outline type="link" text="A web page" url="https://example.org/page"/>
    <outline type="rss" text="Gopher" xmlUrl="gopher://old.example/feed"/>
  </body>
</opml>"""


def test_feeds_at_any_depth_first_of_duplicates_kept() -> None:
    assert parse_opml(OPML, "feeds.opml") == [
        OpmlFeed("https://feeds.bbci.co.uk/news/world/rss.xml", "BBC World"),
        OpmlFeed("https://www.aljazeera.com/xml/rss/all.xml", "Al Jazeera"),
        OpmlFeed("http://lower.example/feed", None),
    ]


def test_yaml_pastes_under_sources_feeds_and_validates() -> None:
    feeds = [*parse_opml(OPML, "feeds.opml"), OpmlFeed("https://x.example/f", 'Quote "me": #1')]
    text = feeds_yaml(feeds)
    assert text.startswith(
        "    - url: https://feeds.bbci.co.uk/news/world/rss.xml\n      name: BBC World\n"
    )
    document = yaml.safe_load("sources:\n  feeds:\n" + text)
    sources = [FeedSource.model_validate(entry) for entry in document["sources"]["feeds"]]
    assert [s.url for s in sources] == [f.url for f in feeds]
    assert [s.name for s in sources] == [f.title for f in feeds]


def test_malformed_opml_says_where() -> None:
    broken = b'<?xml version="1.0"?>\n<opml version="2.0"><body>\n<outline text="a" xmlUrl="http://a/f">\n</body></opml>'
    with pytest.raises(OpmlError) as error:
        parse_opml(broken, "subs.opml")
    assert str(error.value).startswith(
        "subs.opml:4: not well-formed XML at column 3: mismatched tag"
    )


def test_not_opml() -> None:
    with pytest.raises(OpmlError, match=r"feeds.xml: the root element is <rss>, not <opml>"):
        parse_opml(b'<rss version="2.0"><channel/></rss>', "feeds.xml")


def test_opml_without_feeds() -> None:
    empty = b'<opml version="1.0"><body><outline text="x" xmlUrl="ftp://a/b"/></body></opml>'
    with pytest.raises(
        OpmlError, match=r"e.opml: no feeds found.*skipped, not http\(s\): ftp://a/b"
    ):
        parse_opml(empty, "e.opml")


def test_entity_declarations_are_refused() -> None:
    bomb = b'<!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]><opml><body/></opml>'
    with pytest.raises(OpmlError, match="entity declarations are not allowed"):
        parse_opml(bomb, "bomb.opml")


def test_import_opml_skips_outlines_the_config_would_refuse_and_says_which(
    tmp_path, capsys
) -> None:
    """An exported list with an unusable URL: the other feeds are merged, the file
    passes `check`, and stderr names the outline skipped and why."""
    from newswatch.cli import main

    opml = tmp_path / "subs.opml"
    opml.write_text(
        "<opml version='2.0'><body><outline text='Wire' xmlUrl='http://[wire.example/rss'/>"
        "<outline text='Port' xmlUrl='https://port.example:99999/rss'/>"
        "<outline text='World' xmlUrl='https://world.example/rss'/></body></opml>"
    )
    feeds_file = tmp_path / "feeds.yaml"
    assert main(["import-opml", str(opml), "--merge", str(feeds_file)]) == 0
    out, err = capsys.readouterr()
    assert "1 feed(s) added" in out
    assert err.splitlines() == [
        f"{opml}: skipped the outline 'Wire': 'http://[wire.example/rss' is not a usable URL"
        " (Invalid IPv6 URL); write it as http(s)://host[:port]/path",
        f"{opml}: skipped the outline 'Port': 'https://port.example:99999/rss' is not a"
        " usable URL (Port out of range 0-65535); write it as http(s)://host[:port]/path",
    ]
    config = tmp_path / "newswatch.yaml"
    config.write_text("sources:\n  include: [feeds.yaml]\n")
    assert main(["--config", str(config), "check"]) == 0
    assert yaml.safe_load(feeds_file.read_text())["feeds"] == [
        {"url": "https://world.example/rss", "name": "World"}
    ]
