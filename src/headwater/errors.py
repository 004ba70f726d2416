"""The one exception root of headwater.

    HeadwaterError                      every error headwater raises on purpose
    ├── SpecError                       a project, product or contract file is wrong (file:line, key, fix)
    │   ├── SpecErrors                  several SpecErrors found in one pass
    │   └── InvalidSchema               an Avro or JSON Schema document is not valid (contracts/compat)
    ├── ImportProblem                   an ODCS/DCS document cannot be imported (contracts/interop)
    ├── NotFoundError                   a product, run, snapshot or table that does not exist
    ├── StorageError                    the catalog or a table could not be read or written
    ├── LedgerError                     the run ledger could not be read or written
    ├── EngineError                     the engine rejected a query (bad SQL, type error)
    ├── RunFailed                       a product step failed (the cause is chained)
    └── TransientError                  worth retrying (lock held, connection dropped)

Outcomes about data (a contract rule failing, an SLO breached) are result objects, never
exceptions. Each error carries a ``fix``: what the user should do next.
"""

from __future__ import annotations

from dataclasses import dataclass


class HeadwaterError(Exception):
    """Base of every error headwater raises on purpose."""

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return self.message if not self.fix else f"{self.message}\n  fix: {self.fix}"

    def to_dict(self) -> dict:
        return {"error": type(self).__name__, "message": self.message, "fix": self.fix}


class TransientError(HeadwaterError):
    """Something that may succeed when tried again (a lock held, a connection dropped)."""


class NotFoundError(HeadwaterError):
    """A product, run, snapshot or table that does not exist."""


class StorageError(HeadwaterError):
    """The Iceberg catalog or a table could not be read or written."""


class LedgerError(HeadwaterError):
    """The run ledger could not be read or written."""


class EngineError(HeadwaterError):
    """The engine rejected a query."""


class RunFailed(HeadwaterError):
    """A product step failed; the cause is chained."""


@dataclass(frozen=True)
class Location:
    """Where in the project a problem is: a file, a line (1-based) and a dotted key."""

    file: str
    line: int | None = None
    key: str | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return where if not self.key else f"{where}: {self.key}"


class SpecError(HeadwaterError):
    """A problem in a project file, with where it is and how to fix it."""

    def __init__(self, message: str, *, location: Location, fix: str | None = None) -> None:
        super().__init__(message, fix=fix)
        self.location = location

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}"
        return text if not self.fix else f"{text}\n  fix: {self.fix}"

    def to_dict(self) -> dict:
        return {
            "error": type(self).__name__,
            "file": self.location.file,
            "line": self.location.line,
            "key": self.location.key,
            "message": self.message,
            "fix": self.fix,
        }


class SpecErrors(SpecError):
    """Every problem found while loading a project, reported together."""

    def __init__(self, errors: list[SpecError]) -> None:
        first = errors[0]
        super().__init__(first.message, location=first.location, fix=first.fix)
        self.errors = errors

    def __str__(self) -> str:
        n = len(self.errors)
        head = f"{n} problem{'s' if n != 1 else ''} in the project:"
        return "\n".join([head, *(f"- {e}" for e in self.errors)])

    def to_dict(self) -> dict:
        return {"error": "SpecErrors", "errors": [e.to_dict() for e in self.errors]}
