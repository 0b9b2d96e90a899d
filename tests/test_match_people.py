"""People: shared aliases, longer names of other people, exclusions."""

from __future__ import annotations

from typing import Literal

import pytest

from newswatch.config import Person
from newswatch.match import compile_watches

BEN = Person(name="Ben Chan", aliases=("Chan",))
GARY = Person(name="Gary Chan", aliases=("Chan",))


def mentions(
    people: list[Person], body: str, ambiguous: Literal["all", "none"] = "none"
) -> dict[str, list[tuple[int, str]]]:
    """Watch name -> (offset, text) of each mention that counted for it."""
    found = compile_watches(people, [], ambiguous).match("", body)
    return {m.watch: sorted((h.start, h.text) for h in m.hits) for m in found}


def test_shared_alias_goes_to_the_person_named_in_the_document() -> None:
    body = "Ben Chan arrived. Chan said"
    assert mentions([BEN, GARY], body) == {"Ben Chan": [(0, "Ben Chan"), (18, "Chan")]}


def test_shared_alias_is_ambiguous_when_nobody_is_named() -> None:
    assert mentions([BEN, GARY], "Chan said") == {}
    assert mentions([BEN, GARY], "Chan said", ambiguous="all") == {
        "Ben Chan": [(0, "Chan")],
        "Gary Chan": [(0, "Chan")],
    }


def test_shared_alias_is_ambiguous_when_several_are_named() -> None:
    body = "Ben Chan met Gary Chan. Chan said"
    assert mentions([BEN, GARY], body) == {
        "Ben Chan": [(0, "Ben Chan")],
        "Gary Chan": [(13, "Gary Chan")],
    }
    assert mentions([BEN, GARY], body, ambiguous="all") == {
        "Ben Chan": [(0, "Ben Chan"), (24, "Chan")],
        "Gary Chan": [(13, "Gary Chan"), (24, "Chan")],
    }


def test_a_person_may_have_a_policy_of_their_own() -> None:
    ben = Person(name="Ben Chan", aliases=("Chan",), ambiguous="all")
    assert mentions([ben, GARY], "Chan said") == {"Ben Chan": [(0, "Chan")]}


def test_a_non_shared_alias_also_names_a_person() -> None:
    ben = Person(name="Ben Chan", aliases=("Chan", "Benny"))
    assert list(mentions([ben, GARY], "Benny arrived; Chan said")) == ["Ben Chan"]


def test_a_mention_inside_another_watched_name_belongs_to_that_person() -> None:
    people = [Person(name="Donald Trump", aliases=("Trump",)), Person(name="Ivanka Trump")]
    assert mentions(people, "Ivanka Trump spoke") == {"Ivanka Trump": [(0, "Ivanka Trump")]}
    assert list(mentions(people, "Ivanka Trump and Trump spoke")) == [
        "Donald Trump",
        "Ivanka Trump",
    ]


def test_exclusion_is_per_mention() -> None:
    trump = Person(name="Donald Trump", aliases=("Trump",), exclude=("Trump Tower",))
    assert mentions([trump], "at Trump Tower") == {}
    assert mentions([trump], "at Trump Tower; Trump said") == {"Donald Trump": [(16, "Trump")]}


@pytest.mark.parametrize("body", ["Donald Trump", "Donald Trump’s"])
def test_a_name_counts_once_with_the_alias_inside_it(body: str) -> None:
    assert mentions([Person(name="Donald Trump", aliases=("Trump",))], body) == {
        "Donald Trump": [(0, "Donald Trump")]
    }


def test_same_name_twice_in_one_person_is_one_term() -> None:
    found = compile_watches([Person(name="Trump", aliases=("Trump", "TRUMP"))], []).match(
        "", "Trump"
    )
    assert len(found) == 1
    assert [h.text for h in found[0].hits] == ["Trump"]


def test_ordinary_words_answer_the_same_searched_or_from_the_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The first few `is_ordinary` answers search ordinary.txt's text (check's handful of
    one-word aliases), later ones use a set: both answer alike, word or not."""
    from itertools import count

    from newswatch.match import context

    words = sorted(context.ordinary_words())
    probes = [*words[::97], *(w.capitalize() for w in words[::211])]
    probes += [w.upper() for w in words[:3]]
    probes += ["Kosachev", "Trump", "", " law", "law ", "la w", "#", "# Words", "aan\nab", "\n"]
    searched = []
    for probe in probes:
        monkeypatch.setattr(context, "_lookups", count())  # always among the first few
        searched.append(context.is_ordinary(probe))
    monkeypatch.setattr(context, "_lookups", count(context._SEARCHED))
    assert searched == [context.is_ordinary(probe) for probe in probes]
    assert searched.count(True) == len(words[::97]) + len(words[::211]) + 3
