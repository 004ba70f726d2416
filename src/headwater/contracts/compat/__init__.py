"""Compatibility modes as in Schema Registry, for Avro, JSON Schema and headwater contracts.

BACKWARD: the new schema reads data written with the previous one. FORWARD: the previous schema
reads data written with the new one. FULL: both. The ``_TRANSITIVE`` forms check every older
version, not only the latest. NONE: always compatible.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from headwater.errors import HeadwaterError, Location, SpecError

MODES = ("BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE", "NONE")


class InvalidSchema(SpecError):
    """A schema document Schema Registry would reject: an error, never an "incompatible" verdict.

    ``location`` names the document (a file, or "the new schema") and, as its key, the JSON pointer.
    """

    def __init__(self, message: str, *, source: str, pointer: str | None = None, line: int | None = None,
                 fix: str | None = None) -> None:
        super().__init__(message, location=Location(source, line, pointer), fix=fix)


@dataclass
class CompatResult:
    compatible: bool
    messages: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"compatible": self.compatible, "messages": self.messages}


def checker(fmt: str) -> Callable[[Any, Any], list]:
    """reader, writer -> incompatibilities, for one format (both schemas already valid)."""
    return _format(fmt)[1]


def _format(fmt: str) -> tuple[Callable[[Any, str], None], Callable[[Any, Any], list]]:
    """(validate, check) of one format: validate raises InvalidSchema, check lists incompatibilities."""
    if fmt == "avro":
        from headwater.contracts.compat.avro import check
        from headwater.contracts.compat.avro_parse import validate
        return validate, check
    if fmt == "jsonschema":
        from headwater.contracts.compat.jsonschema import check
        from headwater.contracts.compat.jsonschema_parse import validate
        return validate, check
    if fmt == "headwater":
        from headwater.contracts.compat.avro import check
        from headwater.contracts.compat.headwater import to_avro
        return (lambda contract, source: None), (lambda reader, writer: check(to_avro(reader), to_avro(writer)))
    raise HeadwaterError(f"unknown format {fmt!r}", fix="use --format avro, jsonschema or headwater")


def compatibility(fmt: str, mode: str, new: Any, previous_newest_first: list[Any],
                  sources: list[str] | None = None) -> CompatResult:
    """Check ``new`` against the previous versions (newest first) under ``mode``.

    Every schema is validated first, in every mode: an invalid one raises InvalidSchema naming
    its entry in ``sources`` (default: "the new schema", "the previous version", "version -2", ...).
    """
    mode = mode.upper()
    if mode not in MODES:
        raise HeadwaterError(f"unknown compatibility mode {mode!r}", fix=f"use one of {', '.join(MODES)}")
    validate, check = _format(fmt)
    docs = [new, *previous_newest_first]
    labels = sources or ["the new schema", *(_label(i) for i in range(len(previous_newest_first)))]
    for doc, label in zip(docs, labels):
        validate(doc, label)
    if mode == "NONE" or not previous_newest_first:
        return CompatResult(True)
    olds = previous_newest_first if mode.endswith("_TRANSITIVE") else previous_newest_first[:1]
    messages: list[str] = []
    for i, old in enumerate(olds):
        label = _label(i)
        if mode.startswith(("BACKWARD", "FULL")):
            messages += [f"new cannot read {label}: {p}" for p in check(new, old)]
        if mode.startswith(("FORWARD", "FULL")):
            messages += [f"{label} cannot read new: {p}" for p in check(old, new)]
    return CompatResult(not messages, messages)


def _label(i: int) -> str:
    return "the previous version" if i == 0 else f"version -{i + 1}"


def check_files(fmt: str, mode: str, new: Path, olds: list[Path]) -> CompatResult:
    """``compatibility`` of schema files; an unreadable or invalid file is an error naming it."""
    _format(fmt)  # an unknown format is reported before any file is read
    paths = [new, *olds]
    docs = [_read(fmt, p) for p in paths]
    return compatibility(fmt, mode, docs[0], docs[1:], sources=[str(p) for p in paths])


def _read(fmt: str, path: Path) -> Any:
    if not path.is_file():
        raise HeadwaterError(f"{path} does not exist", fix="give the paths of the schema files")
    if fmt == "headwater":
        from headwater.contracts.loader import load_contract
        return load_contract(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidSchema("the file is not UTF-8 text", source=str(path), fix="save it as UTF-8 JSON") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        if fmt == "avro" and text.strip().isidentifier():
            return text.strip()
        what = "an .avsc document" if fmt == "avro" else "a JSON Schema document"
        raise InvalidSchema(f"not JSON: {exc.msg} (column {exc.colno})", source=str(path), line=exc.lineno,
                            fix=f"give {what}") from None
