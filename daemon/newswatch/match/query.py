"""The watch query language of a topic's `query:`.

    ceasefire OR "peace deal"            a word, a quoted phrase, either one
    (ceasefire OR truce) AND Ukraine     parentheses group
    Ukraine ceasefire                    adjacent terms without an operator: AND
    NATO AND NOT "Iran-Contra"           NOT excludes
    Putin NEAR/5 Trump                   at most 5 words apart, in either order
    sanction*                            any word that begins with "sanction"
    title:Ukraine  body:(a OR b)         only in the title, only in the body

Precedence, tightest first: field scope, NEAR, NOT, AND, OR; NEAR groups left
to right. Matching is case-smart and by whole words, like watch terms: a term
with capitals needs them in the text (or the word in capitals).

Operators are upper-case words. The same words written otherwise ("and", "Or",
"near/3") are an error rather than a silent search for the word: write the
operator in capitals, or quote the word ("and") to search for it. `NEAR` needs
its distance: `NEAR/n` with n from 1 to 1000 (adjacent words are 1 apart). A
wildcard `*` ends an unquoted word and needs at least 3 letters or digits
before it; inside quotes `*` is an ordinary character. A term must contain a
letter or digit. Nesting deeper than 100 levels is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from newswatch.match.nodes import And, Near, Node, Not, Or, Scope, ScopeField, Term, format_query

__all__ = ["Node", "QuerySyntaxError", "format_query", "parse_query"]

MAX_DEPTH = 100
MAX_DISTANCE = 1000
_SCOPE = re.compile(r"(title|body):", re.IGNORECASE)
_NEAR = re.compile(r"NEAR/(\d+)")
_OPERATOR_LIKE = re.compile(r"(?:and|or|not|near)(?:/.*)?", re.IGNORECASE | re.DOTALL)
_WORD_END = re.compile(r'[\s()"]')

Kind = Literal["term", "(", ")", "AND", "OR", "NOT", "NEAR", "scope", "end"]
_OPERATORS: dict[str, Kind] = {"AND": "AND", "OR": "OR", "NOT": "NOT"}


class QuerySyntaxError(ValueError):
    """A query that cannot be read; `column` is 0-based in the query text."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(f"{message} at column {column + 1}")
        self.message = message
        self.column = column


@dataclass(frozen=True, slots=True)
class Token:
    """A lexical unit of a query, with its column for error messages."""

    kind: Kind
    column: int
    text: str = ""
    term: Term | None = None
    distance: int = 0
    field: ScopeField = "title"

    def describe(self) -> str:
        if self.kind == "end":
            return "the end of the query"
        return f"{self.text!r}" if self.kind in ("term", "scope", "(", ")") else self.text


def parse_query(text: str) -> Node:
    """Parse query text into a tree; raise QuerySyntaxError (message, column)."""
    tokens = list(_tokens(text))
    if tokens[0].kind == "end":
        raise QuerySyntaxError("the query is empty; write at least one term", 0)
    parser = _Parser(tokens)
    node = parser.or_expr(0)
    last = parser.peek()
    if last.kind == ")":
        raise QuerySyntaxError("')' has no matching '('", last.column)
    if last.kind != "end":  # pragma: no cover - every other token continues an expression
        raise QuerySyntaxError(f"unexpected {last.describe()}", last.column)
    return node


def _tokens(text: str) -> list[Token]:
    found: list[Token] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char.isspace():
            position += 1
        elif char in "()":
            found.append(Token("(" if char == "(" else ")", position, char))
            position += 1
        elif char == '"':
            token, position = _phrase(text, position)
            found.append(token)
        elif scope := _SCOPE.match(text, position):
            field: ScopeField = "title" if scope.group(1).lower() == "title" else "body"
            found.append(Token("scope", position, scope.group(0), field=field))
            position = scope.end()
        else:
            token, position = _word(text, position)
            found.append(token)
    found.append(Token("end", len(text)))
    return found


def _phrase(text: str, start: int) -> tuple[Token, int]:
    close = text.find('"', start + 1)
    if close < 0:
        raise QuerySyntaxError('the quoted phrase is never closed; add the closing "', start)
    phrase = " ".join(text[start + 1 : close].split())
    if not phrase:
        raise QuerySyntaxError("empty quoted phrase", start)
    _check_has_word(phrase, start)
    if text.startswith("*", close + 1):
        message = 'a wildcard * goes on an unquoted word, not after a "phrase"'
        raise QuerySyntaxError(message, close + 1)
    return Token("term", start, text[start : close + 1], term=Term(phrase)), close + 1


def _word(text: str, start: int) -> tuple[Token, int]:
    end_match = _WORD_END.search(text, start)
    end = end_match.start() if end_match else len(text)
    word = text[start:end]
    if word in _OPERATORS:
        return Token(_OPERATORS[word], start, word), end
    if near := _NEAR.fullmatch(word):
        return Token("NEAR", start, word, distance=_distance(near.group(1), start)), end
    if word == "NEAR" or word.startswith("NEAR/"):
        raise QuerySyntaxError("NEAR needs a distance in words, like NEAR/5", start)
    if _OPERATOR_LIKE.fullmatch(word):
        raise QuerySyntaxError(
            f"{word!r} is ambiguous: write {word.split('/')[0].upper()} for the operator, "
            f'or "{word}" in quotes to search for the word',
            start,
        )
    return Token("term", start, word, term=_bare_term(word, start)), end


def _distance(digits: str, column: int) -> int:
    distance = int(digits)
    if not 1 <= distance <= MAX_DISTANCE:
        raise QuerySyntaxError(f"NEAR distance must be between 1 and {MAX_DISTANCE}", column)
    return distance


def _bare_term(word: str, start: int) -> Term:
    star = word.find("*")
    if 0 <= star < len(word) - 1:
        raise QuerySyntaxError("a wildcard * can only end a word", start + star)
    if star < 0:
        _check_has_word(word, start)
        return Term(word)
    stem = word[:-1]
    if sum(char.isalnum() for char in stem) < 3:
        raise QuerySyntaxError("a wildcard needs at least 3 letters before *", start)
    return Term(stem, wildcard=True)


def _check_has_word(term: str, column: int) -> None:
    if not any(char.isalnum() for char in term):
        raise QuerySyntaxError(f"{term!r} has no letter or digit to search for", column)


class _Parser:
    """Recursive descent over the tokens; `depth` bounds the nesting."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0

    def peek(self) -> Token:
        return self.tokens[self.index]

    def take(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def or_expr(self, depth: int) -> Node:
        operands = [self.and_expr(depth)]
        while self.peek().kind == "OR":
            operands.append(self.and_expr(depth, after=self.take()))
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def and_expr(self, depth: int, after: Token | None = None) -> Node:
        operands = [self.not_expr(depth, after)]
        while True:
            kind = self.peek().kind
            if kind == "AND":
                operands.append(self.not_expr(depth, after=self.take()))
            elif kind in ("term", "(", "NOT", "scope"):
                operands.append(self.not_expr(depth))
            else:
                break
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def not_expr(self, depth: int, after: Token | None = None) -> Node:
        if self.peek().kind == "NOT":
            token = self.take()
            self._check_depth(depth, token)
            return Not(self.not_expr(depth + 1, after=token))
        return self.near_expr(depth, after)

    def near_expr(self, depth: int, after: Token | None) -> Node:
        node = self.unary(depth, after)
        while self.peek().kind == "NEAR":
            token = self.take()
            node = Near(node, self.unary(depth, after=token), token.distance)
        return node

    def unary(self, depth: int, after: Token | None) -> Node:
        token = self.take()
        if token.kind == "term" and token.term is not None:
            return token.term
        self._check_depth(depth, token)
        if token.kind == "scope":
            return Scope(token.field, self.unary(depth + 1, after=token))
        if token.kind == "(":
            node = self.or_expr(depth + 1)
            if self.peek().kind != ")":
                raise QuerySyntaxError("'(' is never closed; add a ')'", token.column)
            self.take()
            return node
        raise QuerySyntaxError(_expected(token, after), token.column)

    @staticmethod
    def _check_depth(depth: int, token: Token) -> None:
        if depth >= MAX_DEPTH:
            raise QuerySyntaxError(f"the query nests deeper than {MAX_DEPTH} levels", token.column)


def _expected(found: Token, after: Token | None) -> str:
    where = f" after {after.describe()}" if after is not None else ""
    return f'expected a term, a "phrase" or "("{where} but found {found.describe()}'
