"""A feed body's character set, settled before the XML parser sees it.

Servers label feeds wrongly often enough to matter: Windows-1251 sent as
ISO-8859-1, UTF-8 declared as something else, no label at all. `decode_body`
re-encodes every body as UTF-8 with a matching XML declaration, and says what
was wrong with the label, so the parser never has to guess. Pure: bytes in,
bytes out, never an exception.
"""

from __future__ import annotations

import codecs
import re

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_UTF16_WITHOUT_BOM = {b"<\x00?\x00": "utf-16-le", b"\x00<\x00?": "utf-16-be"}
_XML_DECL = re.compile(rb"^\s*<\?xml[^>]{0,200}?\?>")
_DECL_ENCODING = re.compile(rb"encoding\s*=\s*[\"']\s*([\w.:-]+)")
_CHARSET = re.compile(r"charset\s*=\s*[\"']?\s*([\w.:-]+)", re.IGNORECASE)
_LATIN = {"iso8859-1", "cp1252", "iso8859-15", "ascii"}
_UTF8_DECL = '<?xml version="1.0" encoding="utf-8"?>'
_HIGH_LETTERS = bytes(range(0xC0, 0x100))
_HIGH_RUN = re.compile(rb"[\xc0-\xff]{3,}")


def decode_body(body: bytes, content_type: str) -> tuple[bytes, str | None]:
    """The body as UTF-8 (its XML declaration saying so), and a warning if its charset was wrong.

    UTF-8 wins whenever the bytes are valid UTF-8, whatever was declared; then
    the declared charsets (HTTP header first); a Latin-1 label on Cyrillic text
    or no label at all falls to a guess between Windows-1251, KOI8-R and Windows-1252.
    """
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return _as_utf8(body[len(bom) :].decode(codec, "replace")), None
    if body[:4] in _UTF16_WITHOUT_BOM:
        return _as_utf8(body.decode(_UTF16_WITHOUT_BOM[body[:4]], "replace")), None
    labels = _declared_charsets(body, content_type)
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return _decode_legacy(body, labels)
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


def _decode_legacy(body: bytes, labels: list[str]) -> tuple[bytes, str | None]:
    """Not UTF-8: a specific declared charset first, then a Latin one (checked for Cyrillic)."""
    for label in sorted(labels, key=lambda label: _codec_name(label) in _LATIN):
        codec = _codec_name(label)
        if codec is None or codec == "utf-8":
            continue
        if codec in _LATIN:
            guess = _guess_cyrillic(body)
            if guess is None:
                return _as_utf8(_western(body)), None
            warning = f"declared {label}, but the text is {guess}"
            return _as_utf8(body.decode(guess, "replace")), warning
        try:
            return _as_utf8(body.decode(codec)), None
        except UnicodeDecodeError:
            continue
    guess = _guess_cyrillic(body)
    text = body.decode(guess, "replace") if guess else _western(body)
    said = f"declared {' and '.join(labels)}" if labels else "no charset declared"
    return _as_utf8(text), f"{said} and the body is not UTF-8; read as {guess or 'cp1252'}"


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


def _guess_cyrillic(body: bytes) -> str | None:
    """'cp1251' or 'koi8_r' when high bytes come in runs, as Cyrillic words do; else None.

    Western European text has an accented letter here and there between ASCII
    ones; Russian has whole words of bytes above 0xC0. Lower-case letters, the
    common ones, sit at 0xE0-0xFF in Windows-1251 and at 0xC0-0xDF in KOI8-R.
    """
    sample = body[:262_144]
    letters = len(sample) - len(sample.translate(None, _HIGH_LETTERS))
    if letters < 8:
        return None
    in_runs = sum(len(run) for run in _HIGH_RUN.findall(sample))
    if in_runs * 2 < letters:
        return None
    upper_half = len(sample) - len(sample.translate(None, _HIGH_LETTERS[0x20:]))
    return "cp1251" if upper_half * 2 >= letters else "koi8_r"


def _as_utf8(text: str) -> bytes:
    data = text.encode("utf-8")
    declaration = _XML_DECL.match(data)
    if declaration:
        data = _UTF8_DECL.encode() + data[declaration.end() :]
    return data
