"""Properties of the matcher over generated texts and watch lists."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from newswatch.config import Person, Topic
from newswatch.match import compile_watches, snippet

SEED = Path(__file__).resolve().parent.parent / "seeds" / "000_4aedde6dc7f46a07.txt"

PEOPLE = [
    Person(name="Donald Trump", aliases=("Trump",), exclude=("Trump Tower",)),
    Person(name="Recep Erdoğan", aliases=("Erdoğan",)),
    Person(name="Ben Chan", aliases=("Chan",)),
    Person(name="Gary Chan", aliases=("Chan",), min_mentions=2),
    Person(name="Константин Косачев", aliases=("Косачев",)),
    Person(name="习近平"),
]
TOPICS = [
    Topic(name="NATO", any=("NATO", "North Atlantic Treaty Organization")),
    Topic(name="Iran", any=("Iran",), none=("Iran-Contra",)),
    Topic(name="deal", query='(ceasefire OR "peace deal") AND title:Ukraine NOT sanction*'),
    Topic(name="near", query="Trump NEAR/3 (Putin OR Erdoğan)", fields=("body",)),
]
MATCHER = compile_watches(PEOPLE, TOPICS)

FRAGMENTS = ["Trump", "Trump’s", "Tower", "NATO", "Iran-Contra", "Chan", "Ben", "Erdog\u0306an"]
LONE_SURROGATES = st.sampled_from(["\ud800", "\udc00", "\udfff"])
texts = st.one_of(
    st.text(st.one_of(st.characters(), LONE_SURROGATES)),
    st.lists(
        st.one_of(st.sampled_from(FRAGMENTS), st.text(" \n\t-.,'’\u00ad\u0301", max_size=3)),
        max_size=20,
    ).map("".join),
)


@settings(max_examples=400)
@given(texts, texts)
def test_any_text_never_crashes_and_hits_point_at_their_text(title: str, body: str) -> None:
    for match in MATCHER.match(title, body, "src"):
        assert match.hits
        for hit in match.hits:
            text = title if hit.field == "title" else body
            assert 0 <= hit.start < hit.end <= len(text)
            assert text[hit.start : hit.end] == hit.text
            assert "«" in snippet(text, hit)


ALPHABET_USED = "abcdef"
ALPHABET_UNUSED = "uvwxyz"


def _names(alphabet: str) -> st.SearchStrategy[str]:
    word = st.text(st.sampled_from(alphabet), min_size=1, max_size=3)
    return st.lists(word, min_size=1, max_size=2).map(" ".join)


def _people(alphabet: str) -> st.SearchStrategy[Person]:
    return st.builds(
        lambda name, aliases, least: Person(name=name, aliases=tuple(aliases), min_mentions=least),
        _names(alphabet),
        st.lists(_names(alphabet), max_size=2),
        st.integers(1, 2),
    )


def _topics(alphabet: str) -> st.SearchStrategy[Topic]:
    return st.builds(
        lambda name, any_, all_: Topic(name=name, any=tuple(any_), all=tuple(all_)),
        _names(alphabet),
        st.lists(_names(alphabet), min_size=1, max_size=2),
        st.lists(_names(alphabet), max_size=1),
    )


def _unique(watches: list[Person] | list[Topic]) -> bool:
    return len({w.name for w in watches}) == len(watches)


@settings(max_examples=200, deadline=None)
@given(
    people=st.lists(_people(ALPHABET_USED), max_size=4).filter(_unique),
    topics=st.lists(_topics(ALPHABET_USED), max_size=3).filter(_unique),
    extra_person=_people(ALPHABET_UNUSED),
    extra_topic=_topics(ALPHABET_UNUSED),
    body=st.lists(_names(ALPHABET_USED), max_size=12).map(". ".join),
)
def test_a_watch_that_does_not_occur_changes_no_other_result(
    people: list[Person],
    topics: list[Topic],
    extra_person: Person,
    extra_topic: Topic,
    body: str,
) -> None:
    before = compile_watches(people, topics).match("", body)
    after = compile_watches([*people, extra_person], [extra_topic, *topics]).match("", body)
    assert after == before


def test_one_matcher_shared_by_threads_gives_the_same_results() -> None:
    lines = SEED.read_text(encoding="utf-8").splitlines()
    documents = [(lines[2], "\n".join(lines[3:])), ("NATO", "Trump and Chan"), ("", "Iran-Contra")]
    expected = [MATCHER.match(title, body) for title, body in documents]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda i: MATCHER.match(*documents[i % 3]), range(300)))
    assert all(result == expected[i % 3] for i, result in enumerate(results))
