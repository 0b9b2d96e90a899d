"""Golden cases for names matching as names: case-smart terms, hyphenated names,
someone else's name, capitals that prove nothing, ambiguous shared surnames."""

from __future__ import annotations

from typing import Literal

import pytest

from newswatch.config import Person, Topic
from newswatch.match import compile_watches

Policy = Literal["all", "none"]


def person(name: str, alias: str, **options: object) -> Person:
    return Person(name=name, aliases=(alias,), **options)  # type: ignore[arg-type]


def found(people: list[Person], body: str, title: str = "", ambiguous: Policy = "none") -> dict:
    """Watch -> the texts of its counted mentions, in reading order."""
    matches = compile_watches(people, [], ambiguous).match(title, body)
    return {
        m.watch: [h.text for h in sorted(m.hits, key=lambda h: (h.field, h.start))] for m in matches
    }


def reasons(people: list[Person], body: str, title: str = "") -> list[tuple[str, str, str]]:
    """(watch, text, reason) of every candidate mention a rule refused."""
    _, refused = compile_watches(people, []).examine(title, body, explain=True)
    return [(r.watch, r.hit.text, r.reason) for r in refused]


LAW = person("Nathan Law", "Law")
TRUMP = person("Donald Trump", "Trump")
TO = person("James To", "To")
OR = person("Wilson Or", "Or")
CLOSE = person("Chuck Close", "Close")
CRUISE = person("Tom Cruise", "Cruise")
MAY = person("Theresa May", "May")
WEST = person("Kanye West", "West")
KING = person("Martin Luther King", "King")
VANCE = person("JD Vance", "Vance")
BEN, GARY = person("Ben Chan", "Chan"), person("Gary Chan", "Chan")

GOLDEN: list[tuple[str, Person, str, list[str]]] = [
    # case-smart: a capital in the term needs a capital in the text
    ("ordinary word in lower case", LAW, "under the new law, visas", []),
    (
        "surname mid-sentence",
        LAW,
        "the activist Nathan Law fled; critics of Law said",
        ["Nathan Law", "Law"],
    ),
    (
        "possessive",
        LAW,
        "Nathan Law spoke. After Law's arrest, crowds gathered",
        ["Nathan Law", "Law"],
    ),
    ("in quotes", LAW, "the activist “Nathan Law” said", ["Nathan Law"]),
    ("to", TO, "they need visas to enter", []),
    ("or", OR, "one or two points", []),
    ("close", CLOSE, "a close-ranged shot", []),
    ("cruise", CRUISE, "a cruise ship docked", []),
    ("trump card", TRUMP, "played his trump card", []),
    ("possessive curly", TRUMP, "Trump’s plan", ["Trump"]),
    ("headline in capitals, a name", TRUMP, "", ["TRUMP"]),
    ("full name in capitals", LAW, "NATHAN LAW ARRESTED IN HONG KONG", ["NATHAN LAW"]),
    # capitals that prove nothing for an ordinary word
    ("sentence-initial ordinary word", LAW, "Police said so. Law enforcement agreed.", []),
    ("sentence-initial To", TO, "To be sure, nothing changed.", []),
    ("after a closing quote", TO, "“I agree.” To which he replied", []),
    ("sentence-initial Close", CLOSE, "Close to the border, troops waited.", []),
    ("headline in capitals, an ordinary word", LAW, "THE NEW LAW TAKES EFFECT", []),
    (
        "sentence-initial, but named too",
        LAW,
        "Nathan Law spoke. Law said he would return.",
        ["Nathan Law", "Law"],
    ),
    ("a month", MAY, "elections by May 15, officials said", []),
    (
        "a month, the person named",
        MAY,
        "Theresa May resigned in June; later May said",
        ["Theresa May", "May"],
    ),
    ("part of a longer proper noun", LAW, "leads the State of Law Coalition", []),
    # someone else's name
    ("another given name", TRUMP, "US president's son Eric Trump invests", []),
    ("a title is no given name", TRUMP, "said President Trump on Friday", ["Trump"]),
    ("an initial is no given name", VANCE, "Vice President J.D. Vance said", ["Vance"]),
    ("followed by a given name", KING, "King Charles III expressed sympathy", []),
    ("a noun with its article", WEST, "the decline of the West, he said", []),
    ("West Bank", WEST, "the occupied West Bank is", []),
    ("the person himself", WEST, "Kanye West apologised; West said", ["Kanye West", "West"]),
    # hyphenated names
    ("second half of a Korean given name", BEN, "Hwang Hee-Chan scored twice", []),
    ("second half of a French given name", person("Marie Curie", "Marie"), "Jean-Marie Le Pen", []),
    ("a lower-case prefix is no name", TRUMP, "an anti-Trump protest", ["Trump"]),
    ("a name before a hyphen", TRUMP, "a Trump-backed candidate", ["Trump"]),
    (
        "two surnames before a noun",
        person("Kamala Harris", "Harris"),
        "the Biden-Harris team",
        ["Harris"],
    ),
    ("a Korean given name alone", person("Denise Ho", "Ho"), "Park Joo-Ho.", []),
    ("a month after the name", TRUMP, "said Trump Monday", ["Trump"]),
]


@pytest.mark.parametrize(
    ("watch", "body", "expected"),
    [case[1:] for case in GOLDEN],
    ids=[case[0] for case in GOLDEN],
)
def test_golden(watch: Person, body: str, expected: list[str]) -> None:
    title = "TRUMP WINS" if not body else ""
    result = found([watch], body, title)
    assert result.get(watch.name, []) == expected


def test_two_watched_names_joined_by_a_hyphen_both_count() -> None:
    putin = person("Vladimir Putin", "Putin")
    assert found([TRUMP, putin], "the Trump-Putin summit") == {
        "Donald Trump": ["Trump"],
        "Vladimir Putin": ["Putin"],
    }


def test_kim_jong_un_either_way() -> None:
    hyphen = person("Kim Jong-un", "Kim Jong-un")
    spaced = person("Kim Jong Un", "Kim Jong Un")
    assert found([hyphen], "Kim Jong Un spoke") == {"Kim Jong-un": ["Kim Jong Un"]}
    assert found([spaced], "Kim Jong-un spoke") == {"Kim Jong Un": ["Kim Jong-un"]}


def test_case_insensitive_watch_keeps_the_old_rule() -> None:
    law = person("Nathan Law", "Law", case="insensitive")
    assert found([law], "under the new law") == {"Nathan Law": ["law"]}
    nato = Topic(name="NATO", any=("NATO",), case="insensitive")
    assert compile_watches([], [nato]).match("", "Nato summit") == []


def test_case_mode_is_per_watch() -> None:
    smart = Topic(name="smart", any=("Apple",))
    loose = Topic(name="loose", any=("Apple",), case="insensitive")
    matches = compile_watches([], [smart, loose]).match("", "an apple a day")
    assert [m.watch for m in matches] == ["loose"]


def test_smart_case_applies_to_queries() -> None:
    topic = Topic(name="q", query="Turkey AND election")
    matcher = compile_watches([], [topic])
    assert matcher.match("", "Turkey votes in an election") != []
    assert matcher.match("", "a turkey dinner after the election") == []


def test_ambiguous_surname_goes_to_nobody_by_default() -> None:
    assert found([BEN, GARY], "Chan said") == {}
    assert found([BEN, GARY], "Chan said", ambiguous="all") == {
        "Ben Chan": ["Chan"],
        "Gary Chan": ["Chan"],
    }
    assert found([BEN, GARY], "Gary Chan arrived. Chan said") == {
        "Gary Chan": ["Gary Chan", "Chan"]
    }


def test_each_rule_says_why_it_refused() -> None:
    assert reasons([LAW], "the new law") == [("Nathan Law", "law", "case")]
    assert reasons([LAW], "Law enforcement agreed.") == [("Nathan Law", "Law", "case")]
    assert reasons([BEN], "Hwang Hee-Chan scored") == [("Ben Chan", "Chan", "hyphen")]
    assert reasons([TRUMP], "son Eric Trump invests") == [("Donald Trump", "Trump", "name")]
    assert sorted(reasons([BEN, GARY], "Chan said")) == [
        ("Ben Chan", "Chan", "ambiguous"),
        ("Gary Chan", "Chan", "ambiguous"),
    ]


def test_ambiguity_is_explained_in_the_rule_when_counted() -> None:
    matches = compile_watches([BEN, GARY], [], "all").match("", "Chan said")
    assert "ambiguous: shared with Gary Chan" in matches[0].rule
