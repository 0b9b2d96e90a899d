"""Stage two for people: which mentions count, and for whom.

1. A mention inside one of the person's `exclude` phrases does not count
   ("Trump" in "Trump Tower"); other mentions in the document still do.
2. A one-word alias after a capitalised word and a hyphen is the second half
   of a hyphenated name ("Chan" in "Hwang Hee-Chan"), unless that word is
   itself a watched term ("Trump-Putin summit").
3. A mention inside a longer mention of another watched person belongs to
   that person ("Trump" in "Ivanka Trump", when Ivanka Trump is watched); a
   one-word alias next to a capitalised word that is no title, initial nor
   ordinary word belongs to someone else's name ("Eric Trump", "King Charles").
4. A one-word alias that is an ordinary word ("Law", "Close") whose capital
   comes only from its place (a sentence's first word, a headline in capitals
   or in title case) counts only when the document names the person
   otherwise: by a full name, or by the alias capitalised mid-sentence.
5. An alias shared by several watched people ("Chan" for Ben Chan and Gary
   Chan) counts for the one of them who is also named in the document by a
   term of their own. When none or several of them are, it is ambiguous: it
   counts for each whose `ambiguous` policy is `all`; under `salient`, when
   none is named, for the one that recent documents name in full far more
   often than the others (salience.py), unless the document names another,
   unwatched person of that name ("Eric Trump"); for none else.
6. Mentions nested in another mention of the same person count once; the
   person matches with at least `min_mentions` distinct mentions.

With `explain`, every mention refused by rules 2 to 5 is returned too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from newswatch.match.context import (
    after_article,
    after_name_hyphen,
    before_capital,
    in_capitals,
    is_calendar,
    name_after,
    name_before,
    sentence_initial,
    title_case,
)
from newswatch.match.rules import PersonRule, Rules
from newswatch.match.salience import NO_SALIENCE, Salience, salient
from newswatch.match.scan import Occurrence, Scan, distinct

Reason = Literal["case", "hyphen", "name", "ambiguous"]


@dataclass(frozen=True, slots=True)
class Mention:
    """An occurrence of one of a person's terms."""

    person: int
    term: int
    occurrence: Occurrence

    @property
    def length(self) -> int:
        return self.occurrence.end - self.occurrence.start


@dataclass(frozen=True, slots=True)
class Refusal:
    """A mention found in stage one that a rule of stage two did not count."""

    mention: Mention
    reason: Reason
    detail: str


@dataclass(frozen=True, slots=True)
class PersonResult:
    """A person that matched: the occurrences that counted and how they read."""

    rule: PersonRule
    occurrences: list[Occurrence]
    labels: list[str]
    shared: bool
    ambiguous: str = ""  # why a counted shared alias was ambiguous, if one was
    salient: str = ""  # why a shared alias no full name decided went to this person
    named: bool = False  # named by a term of their own (not only by a shared alias)


@dataclass(slots=True)
class _Pass:
    """One document's pass over the candidate people."""

    rules: Rules
    scan: Scan
    salience: Salience
    refused: list[Refusal] = field(default_factory=list)
    ambiguous: dict[int, str] = field(default_factory=dict)  # person -> why
    salient: dict[int, str] = field(default_factory=dict)  # person -> why
    other_names: set[int] = field(default_factory=set)  # terms seen in someone else's name
    decided: dict[int, tuple[int, str]] = field(default_factory=dict)  # term -> salient sharer
    edges: tuple[set[tuple[str, int]], set[tuple[str, int]]] | None = None

    def refuse(self, mention: Mention, reason: Reason, detail: str) -> None:
        self.refused.append(Refusal(mention, reason, detail))

    def term_ends_at(self, field_name: str, end: int) -> bool:
        """Some watched term's hit ends here (a neighbour that is a name we know)."""
        return (field_name, end) in self._edges()[1]

    def term_starts_at(self, field_name: str, start: int) -> bool:
        return (field_name, start) in self._edges()[0]

    def _edges(self) -> tuple[set[tuple[str, int]], set[tuple[str, int]]]:
        if self.edges is None:
            found = [o for hits in self.scan.occurrences.values() for o in hits]
            self.edges = {(o.field, o.start) for o in found}, {(o.field, o.end) for o in found}
        return self.edges


def match_people(
    rules: Rules, candidates: Sequence[PersonRule], scan: Scan, salience: Salience = NO_SALIENCE
) -> tuple[list[PersonResult], list[Refusal]]:
    work = _Pass(rules, scan, salience)
    mentions = [m for rule in candidates for m in _own_mentions(rule, scan)]
    one_word = any(m.term in rules.people[m.person].single for m in mentions)
    if one_word:  # the rules of a name only concern one-word aliases
        mentions = _not_hyphenated(work, mentions)
    mentions = _without_claimed(mentions)
    if one_word:
        mentions = _not_another_name(work, mentions)
        mentions = _not_only_placed(work, mentions)
    mentions = _resolve_shared(work, mentions, rules.shared)
    by_person: dict[int, list[Mention]] = {}
    for mention in mentions:
        by_person.setdefault(mention.person, []).append(mention)
    results = []
    for rule in candidates:
        mine = by_person.get(rule.index, [])
        occurrences = distinct(m.occurrence for m in mine)
        if occurrences and len(occurrences) >= rule.min_mentions:
            counted = set(occurrences)
            used = {m.term for m in mine if m.occurrence in counted}
            labels = [rule.label(i) for i, term in enumerate(rule.terms) if term in used]
            shared = any(term in rules.shared for term in used)
            why = work.ambiguous.get(rule.index, "")
            named = any(term not in rules.shared for term in used)
            salient_why = work.salient.get(rule.index, "")
            results.append(PersonResult(rule, occurrences, labels, shared, why, salient_why, named))
    return results, work.refused


def _own_mentions(rule: PersonRule, scan: Scan) -> list[Mention]:
    found = scan.occurrences
    excluded = [o for term in rule.exclude for o in found.get(term, ())]
    return [
        Mention(rule.index, term, occurrence)
        for term in rule.terms
        for occurrence in found.get(term, ())
        if occurrence.field in rule.scope.fields and not _inside_any(occurrence, excluded)
    ]


def _inside_any(occurrence: Occurrence, spans: list[Occurrence]) -> bool:
    return any(
        s.field == occurrence.field and s.start <= occurrence.start and occurrence.end <= s.end
        for s in spans
    )


def _without_claimed(mentions: list[Mention]) -> list[Mention]:
    """Drop mentions lying inside a longer mention of another person."""
    ordered = sorted(mentions, key=lambda m: (m.occurrence.field, m.occurrence.start, -m.length))
    kept: list[Mention] = []
    active: list[Mention] = []
    for mention in ordered:
        here = mention.occurrence
        active = [a for a in active if _overlaps(a.occurrence, here)]
        if not any(_claims(a, mention) for a in active):
            kept.append(mention)
        active.append(mention)
    return kept


def _overlaps(earlier: Occurrence, later: Occurrence) -> bool:
    return earlier.field == later.field and earlier.end > later.start


def _claims(outer: Mention, inner: Mention) -> bool:
    return (
        outer.person != inner.person
        and outer.length > inner.length
        and inner.occurrence.end <= outer.occurrence.end
    )


def _not_hyphenated(work: _Pass, mentions: list[Mention]) -> list[Mention]:
    """Drop one-word aliases that end a hyphenated name ("Hee-Chan"), not "Trump-Putin"."""
    kept = []
    for mention in mentions:
        here = mention.occurrence
        if mention.term in work.rules.people[mention.person].single:
            before = after_name_hyphen(work.scan.texts[here.field], here.start, here.end)
            if before is not None and not work.term_ends_at(here.field, here.start - 1):
                work.refuse(mention, "hyphen", f'follows "{before}-": part of a hyphenated name')
                continue
        kept.append(mention)
    return kept


def _not_another_name(work: _Pass, mentions: list[Mention]) -> list[Mention]:
    """Drop one-word aliases that stand inside an unwatched name ("Eric Trump")."""
    longer: dict[int, list[Occurrence]] = {}
    for m in mentions:
        if m.term not in work.rules.people[m.person].single:
            longer.setdefault(m.person, []).append(m.occurrence)
    kept = []
    for mention in mentions:
        here = mention.occurrence
        rule = work.rules.people[mention.person]
        if mention.term in rule.single and not _nested(here, longer, mention.person):
            why, named = _someone_else(work, here)
            if why:
                work.refuse(mention, "name", why)
                if named:
                    work.other_names.add(mention.term)
                continue
        kept.append(mention)
    return kept


def _someone_else(work: _Pass, here: Occurrence) -> tuple[str, bool]:
    """Why a one-word alias here is part of another name (True) or a noun: "" when it is not.

    A neighbour that is itself a watched term ("Trump Putin summit") is no such name.
    """
    text = work.scan.texts[here.field]
    word = text[here.start : here.end]
    before = name_before(text, here.start)
    if before and not work.term_ends_at(here.field, here.start - 1):
        return f'stands in "{before} {word}", the name of someone else', True
    headline = here.field == "title" and title_case(text)
    after = None if headline else name_after(text, here.end)
    if after and work.term_starts_at(here.field, here.end + 1):
        after = None
    if after and not in_capitals(text, here.start, here.end):
        return f'stands in "{word} {after}", the name of someone else', True
    if after_article(text, here.start, here.end):
        return f'"the {word}" is a noun with its article, not a name', False
    return "", False


def _nested(here: Occurrence, longer: dict[int, list[Occurrence]], person: int) -> bool:
    return _inside_any(here, longer.get(person, []))


def _not_only_placed(work: _Pass, mentions: list[Mention]) -> list[Mention]:
    """Drop one-word aliases whose capital proves nothing, unless the person is named otherwise."""
    placed: dict[Mention, str] = {}
    for mention in mentions:
        rule = work.rules.people[mention.person]
        if mention.term in rule.single:
            place = _place(work, mention.occurrence, mention.term in rule.ordinary)
            if place:
                placed[mention] = place
    if not placed:
        return mentions
    named = {m.person for m in mentions if m not in placed}
    kept = []
    for mention in mentions:
        if mention in placed and mention.person not in named:
            where = placed[mention]
            name = work.rules.people[mention.person].name
            work.refuse(mention, "case", f"capitalised only as {where}; nothing else names {name}")
            continue
        kept.append(mention)
    return kept


def _place(work: _Pass, occurrence: Occurrence, ordinary: bool) -> str:
    """Where a capital says nothing: "" when the place is an ordinary one.

    Any one-word alias before another capitalised word may be the first part of
    a longer proper noun ("West Bank"); an ordinary word ("Law") may also be
    capitalised by a sentence, a headline or the calendar ("May").
    """
    text = work.scan.texts[occurrence.field]
    capitals = in_capitals(text, occurrence.start, occurrence.end)
    headline = occurrence.field == "title" and title_case(text)
    if not ordinary:
        compound = not (capitals or headline) and before_capital(text, occurrence.end)
        compound = compound and not work.term_starts_at(occurrence.field, occurrence.end + 1)
        return "the first word of a longer proper noun" if compound else ""
    if capitals:
        return "a word in capitals"
    if headline:
        return "a word of a title-case headline"
    if sentence_initial(text, occurrence.start):
        return "the first word of a sentence"
    if before_capital(text, occurrence.end) and not work.term_starts_at(
        occurrence.field, occurrence.end + 1
    ):
        return "a word before another capitalised word"
    if is_calendar(text[occurrence.start : occurrence.end]):
        return "a month or weekday"
    return ""


def _resolve_shared(
    work: _Pass, mentions: list[Mention], shared: Mapping[int, tuple[int, ...]]
) -> list[Mention]:
    """Give a shared alias to the one owner named in the document; else apply the policy."""
    named = {m.person for m in mentions if m.term not in shared}
    kept = []
    for mention in mentions:
        sharers = shared.get(mention.term)
        if sharers is None:
            kept.append(mention)
            continue
        present = [p for p in sharers if p in named]
        if len(present) == 1:
            if present[0] == mention.person:
                kept.append(mention)
        elif _counts_when_ambiguous(work, mention, sharers, present):
            kept.append(mention)
    return kept


def _counts_when_ambiguous(
    work: _Pass, mention: Mention, sharers: tuple[int, ...], present: list[int]
) -> bool:
    """The policy's verdict on a shared alias that none (or several) of the full names decide."""
    people = work.rules.people
    policy = people[mention.person].ambiguous
    if policy == "salient" and not present:
        winner, reason = _salient_sharer(work, mention.term, sharers)
        if winner == mention.person:
            work.salient[mention.person] = reason
            return True
    others = ", ".join(people[p].name for p in sharers if p != mention.person)
    which = "none" if not present else "more than one"
    why = f"shared with {others}, and {which} of their full names is in the document"
    if policy == "all":
        work.ambiguous[mention.person] = why
        return True
    if policy == "salient" and not present:
        verdict = f"goes to {people[winner].name}: " if winner >= 0 else "not counted: "
        work.refuse(mention, "ambiguous", f"is {why}: {verdict}{reason}")
    else:
        work.refuse(mention, "ambiguous", f"is {why}: not counted (ambiguous: {policy})")
    return False


def _salient_sharer(work: _Pass, term: int, sharers: tuple[int, ...]) -> tuple[int, str]:
    """The sharer a bare shared alias goes to under `salient` (-1: none), and why; once a term."""
    known = work.decided.get(term)
    if known is not None:
        return known
    people = work.rules.people
    if term in work.other_names:
        verdict = -1, "the document names another person of that name (ambiguous: salient)"
    else:
        found = salient([people[p].name for p in sharers], work.salience)
        if found is None:
            verdict = (
                -1,
                (
                    "recent documents do not name one of them in full far more often "
                    "than the others (ambiguous: salient)"
                ),
            )
        else:
            winner = sharers[found.position]
            verdict = winner, found.why(people[winner].name)
    work.decided[term] = verdict
    return verdict
