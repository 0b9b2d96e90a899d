"""Golden cases for the matcher: every folding rule and operator, with negatives."""

from __future__ import annotations

from pathlib import Path

import pytest

from newswatch.config import Person, Topic
from newswatch.match import compile_watches
from newswatch.model import Match

SEED = Path(__file__).resolve().parent.parent / "seeds" / "000_4aedde6dc7f46a07.txt"


def person(name: str, *aliases: str, **options: object) -> Person:
    return Person(name=name, aliases=aliases, **options)  # type: ignore[arg-type]


def topic(name: str, **options: object) -> Topic:
    return Topic(name=name, **options)  # type: ignore[arg-type]


def run(
    watch: Person | Topic, body: str, title: str = "", source: str | None = None
) -> list[Match]:
    people = [watch] if isinstance(watch, Person) else []
    topics = [watch] if isinstance(watch, Topic) else []
    return compile_watches(people, topics).match(title, body, source)


def hit_texts(watch: Person | Topic, body: str) -> list[str]:
    """The texts of the hits of the one watch, in reading order; [] when it does not match."""
    matches = run(watch, body)
    assert len(matches) <= 1
    for match in matches:
        for hit in match.hits:
            assert body[hit.start : hit.end] == hit.text, "a hit must point at its text"
    return [h.text for m in matches for h in sorted(m.hits, key=lambda h: h.start)]


TRUMP = person("Donald Trump", "Trump")
NATO = topic("NATO", any=("NATO",))
US = topic("US", any=("US",))

GOLDEN: list[tuple[str, Person | Topic, str, list[str]]] = [
    # whole words, case, possessives
    ("possessive straight", TRUMP, "Trump's plan", ["Trump"]),
    ("possessive curly", TRUMP, "Trump’s plan", ["Trump"]),
    ("upper case text", TRUMP, "TRUMP WINS", ["TRUMP"]),
    ("not inside a word", TRUMP, "a trumpet player from Trumpington", []),
    ("full name and alias", TRUMP, "Donald Trump. Later Trump", ["Donald Trump", "Trump"]),
    ("capitals alias", NATO, "NATO-led forces", ["NATO"]),
    ("capitals not a prefix", NATO, "Natoli and NATOs", []),
    ("capitals are case-sensitive", NATO, "Nato summit", []),
    ("us is not US", US, "let us go", []),
    ("US matches US", US, "US troops", ["US"]),
    ("lower-case term is case-insensitive", topic("t", any=("nato",)), "Nato", ["Nato"]),
    # whitespace, hyphens, punctuation inside phrases
    ("across a line break", person("Donald Trump"), "Donald\nTrump", ["Donald\nTrump"]),
    ("across runs of spaces", person("Donald Trump"), "Donald \n\t Trump", ["Donald \n\t Trump"]),
    ("phrase words apart", person("Donald Trump"), "Donald met Trump", []),
    ("phrase split by a comma", person("Donald Trump"), "Donald, Trump", []),
    ("hyphen in the text", person("Kim Jong Un"), "Kim Jong-un spoke", ["Kim Jong-un"]),
    ("hyphen in the name", person("Kim Jong-un"), "Kim Jong Un spoke", ["Kim Jong Un"]),
    ("hyphen is a boundary", topic("Iran", any=("Iran",)), "the Iran-Contra affair", ["Iran"]),
    (
        "none vetoes Iran-Contra",
        topic("Iran", any=("Iran",), none=("Iran-Contra",)),
        "Iran and the Iran-Contra affair",
        [],
    ),
    ("punctuated alias", topic("t", any=("U.S.",)), "the U.S. and the US", ["U.S"]),
    ("O'Brien with a curly apostrophe", person("O'Brien"), "Mr O’Brien said", ["O’Brien"]),
    # diacritics and scripts
    ("diacritics in the name", person("Recep Erdoğan"), "Recep Erdogan", ["Recep Erdogan"]),
    ("diacritics in the text", person("Recep Erdogan"), "Recep Erdoğan", ["Recep Erdoğan"]),
    ("decomposed accents", person("Erdoğan"), "Erdog\u0306an spoke", ["Erdog\u0306an"]),
    ("Cyrillic", person("Константин Косачев", "Косачев"), "сказал Косачев.", ["Косачев"]),
    ("Cyrillic upper case", person("Косачев"), "КОСАЧЕВ", ["КОСАЧЕВ"]),
    ("Cyrillic whole word", person("Косачев"), "Косачевым", []),
    ("Chinese without spaces", person("习近平"), "国家主席习近平表示", ["习近平"]),
    ("soft hyphen inside a word", person("Kosachev"), "Kosa\u00adchev", ["Kosa\u00adchev"]),
    # people: exclude is mention-level
    ("excluded phrase only", person("Trump", exclude=("Trump Tower",)), "at Trump Tower", []),
    (
        "excluded phrase and another mention",
        person("Trump", exclude=("Trump Tower",)),
        "at Trump Tower, Trump said",
        ["Trump"],
    ),
    # any / all / none
    (
        "any and all",
        topic("t", any=("ceasefire", "truce"), all=("Ukraine",)),
        "truce in Ukraine",
        ["truce", "Ukraine"],
    ),
    ("all missing", topic("t", any=("ceasefire",), all=("Ukraine",)), "ceasefire in Gaza", []),
    ("all only", topic("t", all=("Ukraine", "Russia")), "Russia, Ukraine", ["Russia", "Ukraine"]),
    ("wildcard in any", topic("t", any=("sanction*",)), "new sanctions", ["sanctions"]),
    # the query language
    (
        "AND",
        topic("t", query="ceasefire AND Ukraine"),
        "Ukraine ceasefire",
        ["Ukraine", "ceasefire"],
    ),
    ("AND missing", topic("t", query="ceasefire AND Ukraine"), "a ceasefire", []),
    ("implicit AND", topic("t", query="ceasefire Ukraine"), "a ceasefire", []),
    ("OR", topic("t", query="ceasefire OR truce"), "a truce", ["truce"]),
    ("NOT", topic("t", query="ceasefire NOT Gaza"), "ceasefire in Gaza", []),
    ("NOT absent", topic("t", query="ceasefire NOT Gaza"), "ceasefire in Sudan", ["ceasefire"]),
    ("phrase", topic("t", query='"peace deal"'), "a peace deal", ["peace deal"]),
    ("phrase apart", topic("t", query='"peace deal"'), "peace is no deal", []),
    ("precedence", topic("t", query="a1 OR b1 AND c1"), "a1 only", ["a1"]),
    ("parentheses", topic("t", query="(a1 OR b1) AND c1"), "a1 only", []),
    (
        "NEAR within",
        topic("t", query="Putin NEAR/3 Trump"),
        "Putin met with Trump",
        ["Putin", "Trump"],
    ),
    (
        "NEAR either order",
        topic("t", query="Putin NEAR/3 Trump"),
        "Trump and Putin",
        ["Trump", "Putin"],
    ),
    ("NEAR beyond", topic("t", query="Putin NEAR/2 Trump"), "Putin met with Trump", []),
    (
        "NEAR adjacent is 1",
        topic("t", query="Putin NEAR/1 Trump"),
        "Putin Trump",
        ["Putin", "Trump"],
    ),
    (
        "NEAR keeps close pair only",
        topic("t", query="a1 NEAR/1 b1"),
        "a1 x x b1 x a1 b1",
        ["a1", "b1"],
    ),
    ("wildcard", topic("t", query="sanction*"), "sanctioned firms", ["sanctioned"]),
    ("wildcard is a word start", topic("t", query="sanction*"), "unsanctioned", []),
    ("wildcard phrase literal", topic("t", query='"sanction*"'), "sanctions", []),
    ("capitals in a query", topic("t", query="US AND troops"), "us troops", []),
    (
        "any with a NOT query",
        topic("t", any=("Ukraine",), query="NOT Russia"),
        "Ukraine",
        ["Ukraine"],
    ),
    (
        "any vetoed by a NOT query",
        topic("t", any=("Ukraine",), query="NOT Russia"),
        "Ukraine, Russia",
        [],
    ),
    ("a NOT query alone has no mention", topic("t", query="NOT Russia"), "Ukraine", []),
    ("Cyrillic NEAR", topic("t", query="Путин NEAR/2 Трамп"), "Путин и Трамп", ["Путин", "Трамп"]),
    ("quoted operator word", topic("t", query='"and" AND cats'), "dogs and cats", ["and", "cats"]),
]


@pytest.mark.parametrize(
    ("watch", "body", "expected"),
    [case[1:] for case in GOLDEN],
    ids=[case[0] for case in GOLDEN],
)
def test_golden(watch: Person | Topic, body: str, expected: list[str]) -> None:
    assert hit_texts(watch, body) == expected


def test_field_scopes_in_queries() -> None:
    watch = topic("t", query="title:Ukraine AND body:ceasefire")
    assert run(watch, title="Ukraine", body="a ceasefire")
    assert not run(watch, title="a ceasefire", body="Ukraine")
    assert not run(topic("t", query='title:(truce OR "peace deal")'), title="", body="truce")


def test_fields_limit_where_a_watch_looks() -> None:
    watch = person("Kosachev", fields=("title",))
    assert run(watch, title="Kosachev speaks", body="")
    assert not run(watch, title="Senator speaks", body="Kosachev")
    hits = run(person("Kosachev"), title="Kosachev", body="Kosachev")[0].hits
    assert [h.field for h in hits] == ["title", "body"]


def test_sources_limit_which_documents_a_watch_sees() -> None:
    watch = topic("t", any=("NATO",), sources=("Example World",))
    assert run(watch, "NATO", source="Example World")
    assert not run(watch, "NATO", source="Other News")
    assert not run(watch, "NATO", source=None)
    assert run(topic("t", any=("NATO",)), "NATO", source=None)


@pytest.mark.parametrize(
    ("body", "matches"),
    [("Trump said", False), ("Trump said, Trump added", True), ("Donald Trump said", False)],
)
def test_min_mentions_counts_distinct_positions(body: str, matches: bool) -> None:
    assert bool(run(person("Donald Trump", "Trump", min_mentions=2), body)) is matches


def test_min_mentions_on_topics() -> None:
    watch = topic("t", any=("NATO", "alliance"), min_mentions=3)
    assert not run(watch, "NATO and the alliance")
    assert run(watch, "NATO and the alliance; NATO again")


def test_results_are_in_config_order_people_first() -> None:
    matcher = compile_watches(
        [person("Zed Zulu", "Zulu"), person("Al Alpha", "Alpha")],
        [topic("B", any=("beta",)), topic("A", any=("alpha",))],
    )
    found = matcher.match("", "beta alpha Zulu Alpha")
    assert [(m.kind, m.watch) for m in found] == [
        ("person", "Zed Zulu"),
        ("person", "Al Alpha"),
        ("topic", "B"),
        ("topic", "A"),
    ]


def test_rule_says_what_fired() -> None:
    watch = topic("t", any=("ceasefire", "truce"), all=("Ukraine",))
    assert run(watch, "a ceasefire in Ukraine")[0].rule == "any [ceasefire] AND all [Ukraine]"
    query = '(ceasefire OR "peace deal") AND Ukraine'
    assert run(topic("t", query=query), "peace deal for Ukraine")[0].rule == query
    assert run(person("Konstantin Kosachev", "Kosachev"), "Kosachev")[0].rule == 'alias "Kosachev"'


def test_terms_without_letters_never_match_and_never_crash() -> None:
    assert not run(person("!!!", "--"), "!!! -- ?")
    assert not run(topic("t", any=("...",)), "...")


def test_seed_document() -> None:
    lines = SEED.read_text(encoding="utf-8").splitlines()
    title, body = lines[2], "\n".join(lines[3:])
    people = [
        person("Donald Trump", "Trump"),
        person("Konstantin Kosachev", "Kosachev"),
        person("Joe Biden", "Biden"),
        person("Vladimir Putin", "Putin"),
    ]
    topics = [
        topic("NATO", any=("NATO",)),
        topic("China", any=("China",)),
        topic("Iran", any=("Iran",)),
        topic("arms control", any=("arms control",)),
        topic(
            "Ukraine peace deal",
            query='(ceasefire OR "peace deal" OR "peace plan") AND Ukraine',
        ),
    ]
    found = {m.watch: m for m in compile_watches(people, topics).match(title, body, "seeds")}
    assert list(found) == [
        "Donald Trump",
        "Konstantin Kosachev",
        "Joe Biden",
        "NATO",
        "China",
        "Iran",
        "arms control",
        "Ukraine peace deal",
    ]
    assert found["Donald Trump"].first_hit is not None
    assert found["Donald Trump"].first_hit.field == "title"
    assert "Donald Trump" in found["Donald Trump"].matched
    assert found["Konstantin Kosachev"].matched == ["Konstantin Kosachev", "Kosachev"]
    for match in found.values():
        for hit in match.hits:
            text = title if hit.field == "title" else body
            assert text[hit.start : hit.end] == hit.text
