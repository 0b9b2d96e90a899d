"""feedparser driven over our own expat reader: UTF-8 bytes in, feedparser's handler out.

feedparser is driven through its own strict and loose parsers rather than
`feedparser.parse`, for one reason: expat's `buffer_text`, which hands the
parser each text node in one piece instead of thousands (about 1.4x faster on
the real-feed corpus). The sanitizer and relative-URI rewriting are off: we make
plain text in `htmltext` and resolve the entry links ourselves.

One addition to feedparser: the text of a `<link>` that also carries a URL
attribute (`href`, `uri`, `url`). feedparser keeps only the attribute, so
`<link uri="javascript:...">https://site/a</link>` lost the only usable link;
we keep the text in the entry's `link_texts`, a fallback for the mapper.

And one correction: feedparser reads Media RSS `media:title`/`media:description`
and iTunes `itunes:summary` as if they were the entry's own `title` and
`description`/`summary`. In a news feed they describe an attached photo or
video: an NYT entry's `media:description` is a photo caption, and feedparser
made it the entry's content, in place of the article's description. We keep
their text under keys of our own (`media_title`, `media_text`): the mapper uses
them only when the entry has no title or text of its own.

And one shortcut in the loose parser, for malformed feeds (see `_Loose`).
"""

from __future__ import annotations

import html
import io
import re
import traceback
import types
import weakref
import xml.sax
import xml.sax.expatreader
import xml.sax.handler
import xml.sax.xmlreader
from collections.abc import Callable
from typing import Any

from feedparser.api import LooseFeedParser, StrictFeedParser
from feedparser.sanitizer import replace_doctype

LINK_TEXTS = "link_texts"
MEDIA_TITLE = "newswatch_media_title"
MEDIA_TEXT = "newswatch_media_text"
_LINK_TEXT = "newswatch_link_text"
_URL_ATTRIBUTES = ("href", "uri", "url")
_XHTML = "application/xhtml+xml"
# The loose parser's loop (sgmllib's `SGMLParser.goahead`, whichever module feedparser
# has it from), and where it ends a run of text: at every "<" and "&" (its module's
# `interesting`), or, where feedparser keeps XML's five entity references as written,
# at every "<" and every "&" that does not start one of them.
_LOOP = LooseFeedParser.goahead
# None if the loop reads no module-level `interesting` (another sgmllib than the one
# tests/test_feedparse_loose.py checks): the loose parser then runs as feedparser has it.
_STOPS: re.Pattern[str] | None = (
    _LOOP.__globals__.get("interesting") if "interesting" in _LOOP.__code__.co_names else None
)
_STOPS_BUT_XML_ENTITIES = re.compile("<|&(?!(?:lt|gt|amp|quot|apos);)")


class _LinkTextKept:
    """Mixin for feedparser's parsers: collect `<link>` text that an attribute overrode."""

    elementstack: list[list[Any]]
    inentry: bool

    def _start_link(self, attrs_d: dict[str, str]) -> None:
        overridden = self.inentry and any(attrs_d.get(name) for name in _URL_ATTRIBUTES)
        super()._start_link(attrs_d)  # type: ignore[misc]
        if overridden:
            self.elementstack.append([_LINK_TEXT, 1, []])

    def _end_link(self) -> None:
        if not self.elementstack or self.elementstack[-1][0] != _LINK_TEXT:
            super()._end_link()  # type: ignore[misc]
            return
        pieces = self.elementstack.pop()[2]
        text = "".join(piece for piece in pieces if isinstance(piece, str)).strip()
        if isinstance(self, LooseFeedParser):
            text = html.unescape(text)
        if text:
            self._get_context().setdefault(LINK_TEXTS, []).append(text)  # type: ignore[attr-defined]


class _MediaTextApart:
    """Mixin for feedparser's parsers: media and iTunes texts kept apart from the entry's own.

    Read as feedparser reads a `description` (HTML by default, entities and
    CDATA alike), but stored under MEDIA_TITLE / MEDIA_TEXT; where an entry has
    several, the one nearest the item wins (feedparser's depth rule), then the last.
    """

    inentry: bool
    push_content: Callable[[str, dict[str, str], str, Any], None]  # feedparser's
    pop_content: Callable[[str], Any]

    def _start_media_title(self, attrs_d: dict[str, str]) -> None:
        self.push_content(MEDIA_TITLE, attrs_d, "text/plain", self.inentry)

    def _end_media_title(self) -> None:
        self.pop_content(MEDIA_TITLE)

    def _start_media_description(self, attrs_d: dict[str, str]) -> None:
        self.push_content(MEDIA_TEXT, attrs_d, "text/html", self.inentry)

    def _end_media_description(self) -> None:
        self.pop_content(MEDIA_TEXT)

    _start_itunes_summary = _start_media_description
    _end_itunes_summary = _end_media_description


class _Strict(_MediaTextApart, _LinkTextKept, StrictFeedParser):  # type: ignore[misc]
    pass


class _Loose(_MediaTextApart, _LinkTextKept, LooseFeedParser):  # type: ignore[misc]
    """feedparser's loose parser, for malformed feeds, with text read in longer runs.

    Its loop (`SGMLParser.goahead`) ends a run of text at every "&", and makes each
    `&lt;` `&gt;` `&amp;` `&quot;` `&apos;` an event of its own that feedparser adds to
    the text exactly as written; in escaped HTML that is an event or two per tag (69,000
    in one corpus feed: ~half of its parse). Here the same loop, given another
    `interesting`, reads past them: the text added is the same. Not in XHTML content,
    where feedparser escapes text but not those references: there it stops at every
    "&" as before (the content type is looked up at each stop, before the text up to
    the next one is handed over, so the type then is the type that text is added under).
    Fewer, longer pieces of text are all that differs, and only whitespace-only pieces
    count as pieces (feedparser drops them at either end of Atom XHTML content, and
    strips what it joins). tests/test_feedparse_loose.py holds it to feedparser's loop.
    """

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._loop: Callable[[Any, int], Any] = _LOOP
        if _STOPS is not None:
            names = dict(_LOOP.__globals__, interesting=_Stops(self))
            self._loop = types.FunctionType(_LOOP.__code__, names)

    def goahead(self, end: int) -> Any:
        return self._loop(self, end)


class _Stops:
    """`interesting` for one loose parser: see `_Loose`."""

    def __init__(self, parser: _Loose) -> None:
        self._parser = weakref.ref(parser)  # not the parser itself: no reference cycle

    def search(self, text: str, start: int) -> re.Match[str] | None:
        parser = self._parser()
        if parser is not None and parser.contentparams.get("type") == _XHTML:
            assert _STOPS is not None  # else no _Stops is made
            return _STOPS.search(text, start)
        return _STOPS_BUT_XML_ENTITIES.search(text, start)


class _BufferedExpatReader(xml.sax.expatreader.ExpatParser):
    """The stdlib SAX reader with expat's text buffering switched on."""

    _parser: Any  # the stdlib's, untyped there

    def reset(self) -> None:
        super().reset()
        expat = self._parser
        expat.buffer_text = True
        expat.buffer_size = 1 << 16

    def release(self) -> None:
        """Drop the expat parser, whose handlers are this reader's bound methods: a
        reference cycle that `close` breaks after a parse that ended well, not after
        an error."""
        self._parser = None


def run_feedparser(data: bytes, language: str | None) -> tuple[Any, str, str | None]:
    """(handler, version, problem): strict (expat) parse, loose over what the strict one choked on.

    `replace_doctype` drops every entity declaration that could expand into
    more entities, so an entity bomb never reaches expat (which caps expansion too).
    """
    version, data, entities = replace_doctype(data)
    strict = _Strict("", language, "utf-8")
    strict.resolve_relative_uris = strict.sanitize_html = False
    reader = _BufferedExpatReader()
    reader.setFeature(xml.sax.handler.feature_namespaces, True)
    reader.setFeature(xml.sax.handler.feature_external_ges, False)
    reader.setContentHandler(strict)
    reader.setErrorHandler(strict)
    source = xml.sax.xmlreader.InputSource()
    source.setByteStream(io.BytesIO(data))
    try:
        reader.parse(source)
    except (xml.sax.SAXException, LookupError, ValueError) as exc:  # LookupError: encoding
        problem = describe_problem(strict.exc or exc)
        _break_cycles(reader, strict, exc)
        loose = _Loose("", language, "utf-8", entities)
        loose.resolve_relative_uris = loose.sanitize_html = False
        loose.feed(data.decode("utf-8", "replace"))
        return loose, version or loose.version, problem
    problem = describe_problem(strict.exc) if strict.bozo else None
    return strict, version or strict.version, problem


def _break_cycles(reader: _BufferedExpatReader, strict: _Strict, error: BaseException) -> None:
    """A strict parse that failed leaves reference cycles behind, which kept the body
    and the parse alive until a full collection: the error's traceback holds frames
    that hold the error, the handler keeps it, and the reader's parser calls the
    reader back. The finished frames' locals go, and both references."""
    traceback.clear_frames(error.__traceback__)
    strict.exc = None
    reader.release()


def describe_problem(exc: BaseException | None) -> str | None:
    """One line for a malformed feed: what the XML parser said, and where."""
    if exc is None:
        return None
    if isinstance(exc, xml.sax.SAXParseException):
        line, column = exc.getLineNumber(), (exc.getColumnNumber() or 0) + 1
        return f"malformed XML at line {line}, column {column}: {exc.getMessage()}"
    return f"malformed feed: {exc}"
