"""JSON Schema compatibility with Schema Registry's rules (open, closed and partially open
content models).

``check(reader, writer)`` lists why data valid under ``writer`` may be invalid under ``reader``
(BACKWARD: reader = the new schema). An object (or tuple array) is *open* when it admits any
extra property (no ``additionalProperties: false``), *closed* when it admits none, *partially
open* when extra properties must match ``patternProperties`` or an ``additionalProperties``
schema. Adding a constrained property to an open model is incompatible (old data may already
carry it with any value); removing one from a closed model is too; a partially open model
covers an added or removed property when the covering schema is compatible.
"""

from __future__ import annotations

import re
from typing import Any

from headwater.contracts.compat.avro import Incompatibility

_ANY: dict = {}
_NUMERIC = ("integer", "number")


def check(reader: Any, writer: Any) -> list[Incompatibility]:
    return _Diff(reader, writer).diff(writer, reader, "#/")


class _Diff:
    def __init__(self, reader: Any, writer: Any) -> None:
        self.roots = (writer, reader)
        self.seen: set[tuple[int, int]] = set()

    def _resolve(self, s: Any, root: Any) -> Any:
        hops = 0
        while isinstance(s, dict) and "$ref" in s and isinstance(s["$ref"], str) and s["$ref"].startswith("#") \
                and hops < 32:
            node = root
            for part in s["$ref"].lstrip("#").strip("/").split("/"):
                if part:
                    node = node.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(node, dict) else {}
            rest = {k: v for k, v in s.items() if k != "$ref"}
            if isinstance(node, bool):  # a $ref to a boolean schema
                node = {} if node else {"not": {}}
            s = {**node, **rest} if rest and isinstance(node, dict) else node
            hops += 1
        if s is True:
            return {}
        if s is False:
            return {"not": {}}
        return s if isinstance(s, dict) else {}

    def diff(self, old: Any, new: Any, path: str) -> list[Incompatibility]:
        o, n = self._resolve(old, self.roots[0]), self._resolve(new, self.roots[1])
        key = (id(o), id(n))
        if key in self.seen:
            return []
        self.seen.add(key)
        out: list[Incompatibility] = []
        meta = ("title", "description", "$schema", "$id", "id", "default", "examples", "$comment",
                "definitions", "$defs")
        if not {k for k in n if k not in meta}:
            return []  # anything can change to the empty schema
        if not {k for k in o if k not in meta}:
            return [_bad("TYPE_NARROWED", path, "an unconstrained schema became constrained")]
        o, n = _single(o), _single(n)
        if self._combined(o, n, path, out):
            return out
        if "not" in o or "not" in n:
            if "not" in o and "not" in n:
                if self.diff(n["not"], o["not"], path + "not/"):
                    out.append(_bad("NOT_TYPE_EXTENDED", path + "not", "the excluded schema grew"))
            elif "not" in n:
                out.append(_bad("NOT_TYPE_ADDED", path + "not", "a 'not' constraint was added"))
        self._types(o, n, path, out)
        self._enum(o, n, path, out)
        self._limits(o, n, path, out)
        self._object(o, n, path, out)
        self._array(o, n, path, out)
        return out

    # combined types (oneOf / anyOf / allOf) --------------------------------
    def _combined(self, o: dict, n: dict, path: str, out: list) -> bool:
        ok_, nk = _combiner(o), _combiner(n)
        if ok_ is None and nk is None:
            return False
        if ok_ is None:  # a plain schema became a combination
            branches = n[nk]
            if nk == "allOf":
                bad = [b for b in branches if self.diff(o, b, path)]
                if bad:
                    out.append(_bad("PRODUCT_TYPE_EXTENDED", path + nk, "an added allOf member constrains old data"))
            elif not any(not self.diff(o, b, path) for b in branches):
                out.append(_bad("COMBINED_TYPE_CHANGED", path + nk, "no branch accepts the old schema"))
            return True
        if nk is None:  # a combination became a plain schema
            branches = o[ok_]
            if ok_ == "allOf":
                if not any(not self.diff(b, n, path) for b in branches):
                    out.append(_bad("PRODUCT_TYPE_NARROWED", path, "the new schema rejects old data"))
            elif len(branches) != 1 or self.diff(branches[0], n, path):
                if any(self.diff(b, n, path) for b in branches):
                    out.append(_bad("SUM_TYPE_NARROWED", path, "old branches are no longer accepted"))
            return True
        if ok_ != nk and not (ok_ == "oneOf" and nk == "anyOf"):
            out.append(_bad("COMBINED_TYPE_CHANGED", path, f"{ok_} became {nk}"))
            return True
        ob, nb = o[ok_], n[nk]
        if nk == "allOf":
            if len(nb) > len(ob) or any(not any(not self.diff(x, y, path) for x in ob) for y in nb):
                out.append(_bad("PRODUCT_TYPE_EXTENDED", path + nk, "allOf gained constraints"))
            return True
        for i, branch in enumerate(ob):
            if not any(not self.diff(branch, b, f"{path}{nk}/{i}/") for b in nb):
                out.append(_bad("SUM_TYPE_NARROWED", f"{path}{nk}/{i}", "an old branch is no longer accepted"))
        return True

    # keywords ------------------------------------------------------------
    def _types(self, o: dict, n: dict, path: str, out: list) -> None:
        if "type" not in n:
            return
        new = set(_as_list(n["type"]))
        old = set(_as_list(o["type"])) if "type" in o else {"null", "boolean", "object", "array", "number",
                                                           "string", "integer"}
        missing = [t for t in old if t not in new and not (t == "integer" and "number" in new)]
        if missing:
            kind = "TYPE_NARROWED" if new < old or (new & old) else "TYPE_CHANGED"
            out.append(_bad(kind, path + "type", f"{sorted(old)} -> {sorted(new)}"))

    def _enum(self, o: dict, n: dict, path: str, out: list) -> None:
        for kw in ("enum", "const"):
            if kw in n:
                new = _as_list(n[kw]) if kw == "enum" else [n[kw]]
                if kw not in o:
                    out.append(_bad(f"{kw.upper()}_ADDED" if kw == "const" else "ENUM_ARRAY_NARROWED", path + kw,
                                    f"{kw} added"))
                    continue
                old = _as_list(o[kw]) if kw == "enum" else [o[kw]]
                if any(v not in new for v in old):
                    out.append(_bad("ENUM_ARRAY_NARROWED" if kw == "enum" else "CONST_CHANGED", path + kw,
                                    f"values removed: {[v for v in old if v not in new]}"))

    def _limits(self, o: dict, n: dict, path: str, out: list) -> None:
        uppers = ("maxLength", "maximum", "exclusiveMaximum", "maxItems", "maxProperties", "maxContains")
        lowers = ("minLength", "minimum", "exclusiveMinimum", "minItems", "minProperties", "minContains")
        for kw in uppers + lowers:
            if kw not in n or isinstance(n[kw], bool):
                continue
            if kw not in o or isinstance(o[kw], bool):
                out.append(_bad(_snake(kw) + "_ADDED", path + kw, f"{kw} added"))
            elif (kw in uppers and n[kw] < o[kw]) or (kw in lowers and n[kw] > o[kw]):
                out.append(_bad(_snake(kw) + ("_DECREASED" if kw in uppers else "_INCREASED"), path + kw,
                                f"{kw} {o[kw]} -> {n[kw]}"))
        if "pattern" in n and n.get("pattern") != o.get("pattern"):
            out.append(_bad("PATTERN_ADDED" if "pattern" not in o else "PATTERN_CHANGED", path + "pattern",
                            "pattern added or changed"))
        if "multipleOf" in n:
            old = o.get("multipleOf")
            if old is None:
                out.append(_bad("MULTIPLE_OF_ADDED", path + "multipleOf", "multipleOf added"))
            elif old != n["multipleOf"] and (old / n["multipleOf"]) % 1:
                out.append(_bad("MULTIPLE_OF_CHANGED", path + "multipleOf", f"{old} -> {n['multipleOf']}"))
        if n.get("uniqueItems") is True and o.get("uniqueItems") is not True:
            out.append(_bad("UNIQUE_ITEMS_ADDED", path + "uniqueItems", "uniqueItems added"))

    def _object(self, o: dict, n: dict, path: str, out: list) -> None:
        op, np_ = o.get("properties", {}), n.get("properties", {})
        for name, schema in op.items():
            p = f"{path}properties/{name}/"
            if name in np_:
                out += self.diff(schema, np_[name], p)
            else:
                cover = _cover(n, name)
                if cover is not None and not (cover == {"not": {}} or cover is False):
                    out += [_bad("PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", p, i.message)
                            for i in self.diff(schema, cover, p)[:1]]
                elif cover is not None and schema is not False and self._resolve(schema, self.roots[0]) != {"not": {}}:
                    out.append(_bad("PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL", p, f"{name} removed"))
        required_new = set(n.get("required", [])) - set(o.get("required", []))
        for name in np_:
            if name in op:
                continue
            p = f"{path}properties/{name}/"
            cover = _cover(o, name)
            if cover is None:  # the old model was open: old data may hold anything under this name
                if self._resolve(np_[name], self.roots[1]) != {}:
                    out.append(_bad("OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL", p, f"{name} added"))
            elif cover == {"not": {}} or cover is False:
                if name in required_new:
                    out.append(_bad("REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL", p, f"{name} added, required"))
            elif name in required_new:
                out.append(_bad("REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL", p, f"{name} added, required"))
            elif self.diff(cover, np_[name], p):
                out.append(_bad("PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", p, f"{name} added"))
        for name in sorted(required_new):
            if name in op and name in np_:
                prop = self._resolve(np_.get(name, {}), self.roots[1])
                if "default" not in prop:
                    out.append(_bad("REQUIRED_ATTRIBUTE_ADDED", path + "required", f"{name} became required"))
        self._content(_extra(o), _extra(n), path + "additionalProperties",
                      "ADDITIONAL_PROPERTIES", out)
        od, nd = o.get("dependencies", o.get("dependentRequired", {})), n.get("dependencies", n.get("dependentRequired", {}))
        nd = {**nd, **n.get("dependentSchemas", {})}
        od = {**od, **o.get("dependentSchemas", {})}
        for name, dep in nd.items():
            if name not in od:
                out.append(_bad("DEPENDENCY_ADDED", path + "dependencies", f"{name} dependency added"))
            elif isinstance(dep, list):
                if set(dep) - set(od[name] if isinstance(od[name], list) else []):
                    out.append(_bad("DEPENDENCY_ARRAY_EXTENDED", path + "dependencies", name))
            else:
                out += self.diff(od[name], dep, f"{path}dependencies/{name}/")

    def _content(self, old: Any, new: Any, path: str, what: str, out: list) -> None:
        if new is None or new is True:
            return
        if new is False:
            if old is not False:
                out.append(_bad(f"{what}_REMOVED", path, "extra content is no longer allowed"))
            return
        if old is None or old is True:
            if self._resolve(new, self.roots[1]) != {}:
                out.append(_bad(f"{what}_NARROWED", path, "extra content is now constrained"))
            return
        if old is False:
            return
        if self.diff(old, new, path + "/"):
            out.append(_bad(f"{what}_NARROWED", path, "extra content schema narrowed"))

    def _array(self, o: dict, n: dict, path: str, out: list) -> None:
        oi, ni = _tuple(o), _tuple(n)
        if oi is None and ni is None:
            if isinstance(n.get("items"), (dict, bool)) and "items" in n:
                out += self.diff(o.get("items", {}), n["items"], path + "items/")
            self._content(o.get("additionalItems"), n.get("additionalItems"), path + "additionalItems",
                          "ADDITIONAL_ITEMS", out)
            return
        oi, ni = oi or [], ni or []
        o_rest, n_rest = _rest(o), _rest(n)
        for i in range(max(len(oi), len(ni))):
            p = f"{path}items/{i}/"
            if i < len(oi) and i < len(ni):
                out += self.diff(oi[i], ni[i], p)
            elif i < len(oi):  # removed: now covered by the new model's rest
                if n_rest is False:
                    if self._resolve(oi[i], self.roots[0]) != {"not": {}}:
                        out.append(_bad("ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL", p, "item removed"))
                elif n_rest not in (None, True) and self.diff(oi[i], n_rest, p):
                    out.append(_bad("ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", p, "item removed"))
            else:  # added: old data may hold anything the old rest allowed
                if o_rest in (None, True):
                    if self._resolve(ni[i], self.roots[1]) != {}:
                        out.append(_bad("ITEM_ADDED_TO_OPEN_CONTENT_MODEL", p, "item added"))
                elif o_rest is not False and self.diff(o_rest, ni[i], p):
                    out.append(_bad("ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", p, "item added"))
        self._content(o_rest, n_rest, path + "additionalItems", "ADDITIONAL_ITEMS", out)


def _combiner(s: dict) -> str | None:
    return next((k for k in ("oneOf", "anyOf", "allOf") if k in s), None)


def _tuple(s: dict) -> list | None:
    if "prefixItems" in s:
        return s["prefixItems"]
    return s["items"] if isinstance(s.get("items"), list) else None


def _rest(s: dict) -> Any:
    if "prefixItems" in s:
        return s.get("items", s.get("unevaluatedItems"))
    return s.get("additionalItems", s.get("unevaluatedItems"))


def _extra(s: dict) -> Any:
    return s.get("additionalProperties", s.get("unevaluatedProperties"))


def _single(s: dict) -> dict:
    """A oneOf/anyOf/allOf of a single (possibly repeated) subschema is that subschema."""
    kind = _combiner(s)
    if kind is None or not isinstance(s[kind], list):
        return s
    unique = []
    for b in s[kind]:
        if b not in unique:
            unique.append(b)
    if len(unique) != 1 or not isinstance(unique[0], dict):
        return s if len(unique) == len(s[kind]) else {**s, kind: unique}
    rest = {k: v for k, v in s.items() if k != kind}
    return {**rest, **unique[0]}


def _cover(s: dict, name: str) -> Any:
    """The schema that governs an undeclared property ``name`` (None: open, anything goes)."""
    for pattern, schema in s.get("patternProperties", {}).items():
        if re.search(pattern, name):
            return schema if schema is not True else {}
    extra = _extra(s)
    if extra is None or extra is True:
        return None
    return {"not": {}} if extra is False else extra


def _as_list(v: Any) -> list:
    return v if isinstance(v, list) else [v]


def _snake(kw: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", kw).upper()


def _bad(kind: str, path: str, message: str) -> Incompatibility:
    return Incompatibility(kind.lower(), path, message)
