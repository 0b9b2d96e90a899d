"""Normalisation: a raw item becomes a Document with clean text, UTC date, canonical URL.

Every function here is pure and total: bad input gives a best-effort value
(or None), never an exception, because one odd item must not stop a source.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import UTC, date, datetime
from functools import lru_cache
from urllib.parse import SplitResult, urlunsplit

from newswatch import model
from newswatch.sources.plainurls import split_url

# --- text -----------------------------------------------------------------

_LINE_BREAKS = re.compile("\r\n?|[\x0b\x0c\x85\u2028]")
_PARAGRAPH_BREAK = "\u2029"
_BLANK_LINE = "\n\n"
# C0/C1 controls (tab and newline kept) and invisible characters that split words
# ("Kosa\u00adchev"), lone surrogates, which cannot be encoded for hashing, and
# the bidirectional embeddings, overrides and isolates (U+202A-U+202E,
# U+2066-U+2069), which make a subject line display reversed ("\u202egnp.exe");
# the left-to-right and right-to-left marks that Arabic and Hebrew text needs stay.
_DROPPED = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u200b\u2060\ufeff\ud800-\udfff\u202a-\u202e\u2066-\u2069]"
)
# A title or text longer than this is cut (at a space near the end): an item
# cannot make one parse hold, match and store megabytes (see CONTRACT.md).
MAX_TEXT_CHARS = 2**20
# What no database stores in a text column (PostgreSQL refuses NUL; lone surrogates
# cannot be encoded): dropped from keys and URLs, which are otherwise kept as given.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

_OPENING_QUOTES = "“‘«"
_CLOSING_QUOTES = '”"’»)'
# Where _GLUED may match and matter: before a character it can go on with, and not
# a stop before a lower-case letter or digit ("3.5", "example.com": a one-character
# match that no sentence follows, see _may_open), but for “, which is split there.
_CANDIDATE = re.compile(r"[.…!?“](?=[.!?\w”\"’»)“‘«])(?:(?<=“)|(?![a-z0-9]))")
# The full stops among them: a literal first, found ~5x faster than the class.
_DOT_CANDIDATE = re.compile(r"\.(?=[.!?\w”\"’»)“‘«])(?![a-z0-9])")
_RARE_STOPS = "…!?“"
_ODD_SPACE = re.compile(r"[^\S \n]")  # whitespace other than space and newline
# A line break with a space on either side, or starting two blank lines: one search
# from each "\n" (a literal first: found fast), where three substring tests each
# scanned the whole text.
_UNTIDY_BREAK = re.compile("\n(?:(?<= \n)|(?= |\n\n))")
_GLUED = re.compile(
    rf"(?P<stop>\.\.\.|…|(?<![!?])[!?]++|\.)[{_CLOSING_QUOTES}]*+(?=[{_OPENING_QUOTES}\w])"
    r"|“(?<=[\w,;:]“)(?=\w)"
)
_SPACE = re.compile("[ \n]")
_LEADING = "“‘«\"'(["
_TRAILING = '.…!?”"’»'
_POSSESSIVE = re.compile("[’'`]s$")
# Words that open sentences and are (almost) never a member of an identifier, so
# "said.What" splits and "bytes.Buffer", "context.Context", "ie.CSS" do not.
_OPENER_WORDS = """a an the this that these those there then thus so such some many most much
    it its i we he she they you my our his her their your one two no not all any
    each every both either neither other another what when where which who whom
    whose why how while whether if in on at as by for from of to with without into
    after before since until during about against among between under over but and
    or nor yet also still even however meanwhile moreover instead indeed now here
    today yesterday tomorrow last next first second finally please according
    despite although though because unlike like only just yes mr mrs ms dr"""
_OPENERS = frozenset(_OPENER_WORDS.split())
_LONGEST_WORD = 200  # longer runs without a space are not prose: left alone


def normalize_text(text: str) -> str:
    """Clean text: NFC, controls dropped, whitespace folded, paragraphs kept, glued
    sentences split again ("he said.What" -> "he said. What"); at most MAX_TEXT_CHARS."""
    if len(text) > MAX_TEXT_CHARS:
        text = _cut(text)
    if _has_line_break(text):
        text = _LINE_BREAKS.sub("\n", text).replace(_PARAGRAPH_BREAK, "\n\n")
    # Printable but for its line breaks: nothing to drop and no whitespace but spaces
    # (every character _DROPPED names and every other space is unprintable), so the
    # regular expressions, ~10x slower than this scan, are spared for most text.
    printable = text.replace("\n", " ").isprintable()
    if not printable:
        text = _DROPPED.sub("", text)
    composed = unicodedata.normalize("NFC", text)
    if _untidy(composed, printable and composed is text):  # most text is tidy already
        composed = _fold_whitespace(composed)
    return _split_until_stable(composed)


def _has_line_break(text: str) -> bool:
    """Whether the text holds a line break other than "\n" (one memchr-like scan each)."""
    if "\r" in text or "\x0b" in text or "\x0c" in text:
        return True
    return not text.isascii() and ("\x85" in text or "\u2028" in text or "\u2029" in text)


def _split_until_stable(text: str) -> str:
    """A split can reveal another (`0“aa.A` -> `0 “aa.A` -> `0 “aa. A`): repeat until
    nothing changes, so normalising normalised text changes nothing (rarely a 2nd pass)."""
    for _ in range(4):
        split = _split_glued(text)
        if split == text:
            break
        text = split
    return text


def _untidy(text: str, printable: bool = False) -> bool:
    """Whether `_fold_whitespace` would change the text: whitespace at either end,
    a space run, a space at a line's edge, more than one blank line, or whitespace
    other than space and newline (none in `printable` text). Substring tests and a
    search anchored on line breaks: each one fast scan in C."""
    if not text:
        return False
    if text[0] in " \n" or text[-1] in " \n":
        return True
    if "  " in text or ("\n" in text and _UNTIDY_BREAK.search(text) is not None):
        return True
    if printable:
        return False
    if text.isascii():  # the other ASCII whitespace: only tab survives _DROPPED
        return "\t" in text
    return _ODD_SPACE.search(text) is not None


def _fold_whitespace(text: str) -> str:
    """Whitespace folded inside each line, blank lines (or lines of only whitespace)
    between paragraphs made one; the line breaks themselves are kept (an HTML `<br>`,
    a poem, an address). Sources whose lines are soft-wrapped (seed files) join them
    before this."""
    paragraphs: list[str] = []
    lines: list[str] = []
    for line in text.split("\n"):
        folded = " ".join(line.split())
        if folded:
            lines.append(folded)
        elif lines:
            paragraphs.append("\n".join(lines))
            lines = []
    if lines:
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


def _cut(text: str) -> str:
    """The first MAX_TEXT_CHARS characters, ending at a space when one is near the end."""
    space = text.rfind(" ", MAX_TEXT_CHARS - _LONGEST_WORD, MAX_TEXT_CHARS)
    return text[: space if space > 0 else MAX_TEXT_CHARS]


def _split_glued(text: str) -> str:
    """Put the missing space after glued sentence ends; identifiers, URLs, addresses
    and long words are left alone. Linear: each candidate is looked at once, long
    words skipped whole."""
    candidates = _candidates(text)
    if not candidates:
        return text
    pieces: list[str] = []
    done = resume = 0
    for at in candidates:
        match = _GLUED.match(text, at) if at >= resume else None
        if match is None:
            continue
        resume = match.end()
        glued = match.group()
        if glued != "“" and not _may_open(text[resume]):
            continue  # "3.5", "example.com": no sentence follows, whatever the word
        start, end = _word_bounds(text, at)
        if end - start > _LONGEST_WORD or _is_address(text[start:end]):
            resume = end
            continue
        if glued == "“":
            fixed = " “"
        elif _is_sentence_break(match, start, end):
            fixed = glued + " "
        else:
            fixed = glued
        if fixed != glued:
            pieces += (text[done:at], fixed)
            done = resume
    pieces.append(text[done:])
    return "".join(pieces)


def _candidates(text: str) -> list[int]:
    """Where a glued sentence end may be: every place `_CANDIDATE` matches, in order.

    Full stops are found by a literal-first scan; the rarer stops (a few in a
    text, when any) one by one with `str.find`, each looked at with `_CANDIDATE`.
    Scanning the whole text with `_CANDIDATE`'s character class cost ~3x more,
    unless the rare stops are many (a string of "!!!!"): then that scan is cheaper.
    """
    found = [match.start() for match in _DOT_CANDIDATE.finditer(text)]
    dots = len(found)
    budget = 8 + len(text) // 32  # one find and match costs what ~32 characters do
    for stop in _RARE_STOPS:
        at = text.find(stop)
        while at >= 0:
            budget -= 1
            if budget < 0:
                return [match.start() for match in _CANDIDATE.finditer(text)]
            if _CANDIDATE.match(text, at):
                found.append(at)
            at = text.find(stop, at + 1)
    if len(found) > dots:
        found.sort()
    return found


def _may_open(char: str) -> bool:
    """Whether a sentence break's second sentence may start at `char` (the first
    character after the stop and its closing quotes): see _is_sentence_break.

    Skipping the others early changes nothing: their word is not looked at, so a
    long word or an address is not skipped whole, but every later candidate in it
    is turned down again for the same reason."""
    return char in _OPENING_QUOTES or char.isupper()


def _word_bounds(text: str, at: int) -> tuple[int, int]:
    """The run of non-space characters around `at` (its start is only searched for
    _LONGEST_WORD characters back: a longer word just needs to be known as long)."""
    low = max(0, at - _LONGEST_WORD - 1)
    start = max(text.rfind(" ", low, at), text.rfind("\n", low, at)) + 1
    if start == 0:
        start = low
    space = _SPACE.search(text, at)
    return start, space.start() if space else len(text)


def _is_address(word: str) -> bool:
    return "://" in word or "@" in word or word[:4].lower() == "www."


def _is_sentence_break(match: re.Match[str], start: int, end: int) -> bool:
    """Whether "x.Y" in the run text[start:end] is two glued sentences: one word of
    letters, the stop, then one Capitalised or all-capital word ("said.What",
    "future.NATO", "gains.”There"), nothing else in the run. Never an identifier,
    domain, abbreviation or number: "System.Xml", "sun.misc.Unsafe", "Node.js",
    "example.com", "U.S.", "3.5". After a plain full stop, where code looks the same
    ("bytes.Buffer", "Log.Logger"), the word before must be in lower case and the
    word after a possessive ("added.Trump’s"), not in ASCII ("сказал.Что": code is),
    or one that opens sentences."""
    text, stop = match.string, match.group("stop")
    left = text[start : match.start()].lstrip(_LEADING)
    right = text[match.end() : end].lstrip(_OPENING_QUOTES).rstrip(_TRAILING)
    owner = _POSSESSIVE.sub("", right)
    if len(left) < 2 or not left.isalpha() or not _is_word(owner):
        return False
    if stop != "." or len(match.group()) > 1 or text[match.end()] in _OPENING_QUOTES:
        return True
    prose = owner != right or not owner.isascii() or owner.lower() in _OPENERS
    return prose and left.islower() and _ends_in_prose(text, end)


def _is_word(word: str) -> bool:
    """A Capitalised word ("What"), or one in capitals ("NATO", "I"); not "HasRows"."""
    return word.isalpha() and word[0].isupper() and (word[1:].islower() or word.isupper())


def _ends_in_prose(text: str, end: int) -> bool:
    """Whether the run ends the text or a line, or is followed by a word."""
    return end >= len(text) - 1 or text[end] == "\n" or text[end + 1].isalnum()


def _one_line(text: str) -> str:
    """Titles, names: one line whatever breaks the source put in."""
    return " ".join(normalize_text(text).split())


# --- URLs -----------------------------------------------------------------

_TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "mc_cid", "mc_eid",
        "igshid", "yclid", "twclid", "ttclid", "_hsenc", "_hsmi", "ref_src", "ref_url",
        "_ga", "_gl", "mkt_tok", "oly_anon_id", "oly_enc_id", "rb_clickid", "s_cid",
        "vero_id", "wickedid", "__twitter_impression", "cmpid", "ncid", "ocid",
    }
)  # fmt: skip
_DEFAULT_PORTS = {"http": "80", "https": "443"}


def canonical_url(url: str | None) -> str | None:
    """The URL to compare articles by and to link to: tracking parameters dropped,
    host lower-cased, default port removed. Anything not an absolute http(s) URL
    is returned stripped, unchanged otherwise."""
    if url is None or not url.strip():
        return None
    url = url.strip()
    try:
        parts = split_url(url)
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    netloc = _canonical_netloc(parts, scheme) if scheme in _DEFAULT_PORTS else None
    if netloc is None:
        return url
    query = "&".join(p for p in parts.query.split("&") if p and not _is_tracking(p))
    return urlunsplit((scheme, netloc, parts.path or "/", query, _fragment(parts.fragment)))


def _fragment(fragment: str) -> str:
    """Kept: `page#anchor-N` is where the entry is. Tracking ones (`#xtor=RSS-1`) go.

    Dedup's URL key ignores fragments anyway; this is the link a reader follows.
    """
    if "=" in fragment:
        return ""
    return fragment.replace(" ", "%20")


def _canonical_netloc(parts: SplitResult, scheme: str) -> str | None:
    """Lower-case host, default port dropped; None when host or port is not valid."""
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if hostport.startswith("["):
        host, bracket, rest = hostport.partition("]")
        host += bracket
    else:
        host, colon, port = hostport.partition(":")
        rest = colon + port
    port = rest.removeprefix(":")
    if not host or host == "[" or rest[:1] not in ("", ":") or not _is_port(port):
        return None
    port = "" if not port or str(int(port)) == _DEFAULT_PORTS[scheme] else str(int(port))
    return f"{userinfo}{at}{host.lower()}{':' if port else ''}{port}"


def _is_port(port: str) -> bool:
    return not port or (port.isascii() and port.isdigit())


def _is_tracking(param: str) -> bool:
    name = param.partition("=")[0].lower()
    return name.startswith("utm_") or name in _TRACKING_PARAMS


# --- dates ----------------------------------------------------------------


def to_utc(moment: datetime | date | str | None) -> datetime | None:
    """A timezone-aware UTC datetime; naive values are taken as UTC; None if unparseable."""
    try:
        if isinstance(moment, datetime):
            return _as_utc(moment)
        if isinstance(moment, date):
            return datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
        if isinstance(moment, str):
            parsed = _parse_date(moment.strip())
            return None if parsed is None else _as_utc(parsed)
    except (OverflowError, ValueError):
        return None
    return None


def _as_utc(moment: datetime) -> datetime:
    if moment.utcoffset() is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _parse_date(text: str) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime  # the email package costs `match` start-up

    try:
        return parsedate_to_datetime(text)
    except (ValueError, TypeError, IndexError, OverflowError):
        return None


# --- hashing and the whole item ---------------------------------------------


def content_hash(title: str, body: str) -> str:
    """SHA-256 hex of the normalised title and body, blind to case and whitespace."""
    return _hash_clean(_one_line(title), normalize_text(body))


def _hash_clean(title: str, body: str) -> str:
    """Hash of already normalised text: line and paragraph breaks count as plain spaces.

    Normalised text is tidy (no whitespace but single spaces, line breaks and blank
    lines, none at either end), so replacing its breaks is what splitting it into
    words and joining them with spaces gives, in two fast scans instead of a list.
    What is hashed is the UTF-8 of the case-folded text, made in its cheapest way
    (`_folded_utf8`).
    """
    flat = body.encode("utf-8").replace(b"\n\n", b" ").replace(b"\n", b" ")
    return hashlib.sha256(_folded_utf8(title.encode("utf-8") + b"\x00" + flat)).hexdigest()


_ASCII = bytes(range(128))


def _folded_utf8(data: bytes) -> bytes:
    """`data.decode().casefold().encode()`, ~2x cheaper for most text: case folding
    maps each character on its own, ASCII ones as `lower` does, and a UTF-8 sequence
    holds no ASCII byte; so when no other character changes (curly quotes, dashes,
    "é" do not; "É", "ß", "Σ" do), lower-casing the ASCII bytes is all it does."""
    if data.isascii():
        return data.lower()
    others = data.translate(None, _ASCII).decode("utf-8")
    if others.casefold() == others:
        return data.lower()
    return data.decode("utf-8").casefold().encode("utf-8")


def normalize(item: model.RawItem, source: str | None = None) -> model.Document:
    """The Document for a raw item: same key, same source unless `source` is given (a
    feed's items are made before its name is known, when the feed's title names it)."""
    title = _one_line(item.title)
    body = normalize_text(item.body)
    url = None if item.url is None else _UNSTORABLE.sub("", item.url)
    return model.Document(
        source=item.source if source is None else source,
        key=_UNSTORABLE.sub("", item.key),
        title=title,
        body=body,
        url=canonical_url(url),
        published=to_utc(item.published),
        content_hash=_hash_clean(title, body),
        authors=_clean_names(item.authors),
        categories=_clean_names(item.categories),
    )


def _clean_names(names: tuple[str, ...]) -> tuple[str, ...]:
    cleaned = (_one_name(name) for name in names)
    return tuple(dict.fromkeys(name for name in cleaned if name))


@lru_cache(maxsize=4096)
def _one_name(name: str) -> str:
    """An author or category, cleaned once: a feed repeats them from entry to entry
    (the corpus: 11,959 names, 3,685 distinct)."""
    return _one_line(name)
