"""The plain-URL shortcuts give urllib's answers: `split_url` is `urlsplit`, and a
link `joins_to_itself` only where `urljoin` gives it back unchanged; links are
resolved and made canonical as they were before the shortcuts."""

from __future__ import annotations

from unittest.mock import patch
from urllib.parse import urljoin, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newswatch import normalize
from newswatch.normalize import canonical_url
from newswatch.sources import feeds
from newswatch.sources.feeds import resolve_link
from newswatch.sources.plainurls import joins_to_itself, split_url

_SCHEMES = ["http://", "https://", "HTTP://", "Https://", "ftp://", "http:", "http:/", "", "//"]
_SCHEMES += ["mailto:", " http://", "\thttp://", "h\nttp://", "javascript:", "http:///"]
_HOSTS = ["news.example.org", "EXAMPLE.org", "a.b:8080", "x:80", "u:p@h", "[::1]", "[::1", "::1]"]
_HOSTS += ["[v1.x]", "[1.2.3.4]", "h:", "", "ex\u00e4mple.org", "\u2100.org", "h\u00a0", "a b"]
_PIECES = ["/", "/a", "/b.html", ";", ";p", "?", "?q=1", "&utm_source=x", "#", "#f", "#a=b"]
_PIECES += ["//", " ", "%20", "\t", "\n", "\r", "\x00", "\x7f", "é", "[", "]", "@", ":", ".."]
_URLS = st.builds(
    "".join,
    st.tuples(
        st.sampled_from(_SCHEMES),
        st.sampled_from(_HOSTS),
        st.builds("".join, st.lists(st.sampled_from(_PIECES), max_size=8)),
    ),
).map("".join)
_ANY_URL = st.one_of(_URLS, st.text(max_size=40))
_BASES = ["", "http://corpus.test/feed", "https://news.example.org/world/feed.xml"]
_BASES += ["HTTPS://news.example.org/", "ftp://x/y", "http://[::1", "//h/p", "feed.xml"]


def _urllib_split(url: str) -> object:
    try:
        return urlsplit(url)
    except ValueError as exc:
        return ValueError(str(exc))


def _split(url: str) -> object:
    try:
        return split_url(url)
    except ValueError as exc:
        return ValueError(str(exc))


@settings(max_examples=300)
@given(_ANY_URL)
def test_split_url_is_urlsplit(url: str) -> None:
    expected, got = _urllib_split(url), _split(url)
    if isinstance(expected, ValueError):
        assert isinstance(got, ValueError) and str(got) == str(expected)
    else:
        assert got == expected and type(got) is type(expected)


@settings(max_examples=300)
@given(_ANY_URL, st.sampled_from(_BASES))
def test_a_url_joins_to_itself_only_where_urljoin_gives_it_back(url: str, base: str) -> None:
    if joins_to_itself(url):
        try:
            joined = urljoin(base, url)
        except ValueError:
            return  # a base urljoin cannot read: resolve_link says None either way
        assert joined == url


def _resolve_the_long_way(base: str, link: object) -> str | None:
    """resolve_link as it was before the shortcut."""
    if not isinstance(link, str) or not link.strip():
        return None
    try:
        absolute = urljoin(base, link.strip())
    except ValueError:
        return None
    return absolute if absolute.lower().startswith(("http://", "https://")) else None


@settings(max_examples=300)
@given(_ANY_URL, st.sampled_from(_BASES))
def test_links_resolve_as_before(url: str, base: str) -> None:
    assert resolve_link(base, url) == _resolve_the_long_way(base, url)


@settings(max_examples=300)
@given(st.one_of(_ANY_URL, st.none()))
def test_canonical_urls_are_made_as_before(url: str | None) -> None:
    with patch.object(normalize, "split_url", urlsplit):
        expected = canonical_url(url)
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    ("url", "itself"),
    [
        ("https://news.example.org/world/a.html", True),
        ("http://news.example.org/a?x=1&utm_source=rss#top", True),
        ("https://news.example.org", True),
        ("https://news.example.org/a?", False),  # urljoin drops the empty query
        ("https://news.example.org/a#", False),  # and the empty fragment
        ("https://news.example.org/a;", False),  # and empty parameters
        ("https://news.example.org/a;v=1", False),  # parameters: left to urljoin
        ("HTTPS://news.example.org/a", False),  # urlsplit lower-cases the scheme
        ("https:///a", False),  # no host: the base's is taken
        ("https://[::1]/a", False),  # brackets checked by urlsplit
        ("https://news.example.org/a b", True),  # urllib keeps inner spaces
        ("https://news.example.org/a\tb", False),  # and drops tabs
        ("https://ex\u00e4mple.org/", False),  # non-ASCII hosts are checked
        ("/relative/a.html", False),
    ],
)
def test_which_links_join_to_themselves(url: str, itself: bool) -> None:
    assert joins_to_itself(url) is itself
    for base in ("http://corpus.test/feed", "https://news.example.org/feed"):
        assert (urljoin(base, url) == url) or not itself


def test_a_base_urljoin_cannot_read_still_gives_no_link() -> None:
    assert resolve_link("http://[::1", "https://news.example.org/a") is None


def test_the_corpus_links_resolve_through_the_shortcut() -> None:
    """The shortcut is taken: a plain absolute link never reaches urljoin."""
    with patch.object(feeds, "urljoin", side_effect=AssertionError("urljoin called")):
        assert resolve_link("http://corpus.test/f", " https://a.example/b?c=d ") == (
            "https://a.example/b?c=d"
        )
