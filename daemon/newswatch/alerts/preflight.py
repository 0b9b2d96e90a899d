"""What `check` verifies of the sinks beyond the schema, before anything is sent.

Secrets that cannot be read (a variable unset or empty, a file missing or
empty) and Apprise URLs that Apprise cannot use. Messages name variables,
files and lines, never their values. Light to import: Apprise (slow) and
httpx are loaded only when an apprise sink is configured.
"""

from __future__ import annotations

from newswatch.config.schema import AppriseAlert, Config, WebhookAlert, sink_names
from newswatch.config.secrets import SecretUnavailable, read_secret


def sink_problems(config: Config) -> list[str]:
    """One `file: alerts: sink 'name': what, how to mend` line per problem."""
    problems = []
    for name, entry in zip(sink_names(config.alerts), config.alerts, strict=True):
        where = f"{config.path}: alerts: sink {name!r}"
        if isinstance(entry, WebhookAlert):
            try:
                read_secret(entry.secret_env, entry.secret_file, "the webhook secret")
            except SecretUnavailable as exc:
                problems.append(f"{where}: {exc}")
        elif isinstance(entry, AppriseAlert):
            from newswatch.alerts.chat import url_problems

            problems += [f"{where}: {problem}" for problem in url_problems(entry)]
    return problems
