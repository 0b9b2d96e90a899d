"""A feed body's character set, settled before the XML parser sees it.

Servers label feeds wrongly often enough to matter: Windows-1251 sent as
ISO-8859-1, UTF-8 declared as something else, no label at all, a UTF-8 feed
with one stray Windows-1252 byte. `decode_body` re-encodes every body as UTF-8
with a matching XML declaration, and says what was wrong with the label, so
the parser never has to guess. Valid UTF-8 and bodies that decode cleanly in
their declared charset take the fast path; the guessing (`charsetguess`) runs
only for the rest. Pure: bytes in, bytes out, never an exception.
"""

from __future__ import annotations

import codecs
import re

from newswatch.sources.charsetguess import StrayBytes, guess, guess_cyrillic, mostly_utf8

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Without a byte order mark, a UTF-16 or UTF-32 body shows itself by the nulls
# around its first character, "<" or white space (XML 1.0, appendix F).
_WIDE_WITHOUT_BOM = (
    (re.compile(rb"[<\s]\x00\x00\x00"), "utf-32-le"),
    (re.compile(rb"\x00\x00\x00[<\s]"), "utf-32-be"),
    (re.compile(rb"[<\s]\x00[^\x00]\x00"), "utf-16-le"),
    (re.compile(rb"\x00[<\s]\x00[^\x00]"), "utf-16-be"),
)
_XML_DECL = re.compile(rb"^\s*<\?xml[^>]{0,200}?\?>")
_DECL_ENCODING = re.compile(rb"encoding\s*=\s*[\"']\s*([\w.:-]+)")
_CHARSET = re.compile(r"charset\s*=\s*[\"']?\s*([\w.:-]+)", re.IGNORECASE)
_LATIN = {"iso8859-1", "cp1252", "iso8859-15", "ascii"}
_UTF8_DECL = '<?xml version="1.0" encoding="utf-8"?>'
_MAX_BAD_SHARE = 100  # a declared charset is trusted if at most 1 in 100 high bytes is bad in it


def decode_body(body: bytes, content_type: str) -> tuple[bytes, str | None]:
    """The body as UTF-8 (its XML declaration saying so), and a warning if its charset was wrong.

    UTF-8 wins whenever the bytes are valid UTF-8, or nearly (a few stray bytes),
    whatever was declared; then the declared charsets (HTTP header first), any
    bad bytes replaced; a Latin-1 label is checked for Cyrillic text; with no
    usable label, the charset is guessed.
    """
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return _as_utf8(body[len(bom) :].decode(codec, "replace")), None
    for pattern, codec in _WIDE_WITHOUT_BOM:
        if pattern.match(body, 0, 4):
            return _as_utf8(body.decode(codec, "replace")), None
    labels = _declared_charsets(body, content_type)
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _decode_legacy(body, labels, exc.start)
    return _relabelled_utf8(body, labels)


def _relabelled_utf8(body: bytes, labels: list[str]) -> tuple[bytes, str | None]:
    """Valid UTF-8 under another label: its declaration fixed, and a warning unless harmless."""
    for label in labels:
        codec = _codec_name(label)
        if codec == "utf-8":
            continue
        body = _XML_DECL.sub(_UTF8_DECL.encode(), body, count=1)
        if codec and body.isascii() and not codec.startswith(("utf-16", "utf-32")):
            return body, None
        return body, f"declared {label}, but the body is UTF-8"
    return body, None


def _declared_charsets(body: bytes, content_type: str) -> list[str]:
    labels = []
    header = _CHARSET.search(content_type)
    if header:
        labels.append(header.group(1))
    declaration = _XML_DECL.match(body)
    if declaration:
        encoding = _DECL_ENCODING.search(declaration.group(0))
        if encoding:
            labels.append(encoding.group(1).decode("ascii", "replace"))
    return labels


def _decode_legacy(body: bytes, labels: list[str], first_error: int) -> tuple[bytes, str | None]:
    """Not UTF-8: nearly UTF-8, then a specific declared charset, a Latin one, a guess."""
    stray = mostly_utf8(body, first_error)
    if stray is not None:
        return _as_utf8(stray.text), _stray_warning(labels, stray)
    codecs_named = {label: _codec_name(label) for label in labels}
    for label, codec in codecs_named.items():
        if codec is None or codec in _LATIN or codec.startswith(("utf-8", "utf-16", "utf-32")):
            continue
        decoded = _declared_reading(body, codec)
        if decoded is not None:
            text, bad = decoded
            return _as_utf8(text), _bad_bytes_warning(label, bad)
    latin = next((label for label, codec in codecs_named.items() if codec in _LATIN), None)
    if latin is not None:
        return _decode_latin(body, latin)
    codec, text = guess(body)
    said = f"declared {' and '.join(labels)}" if labels else "no charset declared"
    return _as_utf8(text), f"{said} and the body is not UTF-8; read as {codec}"


def _declared_reading(body: bytes, codec: str) -> tuple[str, int] | None:
    """The body in its declared charset and how many bytes were bad in it; None if too many."""
    try:
        return body.decode(codec), 0
    except UnicodeDecodeError:
        pass
    text = body.decode(codec, "replace")
    bad = text.count("\ufffd") - body.decode(codec, "ignore").count("\ufffd")
    high = len(body) - len(body.decode("ascii", "ignore"))
    return (text, bad) if bad * _MAX_BAD_SHARE <= high else None


def _decode_latin(body: bytes, label: str) -> tuple[bytes, str | None]:
    """A Latin label is right unless the text is plainly Cyrillic."""
    cyrillic = guess_cyrillic(body)
    if cyrillic is None:
        return _as_utf8(_western(body)), None
    warning = f"declared {label}, but the text is {cyrillic}"
    return _as_utf8(body.decode(cyrillic, "replace")), warning


def _stray_warning(labels: list[str], stray: StrayBytes) -> str:
    bytes_ = "1 byte is" if stray.count == 1 else f"{stray.count} bytes are"
    where = f"not UTF-8 (the first at byte {stray.first}); read as Windows-1252"
    others = [label for label in labels if _codec_name(label) != "utf-8"]
    if others:
        return f"declared {others[0]}, but the body is UTF-8, and {bytes_} {where}"
    said = "declared utf-8" if labels else "no charset declared"
    return f"{said}, but {bytes_} {where}"


def _bad_bytes_warning(label: str, bad: int) -> str | None:
    if bad == 0:
        return None
    bytes_ = "1 byte is" if bad == 1 else f"{bad} bytes are"
    return f"declared {label}, but {bytes_} not valid in it; replaced with U+FFFD"


def _codec_name(label: str) -> str | None:
    """The codec a declared charset names, or None if it is unknown or not a text
    encoding (a feed may declare "uu" or "base64", which bytes.decode refuses)."""
    try:
        info = codecs.lookup(label)
    except LookupError:
        return None
    return info.name if getattr(info, "_is_text_encoding", True) else None


def _western(body: bytes) -> str:
    try:
        return body.decode("cp1252")
    except UnicodeDecodeError:
        return body.decode("latin-1")


def _as_utf8(text: str) -> bytes:
    data = text.encode("utf-8")
    declaration = _XML_DECL.match(data)
    if declaration:
        data = _UTF8_DECL.encode() + data[declaration.end() :]
    return data
