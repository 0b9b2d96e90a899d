"""YAML loading that remembers where every value came from.

PyYAML's composer keeps a mark (line, column) on every node; we build plain
Python values from the node tree and keep a side table from the value's path
(`("watch", "people", 0, "name")`) to its file and line, so that validation
errors can say `file:line` however deep they are.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PathKey = tuple[str | int, ...]
# libyaml's parser (in PyYAML's wheels) composes a 10,000-person watch list
# ~10x faster than the pure-Python one, with the same marks.
_STR_TAG = "tag:yaml.org,2002:str"
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Far more than any config repeats through aliases; a few MB at most to reach.
MAX_ALIASED_VALUES = 100_000
_TOO_MANY_ALIASED = (
    f"aliases here expand to more than {MAX_ALIASED_VALUES:,} values (aliases of aliases: "
    "an alias bomb?); write the values out or use fewer aliases"
)
_SELF_ALIAS = "an alias refers to the list or mapping that contains it; remove the loop"


@dataclass(frozen=True, slots=True)
class Location:
    """A file and a line in it, printed as `file:line`."""

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
    with paused_gc():
        try:
            node = yaml.compose(text, Loader=_LOADER)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark is not None else 1
            raise YamlError(Location(name, line), _syntax_message(exc, line)) from None
        result = LocatedYaml(name, None)
        if node is not None:
            line = node.start_mark.line + 1
            result.data = _Builder(result).build(node, (), line, line)
    return result


def _syntax_message(exc: yaml.MarkedYAMLError, line: int) -> str:
    """The problem, and where the construct it is in began when that is another line
    (an unclosed `[` is only noticed on a later line, often the next item's)."""
    message = f"invalid YAML: {exc.problem}"
    opened = exc.context_mark
    if exc.context and opened is not None and opened.line + 1 != line:
        message += f" ({exc.context} opened on line {opened.line + 1}, column {opened.column + 1})"
    return message


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection while a burst of objects that stay is made.

    Composing and building a 100,000-person watch list makes millions of nodes,
    marks and values; the collector would walk the young ones again and again
    (more than half the time of `check`). Reference counting still frees
    everything short-lived; the collector resumes afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _Builder:
    """Plain values from a node tree, refusing alias bombs and aliases to themselves.

    An alias is the very node it names, so a tree of a few lines can stand for
    billions of values ("billion laughs"): values built through aliases are
    counted and refused past MAX_ALIASED_VALUES, before they fill the memory.
    """

    def __init__(self, out: LocatedYaml) -> None:
        self.out = out
        self.constructor = yaml.SafeLoader("")
        self.built: set[int] = set()
        self.open: set[int] = set()
        self.alias_at: Location | None = None  # where the alias being expanded is
        self.aliased = 0
        self.lines: dict[int, Location] = {}

    def build(self, node: yaml.Node, path: PathKey, line: int, ref: int) -> Any:
        """The value of `node`, recorded at `line`; `ref` is where it is referred to
        (an alias's line rather than its anchor's)."""
        self.out.locations[path] = self.at(line)
        if self.alias_at is not None:
            self.aliased += 1
            if self.aliased > MAX_ALIASED_VALUES:
                raise YamlError(self.alias_at, _TOO_MANY_ALIASED)
        if type(node) is yaml.ScalarNode:
            return node.value if node.tag == _STR_TAG else self.scalar(node)
        key = id(node)
        if key in self.open:
            raise YamlError(self.at(ref), _SELF_ALIAS)
        if key in self.built and self.alias_at is None:
            self.alias_at = self.at(ref)
            try:
                return self.collection(node, path)
            finally:
                self.alias_at = None
        self.built.add(key)
        return self.collection(node, path)

    def at(self, line: int) -> Location:
        found = self.lines.get(line)
        if found is None:
            found = self.lines[line] = Location(self.out.file, line)
        return found

    def collection(self, node: yaml.Node, path: PathKey) -> Any:
        key = id(node)
        self.open.add(key)
        try:
            if isinstance(node, yaml.MappingNode):
                return self.mapping(node, path)
            ref = node.start_mark.line + 1
            return [
                self.build(item, (*path, index), item.start_mark.line + 1, ref)
                for index, item in enumerate(node.value)
            ]
        finally:
            self.open.discard(key)

    def mapping(self, node: yaml.MappingNode, path: PathKey) -> dict[Any, Any]:
        """Keys are located at their own line, more useful than their value's (which
        may be a block below)."""
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self.scalar(key_node)
            line = key_node.start_mark.line + 1
            mapping[key] = self.build(value_node, (*path, key), line, line)
        return mapping

    def scalar(self, node: yaml.Node) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            return str(node.value)
        if node.tag == _STR_TAG:  # most scalars: the text as written, no constructor needed
            return node.value
        value = self.constructor.construct_object(node, deep=True)
        self.constructor.constructed_objects.clear()
        return value
