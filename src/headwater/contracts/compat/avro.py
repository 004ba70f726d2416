"""Avro reader/writer compatibility, following the Avro specification's schema resolution.

A reader can read data written with a writer schema when: both are the same primitive; the
writer's type promotes to the reader's (int -> long -> float -> double, string <-> bytes); both
are records with the same name whose every reader field is either in the writer (compatible)
or has a default; enums with the same name whose writer symbols the reader knows (or the
reader has a default symbol); fixed types with the same name and size; arrays and maps with
compatible items/values; a writer union each of whose branches the reader can read; a reader
union with a branch that can read the writer. Names compare unqualified, reader aliases count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PRIMITIVES = ("null", "boolean", "int", "long", "float", "double", "bytes", "string")
PROMOTIONS = {"int": ("long", "float", "double"), "long": ("float", "double"), "float": ("double",),
              "string": ("bytes",), "bytes": ("string",)}


@dataclass(frozen=True)
class Incompatibility:
    kind: str       # type_mismatch, name_mismatch, fixed_size_mismatch, missing_enum_symbols, ...
    location: str   # JSON pointer into the reader schema, as Avro reports it
    message: str

    def __str__(self) -> str:
        return f"{self.kind} at {self.location}: {self.message}"


class Schemas:
    """Resolves named-type references inside one schema document."""

    def __init__(self, schema: Any) -> None:
        self.names: dict[str, dict] = {}
        self._collect(schema, None)

    def _collect(self, s: Any, ns: str | None) -> None:
        if isinstance(s, list):
            for b in s:
                self._collect(b, ns)
        elif isinstance(s, dict):
            t = s.get("type")
            if t in ("record", "error", "enum", "fixed"):
                full = _fullname(s, ns)
                self.names[full] = s
                self.names.setdefault(full.rsplit(".", 1)[-1], s)
                ns = full.rpartition(".")[0] or None
                for f in s.get("fields", []):
                    self._collect(f.get("type"), ns)
            elif t == "array":
                self._collect(s.get("items"), ns)
            elif t == "map":
                self._collect(s.get("values"), ns)
            elif isinstance(t, (dict, list)):
                self._collect(t, ns)

    def resolve(self, s: Any) -> Any:
        if isinstance(s, str) and s not in PRIMITIVES:
            return self.names.get(s, self.names.get(s.rsplit(".", 1)[-1], s))
        if isinstance(s, dict) and isinstance(s.get("type"), (dict, list)):
            return self.resolve(s["type"])
        if isinstance(s, dict) and isinstance(s.get("type"), str) and s["type"] not in PRIMITIVES \
                and s["type"] not in ("record", "error", "enum", "fixed", "array", "map"):
            return self.resolve(s["type"])
        return s


def _fullname(s: dict, ns: str | None) -> str:
    name = s.get("name", "")
    if "." in name:
        return name
    space = s.get("namespace", ns)
    return f"{space}.{name}" if space else name


def kind_of(s: Any) -> str:
    if isinstance(s, list):
        return "union"
    if isinstance(s, str):
        return s
    t = s.get("type")
    return "record" if t == "error" else t


def check(reader: Any, writer: Any) -> list[Incompatibility]:
    """Every reason ``reader`` cannot read data written with ``writer`` (empty: compatible)."""
    return _Checker(Schemas(reader), Schemas(writer)).check(reader, writer, "")


class _Checker:
    def __init__(self, rs: Schemas, ws: Schemas) -> None:
        self.rs, self.ws = rs, ws
        self.seen: set[tuple[int, int]] = set()

    def check(self, reader: Any, writer: Any, loc: str) -> list[Incompatibility]:
        reader, writer = self.rs.resolve(reader), self.ws.resolve(writer)
        key = (id(reader), id(writer))
        if key in self.seen:  # recursive types: assume compatible while checking
            return []
        if isinstance(reader, dict) and isinstance(writer, dict):
            self.seen.add(key)
        rk, wk = kind_of(reader), kind_of(writer)
        if wk == "union" and rk == "union":
            out = []
            for i, branch in enumerate(writer):
                if not any(not self.check(r, branch, loc) for r in reader):
                    out.append(Incompatibility("missing_union_branch", f"{loc}/{i}",
                                               f"reader union lacking writer type: {kind_of(self.ws.resolve(branch)).upper()}"))
            return out
        if wk == "union":
            out = []
            for i, branch in enumerate(writer):
                out += self.check(reader, branch, loc)
            return out
        if rk == "union":
            if any(not self.check(r, writer, loc) for r in reader):
                return []
            return [Incompatibility("missing_union_branch", loc or "/",
                                    f"reader union lacking writer type: {wk.upper()}")]
        if rk != wk:
            if rk in PROMOTIONS.get(wk, ()):
                return []
            return [Incompatibility("type_mismatch", loc or "/",
                                    f"reader type: {rk} not compatible with writer type: {wk}")]
        if rk in PRIMITIVES:
            return []
        if rk == "array":
            return self.check(reader["items"], writer["items"], f"{loc}/items")
        if rk == "map":
            return self.check(reader["values"], writer["values"], f"{loc}/values")
        if not _names_match(reader, writer):
            return [Incompatibility("name_mismatch", f"{loc}/name",
                                    f"expected: {writer.get('name')}")]
        if rk == "fixed":
            if reader.get("size") != writer.get("size"):
                return [Incompatibility("fixed_size_mismatch", f"{loc}/size",
                                        f"expected: {writer.get('size')}, found: {reader.get('size')}")]
            return []
        if rk == "enum":
            missing = [s for s in writer.get("symbols", []) if s not in reader.get("symbols", [])]
            if missing and reader.get("default") is None:
                return [Incompatibility("missing_enum_symbols", f"{loc}/symbols",
                                        f"[{', '.join(missing)}]")]
            return []
        return self._record(reader, writer, loc)

    def _record(self, reader: dict, writer: dict, loc: str) -> list[Incompatibility]:
        by_name = {f["name"]: f for f in writer.get("fields", [])}
        out = []
        for i, field in enumerate(reader.get("fields", [])):
            names = [field["name"], *field.get("aliases", [])]
            match = next((by_name[n] for n in names if n in by_name), None)
            if match is None:
                if "default" not in field:
                    out.append(Incompatibility("reader_field_missing_default_value", f"{loc}/fields/{i}",
                                               field["name"]))
                continue
            out += self.check(field["type"], match["type"], f"{loc}/fields/{i}/type")
        return out


def _names_match(reader: dict, writer: dict) -> bool:
    rname = reader.get("name", "").rsplit(".", 1)[-1]
    wname = writer.get("name", "").rsplit(".", 1)[-1]
    if rname == wname:
        return True
    wfull = _fullname(writer, None)
    return any(a == wfull or a.rsplit(".", 1)[-1] == wname for a in reader.get("aliases", []))
