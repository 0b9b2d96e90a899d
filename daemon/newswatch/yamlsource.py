"""YAML loading that remembers where every value came from.

PyYAML's composer keeps a mark (line, column) on every node; we build plain
Python values from the node tree and keep a side table from the value's path
(`("watch", "people", 0, "name")`) to its file and line, so that validation
errors can say `file:line` however deep they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PathKey = tuple[str | int, ...]
# libyaml's parser (in PyYAML's wheels) composes a 10,000-person watch list
# ~10x faster than the pure-Python one, with the same marks.
_STR_TAG = "tag:yaml.org,2002:str"
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, slots=True)
class Location:
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class LocatedYaml:
    """A YAML document as plain values plus the location of each path in it."""

    file: str
    data: Any
    locations: dict[PathKey, Location] = field(default_factory=dict)

    def where(self, path: PathKey) -> Location:
        """Location of the deepest known prefix of `path` (the file itself at worst)."""
        for end in range(len(path), -1, -1):
            found = self.locations.get(tuple(path[:end]))
            if found is not None:
                return found
        return Location(self.file, 1)


class YamlError(Exception):
    def __init__(self, location: Location, message: str) -> None:
        super().__init__(f"{location}: {message}")
        self.location = location
        self.message = message


def load_located(path: Path) -> LocatedYaml:
    """Read one YAML file; raise YamlError for unreadable or malformed files."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise YamlError(Location(name, 1), f"cannot read the file: {reason}") from None
    return parse_located(text, name)


def parse_located(text: str, name: str) -> LocatedYaml:
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise YamlError(Location(name, line), _syntax_message(exc, line)) from None
    result = LocatedYaml(name, None)
    if node is not None:
        result.data = _Builder(result).build(node, ())
    return result


def _syntax_message(exc: yaml.MarkedYAMLError, line: int) -> str:
    """The problem, and where the construct it is in began when that is another line
    (an unclosed `[` is only noticed on a later line, often the next item's)."""
    message = f"invalid YAML: {exc.problem}"
    opened = exc.context_mark
    if exc.context and opened is not None and opened.line + 1 != line:
        message += f" ({exc.context} opened on line {opened.line + 1}, column {opened.column + 1})"
    return message


class _Builder:
    def __init__(self, out: LocatedYaml) -> None:
        self.out = out
        self.constructor = yaml.SafeLoader("")

    def build(self, node: yaml.Node, path: PathKey) -> Any:
        self.out.locations[path] = Location(self.out.file, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            mapping: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self.scalar(key_node)
                mapping[key] = self.build(value_node, (*path, key))
                # a key's own line is more useful than its value's (which may be a block below)
                self.out.locations[(*path, key)] = Location(
                    self.out.file, key_node.start_mark.line + 1
                )
            return mapping
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, index)) for index, item in enumerate(node.value)]
        return self.scalar(node)

    def scalar(self, node: yaml.Node) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            return str(node.value)
        if node.tag == _STR_TAG:  # most scalars: the text as written, no constructor needed
            return node.value
        value = self.constructor.construct_object(node, deep=True)
        self.constructor.constructed_objects.clear()
        return value
