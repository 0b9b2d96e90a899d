"""Email addresses in the config (`to:`, `from:`): one mailbox each, or a clear refusal.

The check uses the standard library's own header parser (`email.headerregistry`),
the one that later writes the `From:` and `To:` headers of every alert, so what passes
here is exactly one well-formed mailbox there, and what it would mangle is refused
now rather than sent as `MAIL FROM:x`. email-validator would add two dependencies
(it imports dnspython) and refuses `root@localhost` and unquoted non-ASCII display
names, both fair in a local alerting config.
"""

from __future__ import annotations

_HINT = "write it like alerts@example.org or 'Newsroom <alerts@example.org>'"


def mailbox(value: str) -> str:
    """`value` stripped if it is one mailbox (`a@b.example`, `Name <a@b.example>`);
    ValueError with what is wrong and how to write it otherwise."""
    from email import policy  # here: the email package is ~15% of `check`'s start-up
    from email.errors import HeaderParseError

    text = value.strip()
    if not text:
        raise ValueError(f"an email address is empty; {_HINT}")
    if any(ord(char) < 32 or ord(char) == 127 for char in text):
        raise ValueError(f"{value!r} contains a line break or control character; {_HINT}")
    try:
        header = policy.default.header_factory("To", text)
        addresses = header.addresses
    except (HeaderParseError, IndexError, ValueError):  # IndexError: CPython on 'a@'
        raise ValueError(f"{value!r} is not an email address; {_HINT}") from None
    if len(addresses) != 1 or header.groups[0].display_name is not None:
        raise ValueError(f"{value!r} is not one email address; give each in its own list item")
    address = addresses[0]
    if header.defects or not address.username or not address.domain:
        raise ValueError(f"{value!r} is not an email address; {_HINT}")
    return text
