"""The syntax tree of a watch query, and its printing back to query text.

`format_query(node)` writes a query that `parse_query` reads back to an equal
tree: n-ary AND/OR nested in one another keep their parentheses, terms are
quoted when written bare they would read differently.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

ScopeField = Literal["title", "body"]
OPERATORS = ("AND", "OR", "NOT", "NEAR")
_NEEDS_QUOTES = re.compile(r'[\s()"*]|^(?:title|body):', re.IGNORECASE)
_RESERVED = re.compile(r"(?:and|or|not|near)(?:/.*)?", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True, slots=True)
class Term:
    """A word or phrase; `wildcard` means any word beginning with `text` (sanction*)."""

    text: str
    wildcard: bool = False


@dataclass(frozen=True, slots=True)
class Not:
    """The operand does not occur."""

    operand: Node


@dataclass(frozen=True, slots=True)
class And:
    """Every operand occurs."""

    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """At least one operand occurs."""

    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Near:
    """Both sides within `distance` words of each other, in either order."""

    left: Node
    right: Node
    distance: int


@dataclass(frozen=True, slots=True)
class Scope:
    """Only the document's title or only its body."""

    field: ScopeField
    operand: Node


Node = Term | Not | And | Or | Near | Scope


def format_term(term: Term) -> str:
    if term.wildcard:
        return f"{term.text}*"
    if _NEEDS_QUOTES.search(term.text) or _RESERVED.fullmatch(term.text):
        return f'"{term.text}"'
    return term.text


def format_query(node: Node) -> str:
    """Query text for `node`; parsing it gives back an equal tree."""
    if isinstance(node, Term):
        return format_term(node)
    if isinstance(node, Not):
        return f"NOT {_wrap(node.operand, (Term, Scope, Not))}"
    if isinstance(node, And | Or):
        word = " AND " if isinstance(node, And) else " OR "
        allowed = (Term, Scope, Not, Near) + ((And,) if isinstance(node, Or) else ())
        return word.join(_wrap(operand, allowed) for operand in node.operands)
    if isinstance(node, Near):
        left = _wrap(node.left, (Term, Scope, Near))
        right = _wrap(node.right, (Term, Scope))
        return f"{left} NEAR/{node.distance} {right}"
    return f"{node.field}:{_wrap(node.operand, (Term, Scope))}"


def _wrap(node: Node, bare: tuple[type, ...]) -> str:
    text = format_query(node)
    return text if isinstance(node, bare) else f"({text})"


def walk_terms(node: Node, negated: bool = False) -> Iterator[tuple[Term, bool]]:
    """Every term of the query, with whether it stands under a NOT."""
    if isinstance(node, Term):
        yield node, negated
    elif isinstance(node, Not):
        yield from walk_terms(node.operand, True)
    elif isinstance(node, And | Or):
        for operand in node.operands:
            yield from walk_terms(operand, negated)
    elif isinstance(node, Near):
        yield from walk_terms(node.left, negated)
        yield from walk_terms(node.right, negated)
    else:
        yield from walk_terms(node.operand, negated)
