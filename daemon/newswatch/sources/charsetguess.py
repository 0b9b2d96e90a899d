"""Readings of bodies whose bytes are not what their label says: pure, never raises.

Three cases that `charset.decode_body` cannot settle from a label alone:

* UTF-8 with a few stray bytes (a "£" pasted from a Windows-1252 page into a
  UTF-8 feed): read as UTF-8, each stray byte as the Windows-1252 character it
  most likely was, so one bad byte never turns the whole feed into mojibake.
* A Latin label on Cyrillic text: a cheap test for runs of high bytes.
* Nothing usable declared: charset-normalizer, which weighs every single- and
  multi-byte codec by how coherent the decoded text is in some language, and
  tells Greek, Arabic, Shift_JIS and GB2312 apart where a byte-range heuristic
  mistakes them all for Cyrillic. It is imported only when needed: a feed with
  no usable label that is not UTF-8 is rare (1 of the 200 corpus feeds is
  not UTF-8, and it declares its charset).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_UTF8_GROUPS = (
    bytes(range(0x80, 0xC0)),  # continuation bytes
    bytes(range(0xC2, 0xE0)),  # leads of two-byte sequences
    bytes(range(0xE0, 0xF0)),  # three
    bytes(range(0xF0, 0xF5)),  # four
)
_STRAY_RUN = re.compile("[\udc80-\udcff]+")
_TAG = re.compile(rb"<[^<>]{0,2000}>")
_HIGH_LETTERS = bytes(range(0xC0, 0x100))
_HIGH_RUN = re.compile(rb"[\xc0-\xff]{3,}")
_SAMPLE_BYTES = 262_144
_GUESS_SAMPLE = 65_536
_WESTERN = "cp1252"
_NEAR_TIE = 0.1
_MIN_HIGH_BYTES = 12
# Wide codecs are recognised by their byte order mark or the nulls around "<";
# a guess of one for a body with neither is always wrong.
_NOT_GUESSED = ["utf_16", "utf_16_be", "utf_16_le", "utf_32", "utf_32_be", "utf_32_le", "utf_7"]


@dataclass(frozen=True, slots=True)
class StrayBytes:
    """A body read as UTF-8 but for `count` stray bytes, the first at byte `first`."""

    text: str
    count: int
    first: int


def mostly_utf8(body: bytes, first_error: int) -> StrayBytes | None:
    """The body as UTF-8 if it is UTF-8 but for a few stray bytes, else None.

    "A few": no more stray bytes than correctly encoded non-ASCII characters.
    Text in a single-byte or CJK charset has almost none of the latter (a
    high byte followed by the right number of 0x80-0xBF bytes is rare in it),
    while a UTF-8 feed with one bad byte has plenty.
    """
    if not _could_be_utf8(body):
        return None
    text = body.decode("utf-8", "surrogateescape")
    runs = _STRAY_RUN.findall(text)
    stray = sum(map(len, runs))
    encoded_right = len(text) - len(text.encode("ascii", "ignore")) - stray
    if encoded_right == 0 or stray > encoded_right:
        return None
    return StrayBytes(_STRAY_RUN.sub(_read_stray, text), stray, first_error)


def _could_be_utf8(body: bytes) -> bool:
    """A quick necessary test of `mostly_utf8`, by byte counts alone.

    The continuation bytes differ from what the lead bytes call for by at most
    three per stray byte, and there are no more stray bytes than valid
    characters, each of which has a lead and at least one continuation byte.
    Greek, Cyrillic or Arabic text (high bytes that are nearly all leads) fails
    it at once, which keeps a declared single-byte charset on its fast path;
    CJK text passes it and pays for a full check (~2 ms for 60 KB).
    """
    counts = [len(body) - len(body.translate(None, group)) for group in _UTF8_GROUPS]
    continuations, leads2, leads3, leads4 = counts
    called_for = leads2 + 2 * leads3 + 3 * leads4
    most_valid = min(continuations, leads2 + leads3 + leads4)
    return abs(continuations - called_for) <= 3 * most_valid


def _read_stray(run: re.Match[str]) -> str:
    """A cut-off UTF-8 sequence becomes U+FFFD; other bytes their Windows-1252 characters."""
    raw = run.group().encode("utf-8", "surrogateescape")
    if len(raw) > 1 and 0xC2 <= raw[0] <= 0xF4 and all(0x80 <= b <= 0xBF for b in raw[1:]):
        return "\ufffd"
    return raw.decode("cp1252", "replace")


def guess(body: bytes) -> tuple[str, str]:
    """(codec, text) for a non-UTF-8 body with no usable label."""
    codec = _normalizer_guess(body) or guess_cyrillic(body) or "cp1252"
    return codec, body.decode(codec, "replace")


def _normalizer_guess(body: bytes) -> str | None:
    """charset-normalizer's best codec for the body's text (markup stripped), if any.

    On short Western text it often ranks Windows-1250 a hair above Windows-1252
    ("Café à Paris" scores as Polish); Windows-1252, the commonest legacy charset
    in feeds, wins any such near tie.
    """
    from charset_normalizer import from_bytes

    sample = _TAG.sub(b" ", body[:_SAMPLE_BYTES])[:_GUESS_SAMPLE]
    if len(sample) - len(sample.decode("ascii", "ignore")) < _MIN_HIGH_BYTES:
        return None  # too little to weigh: a word or two of accented Latin, most likely
    found = from_bytes(sample, cp_exclusion=_NOT_GUESSED, preemptive_behaviour=False)
    best = found.best()
    if best is None or best.encoding in ("ascii", "utf_8"):
        return None
    for match in found:
        near = match.chaos <= best.chaos and match.coherence >= best.coherence - _NEAR_TIE
        if near and _WESTERN in match.could_be_from_charset:
            return _WESTERN
    return str(best.encoding)


def guess_cyrillic(body: bytes) -> str | None:
    """'cp1251' or 'koi8_r' when high bytes come in runs, as Cyrillic words do; else None.

    Western European text has an accented letter here and there between ASCII
    ones; Russian has whole words of bytes above 0xC0. Lower-case letters, the
    common ones, sit at 0xE0-0xFF in Windows-1251 and at 0xC0-0xDF in KOI8-R.
    Used for bodies labelled Latin-1, where the label is the fast path.
    """
    sample = body[:_SAMPLE_BYTES]
    letters = len(sample) - len(sample.translate(None, _HIGH_LETTERS))
    if letters < 8:
        return None
    in_runs = sum(len(run) for run in _HIGH_RUN.findall(sample))
    if in_runs * 2 < letters:
        return None
    upper_half = len(sample) - len(sample.translate(None, _HIGH_LETTERS[0x20:]))
    return "cp1251" if upper_half * 2 >= letters else "koi8_r"
