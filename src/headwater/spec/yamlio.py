"""YAML reading that remembers where every key stands, so errors can name the line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from headwater.errors import Location, SpecError


class YamlDoc:
    """A parsed YAML file: the plain data plus the line of every key and item."""

    def __init__(self, path: Path, display: str, node: Any) -> None:
        self.path = path
        self.display = display
        self.node = node
        self.data = _plain(node)

    def resolve(self, loc: tuple[Any, ...]) -> tuple[int | None, tuple[Any, ...]]:
        """The 1-based line of the deepest part of ``loc`` in the file, and the parts found.

        Parts that are not in the file (pydantic adds union tags such as ``'batch'``) are skipped.
        """
        node, line, found = self.node, 1, []
        for part in loc:
            if isinstance(node, CommentedMap) and part in node:
                line = node.lc.key(part)[0] + 1
                node = node[part]
                found.append(part)
            elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
                line = node.lc.item(part)[0] + 1
                node = node[part]
                found.append(part)
            elif isinstance(node, CommentedMap) and isinstance(part, str) and part == loc[-1]:
                found.append(part)  # a missing key: name it, on the line of its parent
        return line, tuple(found)

    def line_of(self, loc: tuple[Any, ...]) -> int | None:
        return self.resolve(loc)[0]

    def location(self, loc: tuple[Any, ...]) -> Location:
        line, found = self.resolve(loc)
        key = ".".join(str(p) for p in found) or None
        return Location(self.display, line, key)


def _in_path(part: Any) -> bool:
    return isinstance(part, (int, str))


def _plain(node: Any) -> Any:
    if isinstance(node, CommentedMap):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, CommentedSeq):
        return [_plain(v) for v in node]
    return node


def read_yaml(path: Path, root: Path) -> YamlDoc:
    """Parse ``path``; a syntax error becomes a SpecError naming the line and column."""
    display = _display(path, root)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(
            "the file is not UTF-8 text", location=Location(display), fix="save it as UTF-8"
        ) from exc
    yaml = YAML(typ="rt")
    try:
        node = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        raise SpecError(
            f"YAML syntax error: {problem}" + (f" (column {mark.column + 1})" if mark else ""),
            location=Location(display, line),
            fix="check indentation and quoting on that line (values with ': ' or '#' need quotes)",
        ) from exc
    except YAMLError as exc:  # errors without a position mark
        raise SpecError(
            f"YAML error: {exc}", location=Location(display), fix="fix the YAML syntax"
        ) from exc
    return YamlDoc(path, display, node if node is not None else CommentedMap())


def _display(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)
