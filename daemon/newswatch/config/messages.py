"""Validation problems as lines a user can act on: `file:line: what (did you mean ...)`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError

from newswatch.config.schema import Config
from newswatch.yamlsource import LocatedYaml, PathKey


def in_file_order(problems: list[str]) -> list[str]:
    """Sorted by file and line; a secret written in the file is reported once."""

    def position(problem: str) -> tuple[str, int]:
        file, _, rest = problem.partition(":")
        line = rest.split(":", 1)[0]
        return (file, int(line) if line.isdigit() else 0)

    unique = [p for p in problems if "is not a key here" not in p]
    return sorted(dict.fromkeys(unique), key=position)


_SECRET_KEYS = {"password", "secret", "token", "api_key", "urls"}


def forbidden_secrets(located: LocatedYaml) -> Iterable[str]:
    for path_key, location in located.locations.items():
        if path_key and path_key[-1] in _SECRET_KEYS:
            name = path_key[-1]
            yield (
                f"{location}: `{name}` must not be written in the file; "
                f"use {name}_env: VARIABLE or {name}_file: PATH"
            )


def describe(
    exc: ValidationError, located: LocatedYaml, root: type[BaseModel] = Config
) -> list[str]:
    """One `file:line: what` per validation error, `root` being the model of the file."""
    problems = []
    errors = exc.errors()
    for error in errors:
        if _consequence(error, errors):
            continue
        loc = _yaml_path(error["loc"])
        problems.append(f"{located.where(loc)}: {_message(error, loc, root)}")
    return problems


def _consequence(error: Any, errors: list[Any]) -> bool:
    """A list "too short" only because its items were refused (`to: [not-an-email]`)."""
    loc = error["loc"]
    deeper = (e["loc"][: len(loc)] == loc and len(e["loc"]) > len(loc) for e in errors)
    return bool(error["type"] == "too_short" and any(deeper))


def _yaml_path(loc: tuple[int | str, ...]) -> PathKey:
    """Pydantic's error path, without the names of union members it inserts."""
    aliases = {"sender": "from"}
    return tuple(
        aliases.get(part, part) if isinstance(part, str) else part
        for part in loc
        if not (
            isinstance(part, str)
            and (part in {"log", "email", "webhook", "apprise"} or part.startswith("function-"))
        )
    )


def _message(error: Any, loc: PathKey, root: type[BaseModel]) -> str:
    dotted = ".".join(str(part) for part in loc) or "the file"
    kind = error["type"]
    if kind == "extra_forbidden" and loc[-1] in _SECRET_KEYS:
        return f"`{loc[-1]}` is not a key here"
    if kind == "extra_forbidden":
        return f"unknown key {loc[-1]!r} in {_parent(loc)}{_did_you_mean(loc, root)}"
    if kind == "missing":
        return f"missing required key {loc[-1]!r} in {_parent(loc)}"
    if kind == "union_tag_invalid" or kind == "union_tag_not_found":
        return f"{dotted}: `type` must be one of: log, email"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{dotted}: {message}"


def _parent(loc: PathKey) -> str:
    parent = ".".join(str(part) for part in loc[:-1])
    return f"`{parent}`" if parent else "the top level"


def _did_you_mean(loc: PathKey, root: type[BaseModel]) -> str:
    candidates = _keys_at(root, loc[:-1])
    import difflib  # only for a key that is wrong

    close = difflib.get_close_matches(str(loc[-1]), candidates, n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f"; known keys: {', '.join(sorted(candidates))}" if candidates else ""


def _keys_at(root: type[BaseModel], parent: PathKey) -> list[str]:
    """The keys allowed at a path, for "did you mean" (unions contribute all members)."""
    models: list[type[BaseModel]] = [root]
    for part in parent:
        if isinstance(part, int):
            continue
        fields = [m.model_fields[part] for m in models if part in m.model_fields]
        models = [model for f in fields for model in _models_in(f.annotation)]
    keys = {f.alias or n for m in models for n, f in m.model_fields.items() if n != "path"}
    return sorted(keys)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in getattr(annotation, "__args__", ()) for model in _models_in(arg)]
