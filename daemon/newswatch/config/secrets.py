"""Secrets the config names (`*_env: VARIABLE` or `*_file: PATH`), read when they are used.

Values are never kept in the config objects, never logged and never printed:
every message names the variable or the file, never what it holds.
"""

from __future__ import annotations

import os
from pathlib import Path


class SecretUnavailable(Exception):
    """The variable is unset or empty, or the file is missing, unreadable or empty."""


def smtp_password(env: str | None, file: Path | None) -> str | None:
    """The SMTP password, read now: the variable's value (None when unset), else the
    file's text, stripped; None when neither is configured."""
    if env:
        return os.environ.get(env)
    if file:
        return file.read_text(encoding="utf-8").strip()
    return None


def read_secret(env: str | None, file: Path | None, what: str) -> str | None:
    """The secret, stripped of surrounding white space; None when neither source is given.

    `what` says what the secret is for (`the webhook secret`), for the message
    raised when it cannot be read; the message says how to mend it.
    """
    if env:
        value = os.environ.get(env, "").strip()
        if not value:
            raise SecretUnavailable(
                f"{what}: the environment variable {env} is not set or empty; "
                "set it in the daemon's environment (e.g. the systemd unit's EnvironmentFile)"
            )
        return value
    if file is None:
        return None
    try:
        value = file.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise SecretUnavailable(
            f"{what}: the file {file} does not exist; create it (mode 0600) or fix the path"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise SecretUnavailable(
            f"{what}: cannot read the file {file} ({why}); check its path and permissions"
        ) from None
    if not value:
        raise SecretUnavailable(f"{what}: the file {file} is empty; write the secret into it")
    return value
