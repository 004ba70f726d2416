"""Whether an Avro schema is valid at all, as Avro's parser (and so Schema Registry) decides.

Checked: every schema is a type name, a JSON object with a ``type`` or a union array; type names
are primitives or named types defined earlier in the document; records, enums and fixed types
have valid names, defined once; records list fields with unique names; enums list unique, valid
symbols; fixed types have a size; arrays have ``items`` and maps ``values``; unions hold no union
and no two branches of one kind; every default matches its type (a union's default its first
branch). Logical types are not checked: Avro falls back to the underlying type.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from headwater.contracts.compat import InvalidSchema
from headwater.contracts.compat.avro import PRIMITIVES, _fullname

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_NAMED = ("record", "error", "enum", "fixed")
_INT32, _INT64 = 2**31, 2**63
_FIX = "see https://avro.apache.org/docs/1.12.0/specification/ for how to write it"


def validate(schema: Any, source: str = "the schema") -> None:
    """Raise InvalidSchema (naming ``source`` and a JSON pointer) unless ``schema`` is valid Avro."""
    parser = _Parser(source)
    parser.parse(schema, None, "")
    for default, schema_, ns, ptr in parser.defaults:
        problem = parser.default_problem(default, schema_, ns)
        if problem:
            parser.fail(ptr, f"the default {_show(default)} does not match the field's type: {problem}",
                        "give a default of the field's type (for a union, of its first branch), or none")


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.names: dict[str, dict] = {}
        self.defaults: list[tuple[Any, Any, str | None, str]] = []

    def fail(self, ptr: str, message: str, fix: str = _FIX) -> None:
        raise InvalidSchema(f"invalid Avro schema: {message}", source=self.source, pointer=ptr or "/", fix=fix)

    def parse(self, s: Any, ns: str | None, ptr: str) -> None:
        if isinstance(s, str):
            self.lookup(s, ns, ptr)
        elif isinstance(s, list):
            self.union(s, ns, ptr)
        elif isinstance(s, dict):
            self.complex(s, ns, ptr)
        else:
            self.fail(ptr, f"a schema is a type name, a JSON object or a union array, not {_show(s)}")

    def lookup(self, name: str, ns: str | None, ptr: str) -> Any:
        if name in PRIMITIVES:
            return name
        found = self.resolve(name, ns)
        if found is None:
            named = f"; named types defined so far: {', '.join(sorted(self.names))}" if self.names else ""
            self.fail(ptr, f"unknown type {name!r}",
                      f"use a primitive ({', '.join(PRIMITIVES)}) or a named type defined before this point"
                      + named)
        return found

    def resolve(self, name: str, ns: str | None) -> dict | None:
        candidates = [name] if "." in name else ([f"{ns}.{name}"] if ns else []) + [name]
        return next((self.names[c] for c in candidates if c in self.names), None)

    def union(self, branches: list, ns: str | None, ptr: str) -> None:
        seen: dict[str, int] = {}
        for i, branch in enumerate(branches):
            if isinstance(branch, list):
                self.fail(f"{ptr}/{i}", "a union cannot directly contain another union",
                          "list the inner union's branches in the outer union")
            self.parse(branch, ns, f"{ptr}/{i}")
            key = self.branch_key(branch, ns)
            if key in seen:
                self.fail(f"{ptr}/{i}", f"the union has two {key} branches (at {seen[key]} and {i})",
                          "keep one branch of each type (named types need different names)")
            seen[key] = i

    def branch_key(self, s: Any, ns: str | None) -> str:
        if isinstance(s, dict):
            t = s.get("type")
            if t in _NAMED:
                return _fullname(s, ns)
            return self.branch_key(t, ns)
        named = self.resolve(s, ns) if s not in PRIMITIVES else None
        return _fullname(named, None) if named is not None else s

    def complex(self, s: dict, ns: str | None, ptr: str) -> None:
        if "type" not in s:
            self.fail(ptr, "a schema object needs a 'type'", "add \"type\": \"record\" (or another type)")
        t = s["type"]
        if not isinstance(t, str):
            self.fail(f"{ptr}/type", f"'type' of a schema object must be a type name, not {_show(t)}",
                      "write {\"type\": \"record\", ...}, or put the inner schema directly where it is used")
        if t in _NAMED:
            self.named(s, t, ns, ptr)
        elif t == "array":
            self.need(s, "items", ptr)
            self.parse(s["items"], ns, f"{ptr}/items")
        elif t == "map":
            self.need(s, "values", ptr)
            self.parse(s["values"], ns, f"{ptr}/values")
        else:
            self.lookup(t, ns, f"{ptr}/type")

    def need(self, s: dict, key: str, ptr: str) -> None:
        if key not in s:
            self.fail(ptr, f"a {s['type']} schema needs {key!r}", f"add \"{key}\" to the {s['type']} schema")

    def named(self, s: dict, t: str, ns: str | None, ptr: str) -> None:
        name = s.get("name")
        if not isinstance(name, str) or not name:
            self.fail(f"{ptr}/name", f"a {t} needs a 'name'", f"add \"name\" to the {t}")
        space = s.get("namespace")
        if space is not None and not isinstance(space, str):
            self.fail(f"{ptr}/namespace", f"'namespace' must be a string, not {_show(space)}")
        full = _fullname(s, ns)
        for part in full.split("."):
            if not _NAME.match(part):
                self.fail(f"{ptr}/name", f"{full!r} is not a valid name (parts start with a letter or _, "
                          "then letters, digits or _)")
        if full in self.names or full in PRIMITIVES:
            self.fail(f"{ptr}/name", f"the name {full!r} is defined twice", "give each named type its own name")
        self.names[full] = s
        self.strings(s, "aliases", ptr)
        inner = full.rpartition(".")[0] or None
        if t == "enum":
            self.enum(s, ptr)
        elif t == "fixed":
            size = s.get("size")
            if isinstance(size, bool) or not isinstance(size, int) or size < 0:
                self.fail(f"{ptr}/size", f"a fixed type needs a 'size' of 0 or more bytes, not {_show(size)}")
        else:
            self.record(s, inner, ptr)

    def enum(self, s: dict, ptr: str) -> None:
        symbols = s.get("symbols")
        if not isinstance(symbols, list):
            self.fail(f"{ptr}/symbols", "an enum needs a 'symbols' list", "add \"symbols\": [\"A\", \"B\"]")
        for i, sym in enumerate(symbols):
            if not isinstance(sym, str) or not _NAME.match(sym):
                self.fail(f"{ptr}/symbols/{i}", f"enum symbol {_show(sym)} is not a valid name")
            if sym in symbols[:i]:
                self.fail(f"{ptr}/symbols/{i}", f"enum symbol {sym!r} is listed twice", "list each symbol once")
        if "default" in s and s["default"] not in symbols:
            self.fail(f"{ptr}/default", f"the enum default {_show(s['default'])} is not one of its symbols")

    def record(self, s: dict, ns: str | None, ptr: str) -> None:
        fields = s.get("fields")
        if not isinstance(fields, list):
            self.fail(f"{ptr}/fields", "a record needs a 'fields' list", "add \"fields\": [] with the fields")
        seen: set[str] = set()
        for i, f in enumerate(fields):
            fptr = f"{ptr}/fields/{i}"
            if not isinstance(f, dict):
                self.fail(fptr, f"a field is a JSON object with a name and a type, not {_show(f)}")
            name = f.get("name")
            if not isinstance(name, str) or not _NAME.match(name):
                self.fail(f"{fptr}/name", f"field name {_show(name)} is not a valid name")
            if name in seen:
                self.fail(f"{fptr}/name", f"field {name!r} is declared twice", "give every field its own name")
            seen.add(name)
            if "type" not in f:
                self.fail(fptr, f"field {name!r} has no 'type'", "add \"type\" to the field")
            self.parse(f["type"], ns, f"{fptr}/type")
            self.strings(f, "aliases", fptr)
            if f.get("order", "ascending") not in ("ascending", "descending", "ignore"):
                self.fail(f"{fptr}/order", f"order {_show(f['order'])} is not ascending, descending or ignore")
            if "default" in f:
                self.defaults.append((f["default"], f["type"], ns, f"{fptr}/default"))

    def strings(self, s: dict, key: str, ptr: str) -> None:
        value = s.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(f"{ptr}/{key}", f"{key!r} must be a list of names")

    def default_problem(self, value: Any, s: Any, ns: str | None) -> str | None:
        """Why ``value`` is not a valid default for schema ``s`` (None: it is)."""
        if isinstance(s, list):
            return self.default_problem(value, s[0], ns) if s else "an empty union has no default"
        if isinstance(s, str):
            s = s if s in PRIMITIVES else self.resolve(s, ns)
        if isinstance(s, dict):
            t = s["type"]
            if t not in _NAMED and t not in ("array", "map"):
                return self.default_problem(value, t, ns)
            if t in _NAMED:
                ns = _fullname(s, ns).rpartition(".")[0] or None
        kind = s if isinstance(s, str) else ("record" if s["type"] == "error" else s["type"])
        ok = {"null": value is None, "boolean": isinstance(value, bool),
              "int": _integer(value) and -_INT32 <= value < _INT32,
              "long": _integer(value) and -_INT64 <= value < _INT64,
              "float": _number(value), "double": _number(value),
              "string": isinstance(value, str), "bytes": isinstance(value, str)}
        if kind in ok:
            return None if ok[kind] else f"expected {kind}"
        if kind == "enum":
            return None if value in s.get("symbols", []) else f"expected one of {s.get('symbols')}"
        if kind == "fixed":
            return None if isinstance(value, str) and len(value) == s["size"] else \
                f"expected a string of {s['size']} bytes"
        if kind == "array":
            if not isinstance(value, list):
                return "expected an array"
            return next((p for v in value if (p := self.default_problem(v, s["items"], ns))), None)
        if kind == "map":
            if not isinstance(value, dict):
                return "expected an object"
            return next((p for v in value.values() if (p := self.default_problem(v, s["values"], ns))), None)
        if not isinstance(value, dict):
            return f"expected an object for record {s['name']}"
        for f in s["fields"]:
            if f["name"] in value:
                if problem := self.default_problem(value[f["name"]], f["type"], ns):
                    return f"field {f['name']}: {problem}"
            elif "default" not in f:
                return f"field {f['name']} is missing and has no default"
        return None


def _integer(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _number(v: Any) -> bool:
    if isinstance(v, str):
        return v in ("NaN", "Infinity", "-Infinity")
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _show(v: Any) -> str:
    text = json.dumps(v) if not isinstance(v, float) or math.isfinite(v) else str(v)
    kind = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(type(v))
    kind = kind or ("a number" if isinstance(v, (int, float)) else type(v).__name__)
    return text if len(text) <= 40 else kind
