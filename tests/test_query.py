"""The query language: parse trees, errors with their column, printing round trip."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newswatch.match.nodes import And, Near, Node, Not, Or, Scope, Term, format_query
from newswatch.match.query import QuerySyntaxError, parse_query

a, b, c = Term("a1"), Term("b1"), Term("c1")


@pytest.mark.parametrize(
    ("query", "tree"),
    [
        ("a1", a),
        ('"peace   deal"', Term("peace deal")),
        ("a1 b1", And((a, b))),
        ("a1 AND b1 AND c1", And((a, b, c))),
        ("a1 OR b1 AND c1", Or((a, And((b, c))))),
        ("(a1 OR b1) c1", And((Or((a, b)), c))),
        ("NOT a1 b1", And((Not(a), b))),
        ("NOT a1 NEAR/3 b1", Not(Near(a, b, 3))),
        ("a1 NEAR/3 b1 NEAR/2 c1", Near(Near(a, b, 3), c, 2)),
        ("sanction*", Term("sanction", wildcard=True)),
        ('"sanction*"', Term("sanction*")),
        ("title:a1", Scope("title", a)),
        ('Body: "a1 b1"', Scope("body", Term("a1 b1"))),
        ("title:(a1 OR b1)", Scope("title", Or((a, b)))),
        ("NATO-led", Term("NATO-led")),
        ("NEARBY", Term("NEARBY")),
        ('"and"', Term("and")),
        ("((a1))", a),
    ],
)
def test_parse(query: str, tree: Node) -> None:
    assert parse_query(query) == tree
    assert parse_query(format_query(tree)) == tree


@pytest.mark.parametrize(
    ("query", "column", "words"),
    [
        ("", 0, "empty"),
        ("   ", 0, "empty"),
        ("a1 AND", 6, "after AND"),
        ("AND a1", 0, "found AND"),
        ("(a1 OR b1", 0, "never closed"),
        ("a1)", 2, "no matching"),
        ("()", 1, "expected a term"),
        ('a1 "b1', 3, "never closed"),
        ('""', 0, "empty quoted phrase"),
        ("a1 and b1", 3, "write AND"),
        ("a1 Or b1", 3, "write OR"),
        ("a1 near/3 b1", 3, "write NEAR"),
        ("a1 NEAR b1", 3, "NEAR/5"),
        ("a1 NEAR/0 b1", 3, "between 1 and"),
        ("sanc*tion", 4, "only end a word"),
        ("ab*", 0, "at least 3 letters"),
        ('"a1"*', 4, "unquoted word"),
        ("a1 -- b1", 3, "no letter or digit"),
        ("title:", 6, "after 'title:'"),
        ("(" * 150 + "a1" + ")" * 150, 100, "deeper than"),
    ],
)
def test_syntax_errors_point_at_the_column(query: str, column: int, words: str) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query(query)
    assert caught.value.column == column
    assert words in caught.value.message
    assert f"column {column + 1}" in str(caught.value)


WORD_CHARS = st.sampled_from("abcxyzÄéжй0129")
words = st.text(WORD_CHARS, min_size=1, max_size=6)
term_texts = st.one_of(
    words,
    st.lists(words, min_size=2, max_size=3).map(" ".join),
    st.tuples(words, st.sampled_from(["-", "'", ".", ":", "*", "(", "/"]), words).map("".join),
    st.sampled_from(["and", "OR", "Not", "near", "NEAR/2", "title:x", "body:y"]),
)
terms = st.one_of(
    term_texts.map(Term),
    st.text(WORD_CHARS, min_size=3, max_size=8).map(lambda w: Term(w, wildcard=True)),
)


def _compound(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    several = st.lists(children, min_size=2, max_size=3).map(tuple)
    return st.one_of(
        children.map(Not),
        several.map(And),
        several.map(Or),
        st.builds(Near, children, children, st.integers(1, 1000)),
        st.builds(Scope, st.sampled_from(["title", "body"]), children),
    )


queries = st.recursive(terms, _compound, max_leaves=12)


@settings(max_examples=300)
@given(queries)
def test_any_tree_prints_to_a_query_that_parses_back_to_it(tree: Node) -> None:
    assert parse_query(format_query(tree)) == tree


@settings(max_examples=300)
@given(st.text(st.sampled_from('ab(") *:NOTAND/5 \n'), max_size=30))
def test_any_text_parses_or_raises_a_syntax_error_inside_it(text: str) -> None:
    try:
        tree = parse_query(text)
    except QuerySyntaxError as error:
        assert 0 <= error.column <= len(text)
    else:
        assert parse_query(format_query(tree)) == tree
