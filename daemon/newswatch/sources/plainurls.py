"""Plain absolute http(s) URLs, read without urllib's general parser (issue 11).

Nearly every link a feed gives is one: `http://` or `https://`, a host, ASCII
printable characters only, no IPv6 brackets. For such a URL, `split_url` gives what
`urllib.parse.urlsplit` gives, and `joins_to_itself` says when
`urllib.parse.urljoin(base, url)` is the URL itself, each in one regular
expression match instead of urllib's steps in Python (which cost a parse worker
~2.5% of its CPU: every entry's link is joined to the feed's URL, then split
again to be made canonical). Any other URL goes urllib's way.
`tests/test_plainurls.py` holds both to urllib's answers.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit

# Lower-case scheme (urlsplit lower-cases it), a host, then what urlsplit splits
# off: path up to `?` or `#`, query up to `#`, fragment. Printable ASCII only (see
# `_plain`): urlsplit drops tabs and line breaks, strips leading controls and
# spaces, and checks non-ASCII hosts and bracketed ones; none of that applies.
_PLAIN = re.compile(r"(https?)://([^/?#\[\]]+)(/[^?#]*)?(?:\?([^#]*))?(?:#(.*))?")
_HTTP_HOST = re.compile(r"https?://[^/\s]+", re.IGNORECASE)


def _plain(url: str) -> re.Match[str] | None:
    if url.isascii() and url.isprintable():
        return _PLAIN.fullmatch(url)
    return None


def split_url(url: str) -> SplitResult:
    """`urlsplit(url)`, without its general steps for a plain absolute http(s) URL;
    raises ValueError where urlsplit does."""
    found = _plain(url)
    if found is None:
        return urlsplit(url)
    scheme, netloc, path, query, fragment = found.groups()
    return SplitResult(scheme, netloc, path or "", query or "", fragment or "")


def feed_url_problem(url: str) -> str | None:
    """Why nothing can ever be fetched from `url`, or None: it must be http(s) with a
    host, and one whose host and port the URL parser reads (not an unclosed IPv6
    bracket, nor a port that is no number or over 65535). What the config says of a
    feed's or a webhook's URL, and what `import-opml` skips."""
    if not _HTTP_HOST.match(url):
        return f"{url!r} is not an http:// or https:// URL"
    try:
        urlsplit(url).port  # noqa: B018 - reading it is the check
    except ValueError as exc:
        return f"{url!r} is not a usable URL ({exc}); write it as http(s)://host[:port]/path"
    return None


def joins_to_itself(url: str) -> bool:
    """True if `urljoin(base, url) == url` for every base urljoin can read: a plain
    absolute http(s) URL that urllib puts back together unchanged.

    urljoin gives such a URL back as it is when the base's scheme is another, and
    as `urlunparse` rebuilds it when the scheme is the same: unchanged unless a `?`
    or `#` is followed by nothing (dropped) or the path holds a `;` (parameters,
    dropped when empty). Those few go urllib's way.
    """
    found = _plain(url)
    if found is None:
        return False
    path, query, fragment = found.group(3, 4, 5)
    return query != "" and fragment != "" and (path is None or ";" not in path)
