"""Golden cases for names matching as names: case-smart terms, hyphenated names,
someone else's name, capitals that prove nothing, ambiguous shared surnames."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import pytest

from newswatch.config import Person, Topic
from newswatch.match import compile_watches

Policy = Literal["salient", "all", "none"]


def person(name: str, alias: str, **options: object) -> Person:
    return Person(name=name, aliases=(alias,), **options)  # type: ignore[arg-type]


def found(
    people: list[Person],
    body: str,
    title: str = "",
    ambiguous: Policy = "none",
    salience: Mapping[str, int] | None = None,
) -> dict:
    """Watch -> the texts of its counted mentions, in reading order."""
    matcher = compile_watches(people, [], ambiguous)
    matches = matcher.match(title, body, salience=salience or {})
    return {
        m.watch: [h.text for h in sorted(m.hits, key=lambda h: (h.field, h.start))] for m in matches
    }


def reasons(
    people: list[Person], body: str, title: str = "", salience: Mapping[str, int] | None = None
) -> list[tuple[str, str, str]]:
    """(watch, text, reason) of every candidate mention a rule refused."""
    matcher = compile_watches(people, [])
    _, refused = matcher.examine(title, body, explain=True, salience=salience or {})
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


DONALD = person("Donald Trump", "Trump")
MELANIA = person("Melania Trump", "Trump")
RECENT = {"Donald Trump": 40, "Melania Trump": 3}  # documents naming each in full


def test_a_shared_surname_goes_to_the_sharer_named_in_full_far_more_often() -> None:
    title = "Trump Says Colombia Will Accept Deportees"
    assert found([DONALD, MELANIA], "", title, "salient", RECENT) == {"Donald Trump": ["Trump"]}
    assert found([DONALD, MELANIA], "Trump's plan", "", "salient", RECENT) == {
        "Donald Trump": ["Trump"]
    }
    assert found([DONALD, MELANIA], "a trump card", "", "salient", RECENT) == {}  # case


def test_salient_is_the_default_and_without_counts_it_counts_nobody() -> None:
    matcher = compile_watches([DONALD, MELANIA], [])
    assert [m.watch for m in matcher.match("", "Trump said", salience=RECENT)] == ["Donald Trump"]
    assert matcher.match("", "Trump said") == []  # a new database: no counts yet


def test_balanced_or_rare_sharers_stay_ambiguous() -> None:
    balanced = {"Ben Chan": 6, "Gary Chan": 4}
    assert found([BEN, GARY], "Chan said", "", "salient", balanced) == {}
    assert found([DONALD, MELANIA], "Trump said", "", "salient", {"Donald Trump": 2}) == {}
    assert found([DONALD, MELANIA], "Trump said", "", "salient", {"Donald Trump": 8}) == {
        "Donald Trump": ["Trump"]
    }


def test_a_watched_full_name_in_the_document_still_wins_over_the_counts() -> None:
    body = "Melania Trump opened the exhibition. Trump said it was her project."
    assert found([DONALD, MELANIA], body, "", "salient", RECENT) == {
        "Melania Trump": ["Melania Trump", "Trump"]
    }


def test_an_unwatched_person_of_the_name_keeps_the_surname_ambiguous() -> None:
    body = "Eric Trump invests in a drone maker. Trump said the deal was fair."
    assert found([DONALD, MELANIA], body, "", "salient", RECENT) == {}
    assert sorted(reasons([DONALD, MELANIA], body, salience=RECENT)) == [
        ("Donald Trump", "Trump", "ambiguous"),
        ("Donald Trump", "Trump", "name"),
        ("Melania Trump", "Trump", "ambiguous"),
        ("Melania Trump", "Trump", "name"),
    ]


def test_the_other_policies_ignore_the_counts() -> None:
    assert found([DONALD, MELANIA], "Trump said", "", "none", RECENT) == {}
    assert found([DONALD, MELANIA], "Trump said", "", "all", RECENT) == {
        "Donald Trump": ["Trump"],
        "Melania Trump": ["Trump"],
    }


def test_the_salient_rule_is_explained_for_the_winner_and_the_others() -> None:
    matcher = compile_watches([DONALD, MELANIA], [])
    matches, refused = matcher.examine("", "Trump said", explain=True, salience=RECENT)
    assert "named in full in 40 of the 43 recent documents" in matches[0].rule
    assert [(r.watch, r.reason) for r in refused] == [("Melania Trump", "ambiguous")]
    assert "goes to Donald Trump" in refused[0].detail
    _, refused = matcher.examine("", "Trump said", explain=True)
    assert all("ambiguous: salient" in r.detail for r in refused) and len(refused) == 2


def test_named_says_who_was_named_by_a_term_of_their_own() -> None:
    matcher = compile_watches([DONALD, MELANIA, LAW], [])
    body = "Donald Trump met Nathan Law. Trump said"
    assert {m.watch: m.named for m in matcher.match("", body, salience=RECENT)} == {
        "Donald Trump": True,
        "Nathan Law": True,
    }
    assert [m.named for m in matcher.match("", "Trump said", salience=RECENT)] == [False]


def test_a_batch_is_matched_again_only_where_a_changed_decision_can_matter() -> None:
    from newswatch.match.salience import changed_groups, may_change

    groups = [("Donald Trump", "Melania Trump"), ("Ben Chan", "Gary Chan")]
    changed = changed_groups(groups, {}, {**RECENT, "Ben Chan": 1})
    assert changed == [("Donald Trump", "Melania Trump")]  # Chan: still nobody's
    matcher = compile_watches([DONALD, MELANIA, BEN, GARY], [])
    assert not may_change(changed, matcher.match("", "Donald Trump said. Trump left."))
    assert may_change(changed, matcher.match("", "Trump said"))
    assert may_change(changed, matcher.match("", "Ben Chan said"))
