"""What the text around a one-word name tells: is this capital a name's capital?

A surname alias such as "Law", "Close" or "May" is also an ordinary word. Its
capital proves nothing where every word has one or any word may have one:

- at the start of a sentence ("Law enforcement said..."),
- in a headline in capitals ("THE NEW LAW") or in title case ("A New Law Passes"),

and a name written after a capitalised word and a hyphen is the second half of
a compound given name ("Hwang Hee-Chan", "Jean-Marie"), not a surname. A
surname right after a capitalised word that is neither an ordinary word, an
initial nor a title ("Eric Trump", "Jeffrey Hall"), or right before one ("King
Charles", "Chan Ho-kwan"), is part of someone else's name.

Ordinary words are those that news text writes mostly in lower case
(`ordinary.txt`, counted on the feed corpus: see bench/README.md).
"""

from __future__ import annotations

from functools import cache
from itertools import count
from pathlib import Path


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


_OPENERS = "\"'“‘«([¿¡*•–—-"
_ENDS = ".!?:;…"
_QUOTES = _OPENERS + "”’»)"  # also closing quotes: 'he said.” To which...'
_HYPHENS = "-\u2010\u2011"
_TITLES = _word_set(
    """mr mrs ms miss mx dr sir dame lord lady sen rep gov gen lt col sgt capt adm prof rev
    fr st president premier chancellor minister secretary senator governor speaker mayor
    judge justice pope king queen prince princess sheikh emir ayatollah cardinal bishop
    coach captain ambassador commissioner chairman chairwoman director leader envoy
    general colonel sergeant officer detective inspector professor father sister brother
    congressman congresswoman councillor councilman representative deputy vice former
    chief executive archbishop pastor imam rabbi baron baroness duke duchess earl emperor
    sultan marshal admiral lieutenant constable superintendent prosecutor sheriff mp mep"""
)
_CALENDAR = _word_set(
    """january february march april may june july august september october november
    december monday tuesday wednesday thursday friday saturday sunday"""
)
_TOKEN_END = ",.;:!?)]”’‘\"'"
_SMALL = _word_set(
    """a an and as at but by for from in into is of on or over the to up via vs with"""
)


@cache
def _ordinary_text() -> str:
    """ordinary.txt, one word a line (`#` starts a comment line), between newlines."""
    # next to this module (package data); importlib.resources would cost start-up
    text = Path(__file__).with_name("ordinary.txt").read_text(encoding="utf-8")
    return f"\n{text}\n"


@cache
def ordinary_words() -> frozenset[str]:
    """Lower-case words that news text writes mostly in lower case."""
    lines = _ordinary_text().splitlines()
    return frozenset(line.strip() for line in lines if line and line[0] != "#")


_SEARCHED = 32  # lookups that search the text before the set is made
_lookups = count()


def is_ordinary(word: str) -> bool:
    """The first few answers search the text: a config's one-word aliases are often a
    handful, and `check` need not make a set of 17,800 words for them (~3% of it)."""
    folded = word.casefold()
    if next(_lookups) >= _SEARCHED:
        return folded in ordinary_words()
    bare = folded and "\n" not in folded and folded[0] != "#" and folded == folded.strip()
    return bool(bare) and f"\n{folded}\n" in _ordinary_text()


def is_calendar(word: str) -> bool:
    """A month or a weekday: capitalised wherever it stands ("May 15", "in May")."""
    return word.casefold() in _CALENDAR


def before_capital(text: str, end: int) -> bool:
    """Followed by a capitalised word: "Law Society", "It May Have" (a headline in a text)."""
    if text[end : end + 1] != " ":
        return False
    word = _word_at(text, end + 1)
    return word[:1].isupper() and not is_calendar(word.rstrip(_TOKEN_END))


def after_article(text: str, start: int, end: int) -> bool:
    """ "the West," "the West's": a noun with its article, where no word follows."""
    if text[max(start - 4, 0) : start].casefold() != "the ":
        return False
    return end == len(text) or text[end] in _TOKEN_END


def _word_at(text: str, position: int) -> str:
    stop = text.find(" ", position)
    return text[position : stop if stop >= 0 else len(text)]


def sentence_initial(text: str, start: int) -> bool:
    """The word at `start` opens the text, a line or a sentence (quotes and dashes aside)."""
    position = start
    while position > 0 and (text[position - 1].isspace() or text[position - 1] in _QUOTES):
        if text[position - 1] == "\n":
            return True
        position -= 1
    return position == 0 or text[position - 1] in _ENDS


def in_capitals(text: str, start: int, end: int) -> bool:
    """The word is written in capitals, like the words around it (a headline, a shout)."""
    word = text[start:end]
    if not word.isupper():
        return False
    around = text[max(start - 30, 0) : end + 30]
    return not any(char.islower() for char in around)


def title_case(title: str) -> bool:
    """A headline with a capital on (nearly) every word: capitals say nothing there."""
    words = [w.strip(_OPENERS + _ENDS + ",") for w in title.split()[1:]]
    words = [w for w in words if w[:1].isalpha() and w.casefold() not in _SMALL]
    if len(words) < 3:
        return False
    capitalised = sum(w[0].isupper() for w in words)
    return capitalised >= 0.8 * len(words)


def after_name_hyphen(text: str, start: int, end: int) -> str | None:
    """The capitalised word joined by a hyphen to the word at `start` ("Hee" in Hee-Chan),
    when the pair reads as a given name: next to another capitalised word ("Hwang
    Hee-Chan", "Jean-Marie Le Pen") or followed by no word. Two surnames joined
    before a noun ("the Biden-Harris administration") are not a given name.
    """
    if start < 2 or text[start - 1] not in _HYPHENS:
        return None
    begin = start - 1
    while begin > 0 and text[begin - 1].isalpha():
        begin -= 1
    before = text[begin : start - 1]
    if not before or not before[0].isupper() or (len(before) > 1 and before.isupper()):
        return None  # "anti-Trump", "NATO-Chan": not a given name
    previous = (
        text[: max(begin - 1, 0)].rsplit(" ", 1)[-1] if text[begin - 1 : begin] == " " else ""
    )
    following = _word_at(text, end + 1) if text[end : end + 1] == " " else ""
    in_a_name = previous[:1].isupper() or following[:1].isupper()
    return before if in_a_name or not following[:1].islower() else None


def name_before(text: str, start: int) -> str | None:
    """The capitalised word right before, when it is a given name rather than a title."""
    if start < 2 or text[start - 1] != " ":
        return None
    begin = text.rfind(" ", 0, start - 1) + 1
    word = text[begin : start - 1]
    return word if _name_like(word) else None


def name_after(text: str, end: int) -> str | None:
    """The capitalised word right after, when it continues a name ("King Charles")."""
    if end + 1 >= len(text) or text[end] != " ":
        return None
    stop = text.find(" ", end + 1)
    word = text[end + 1 : stop if stop >= 0 else len(text)].rstrip(_TOKEN_END)
    return word if _name_like(word) and not is_calendar(word) else None


def _name_like(word: str) -> bool:
    """A capitalised word (letters and inner hyphens or apostrophes) that can be part of a name."""
    if len(word) < 2 or not word[0].isupper() or not word[1:].replace("-", "").isalpha():
        return False
    if not any(char.islower() for char in word):
        return False  # an initial (J, JD), an acronym (NATO): not a given name
    bare = word.split("-")[0].casefold()
    return bare not in _TITLES and bare not in ordinary_words()
