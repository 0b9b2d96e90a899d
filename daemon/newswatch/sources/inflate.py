"""Reading a response body without letting it grow past a limit, compressed or not.

An HTTP client inflates gzip and deflate bodies with no bound, and a small compressed
body (a "gzip bomb") can expand a thousandfold. Here the raw bytes are counted
as they arrive and decompressed in steps that never produce more than the
limit, so neither an endless body nor a bomb can take more than `limit` bytes.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping

from newswatch.sources.httperrors import FetchError


def read_capped(raw: Iterable[bytes], headers: Mapping[str, str], limit: int) -> bytes:
    """The decoded body of the `raw` (still encoded) chunks as they arrive, or FetchError
    once it (or its inflated form) passes `limit` bytes."""
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise FetchError(f"the body is {int(declared):,} bytes, over the {limit:,}-byte limit")
    inflater = Inflater(headers.get("content-encoding", ""), limit)
    received = 0
    for chunk in raw:
        received += len(chunk)
        if received > limit:
            raise FetchError(f"the body goes on past the {limit:,}-byte limit")
        inflater.feed(chunk)
    return inflater.finish()


class Inflater:
    """gzip / deflate decoding that stops at `limit` output bytes, so bombs never inflate."""

    def __init__(self, content_encoding: str, limit: int) -> None:
        coding = content_encoding.strip().lower()
        if coding not in {"", "identity", "gzip", "x-gzip", "deflate"}:
            raise FetchError(f"the server sent an unsupported Content-Encoding: {coding}")
        self._coding = coding
        self._limit = limit
        self._parts: list[bytes] = []
        self._size = 0
        self._decoder: zlib._Decompress | None = None
        self._head = b""  # a deflate body's first byte, when it came alone

    def feed(self, data: bytes) -> None:
        if self._coding in {"", "identity"}:
            self._add(data)
            return
        if self._coding == "deflate" and self._decoder is None:
            # its first two bytes tell zlib-wrapped from raw, and a chunk may be one byte
            data, self._head = self._head + data, b""
            if len(data) < 2:
                self._head = data
                return
        try:
            while data:
                decoder = self._decoder or self._start(data)
                self._add(decoder.decompress(data, self._limit - self._size + 1))
                data = decoder.unconsumed_tail
                if decoder.eof and not data:  # a second gzip member may follow
                    data, self._decoder = decoder.unused_data, None
        except zlib.error as exc:
            raise FetchError(f"the body is not valid {self._coding} data: {exc}") from None

    def finish(self) -> bytes:
        if self._head:
            raise FetchError(f"the {self._coding} body was cut short")
        if self._decoder is not None:
            if not self._decoder.eof and self._coding != "deflate":
                raise FetchError(f"the {self._coding} body was cut short")
            self._add(self._decoder.flush())
        return b"".join(self._parts)

    def _start(self, data: bytes) -> zlib._Decompress:
        if self._coding == "deflate":  # zlib-wrapped as the RFC says, or raw as some servers send
            wrapped = len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
            self._decoder = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        else:
            self._decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
        return self._decoder

    def _add(self, data: bytes) -> None:
        self._size += len(data)
        if self._size > self._limit:
            raise FetchError(
                f"the body inflates past the {self._limit:,}-byte limit (a compression bomb?)"
            )
        if data:
            self._parts.append(data)
