"""The engine interface. The core asks capabilities (``SUPPORTS_*``), never an engine's name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import pyarrow as pa

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

    from headwater.spec.source import FileSource
    from headwater.storage.lakehouse import ScanPlan


@dataclass(frozen=True)
class InputStats:
    """What a registered input holds: rows, bytes and a fingerprint of its version."""

    name: str
    rows: int | None
    bytes: int
    version: str


class EngineSession(Protocol):
    def register_source(self, name: str, source: FileSource, root: Path) -> InputStats: ...
    def register_plan(self, name: str, plan: ScanPlan) -> InputStats: ...
    def register_arrow(self, name: str, table: pa.Table) -> None: ...
    def footer_null_counts(self, files: Sequence[str], schema: pa.Schema, columns: Iterable[str]) -> dict[str, int]: ...
    def query(self, sql: str) -> pa.Table: ...
    def close(self) -> None: ...


class Engine(Protocol):
    NAME: str
    SUPPORTS_SQL: bool
    SUPPORTS_PYTHON_TRANSFORM: bool
    DIALECT: str

    def session(self) -> EngineSession: ...
