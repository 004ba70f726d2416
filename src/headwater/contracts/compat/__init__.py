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

from headwater.errors import HeadwaterError

MODES = ("BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE", "NONE")


@dataclass
class CompatResult:
    compatible: bool
    messages: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"compatible": self.compatible, "messages": self.messages}


def checker(fmt: str) -> Callable[[Any, Any], list]:
    """reader, writer -> incompatibilities, for one format."""
    if fmt == "avro":
        from headwater.contracts.compat.avro import check
        return check
    if fmt == "jsonschema":
        from headwater.contracts.compat.jsonschema import check
        return check
    if fmt == "headwater":
        from headwater.contracts.compat.avro import check
        from headwater.contracts.compat.headwater import to_avro
        return lambda reader, writer: check(to_avro(reader), to_avro(writer))
    raise HeadwaterError(f"unknown format {fmt!r}", fix="use --format avro, jsonschema or headwater")


def compatibility(fmt: str, mode: str, new: Any, previous_newest_first: list[Any]) -> CompatResult:
    """Check ``new`` against the previous versions (newest first) under ``mode``."""
    mode = mode.upper()
    if mode not in MODES:
        raise HeadwaterError(f"unknown compatibility mode {mode!r}", fix=f"use one of {', '.join(MODES)}")
    if mode == "NONE" or not previous_newest_first:
        return CompatResult(True)
    check = checker(fmt)
    olds = previous_newest_first if mode.endswith("_TRANSITIVE") else previous_newest_first[:1]
    messages: list[str] = []
    for i, old in enumerate(olds):
        label = "the previous version" if i == 0 else f"version -{i + 1}"
        if mode.startswith(("BACKWARD", "FULL")):
            messages += [f"new cannot read {label}: {p}" for p in check(new, old)]
        if mode.startswith(("FORWARD", "FULL")):
            messages += [f"{label} cannot read new: {p}" for p in check(old, new)]
    return CompatResult(not messages, messages)


def check_files(fmt: str, mode: str, new: Path, olds: list[Path]) -> CompatResult:
    return compatibility(fmt, mode, _read(fmt, new), [_read(fmt, p) for p in olds])


def _read(fmt: str, path: Path) -> Any:
    if not path.is_file():
        raise HeadwaterError(f"{path} does not exist", fix="give the paths of the schema files")
    if fmt == "headwater":
        from headwater.contracts.loader import load_contract
        return load_contract(path)
    text = path.read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        if fmt == "avro" and text.strip().isidentifier():
            return text.strip()
        raise HeadwaterError(f"{path} is not JSON: {exc}", fix="give an .avsc or JSON Schema document") from exc
