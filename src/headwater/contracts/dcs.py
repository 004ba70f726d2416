"""Import the Data Contract Specification (1.x, e.g. 1.2.0) as headwater contracts (one per model)."""

from __future__ import annotations

import re
from typing import Any

from headwater.contracts.model import Contract
from headwater.contracts.odcs import _ident, threshold_sql
from headwater.errors import HeadwaterError

_TYPES = {"string": "string", "text": "string", "varchar": "string", "long": "long", "bigint": "long",
          "integer": "int", "int": "int", "float": "float", "double": "double", "number": "double",
          "numeric": "double", "boolean": "boolean", "timestamp": "timestamptz", "timestamp_tz": "timestamptz",
          "timestamp_ntz": "timestamp", "date": "date", "bytes": "binary", "null": "string"}


def import_dcs(doc: dict, model: str | None = None) -> Contract:
    models = doc.get("models") or {}
    if not models:
        raise HeadwaterError("the data contract has no models", fix="add 'models:' with fields")
    name = model or next(iter(models))
    if name not in models:
        raise HeadwaterError(f"no model {name!r}", fix=f"use one of {', '.join(models)}")
    spec = models[name]
    info = doc.get("info") or {}
    defs = doc.get("definitions") or {}
    columns, pk = [], list(spec.get("primaryKey") or [])
    for fname, field in (spec.get("fields") or {}).items():
        field = _deref(field, defs)
        columns.append(_column(fname, field, name, defs))
        if field.get("primaryKey") and fname not in pk:
            pk.append(fname)
    rules = [r for q in spec.get("quality") or [] for r in _quality(q, name)]
    data: dict[str, Any] = {"product": _ident(name), "version": str(info.get("version", "1.0.0")),
                            "description": str(spec.get("description") or info.get("description") or "").strip(),
                            "columns": columns, "rules": rules,
                            "extensions": {"dcs": {"id": doc.get("id"), "info": info, "model": name}}}
    if info.get("owner"):
        data["owner"] = {"team": str(info["owner"]),
                         **({"contact": str((info.get("contact") or {}).get("email") or (info.get("contact") or {}).get("url"))}
                            if info.get("contact") else {})}
    if pk:
        data["primary_key"] = pk
    return Contract.model_validate(data)


def _deref(field: dict, defs: dict) -> dict:
    ref = field.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/definitions/"):
        base = defs.get(ref.split("/")[-1], {})
        return {**base, **{k: v for k, v in field.items() if k != "$ref"}}
    return field


def _type(field: dict, defs: dict) -> str:
    t = str(field.get("type", "string")).lower()
    if t in ("decimal", "numeric") and field.get("precision"):
        return f"decimal({field['precision']},{field.get('scale', 0)})"
    if t == "array":
        items = _deref(field.get("items") or {}, defs)
        return f"list<{_type(items, defs)}>"
    if t in ("object", "record", "struct"):
        fields = field.get("fields") or {}
        if not fields:
            return "string"
        return "struct<" + ", ".join(f"{n}: {_type(_deref(f, defs), defs)}" for n, f in fields.items()) + ">"
    if t == "map":
        return f"map<string, {_type(_deref(field.get('values') or {}, defs), defs)}>"
    return _TYPES.get(t, "string")


def _column(name: str, field: dict, model: str, defs: dict) -> dict[str, Any]:
    col: dict[str, Any] = {"name": name, "type": _type(field, defs)}
    if field.get("required"):
        col["nullable"] = False
    if field.get("unique") and not field.get("primaryKey"):
        col["unique"] = True
    if field.get("description"):
        col["description"] = str(field["description"]).strip()
    if field.get("pii") or str(field.get("classification", "")).lower() in ("sensitive", "restricted", "pii"):
        col["pii"] = True
    checks: list[dict[str, Any]] = []
    if field.get("enum"):
        checks.append({"accepted_values": list(field["enum"])})
    if field.get("pattern"):
        checks.append({"pattern": field["pattern"]})
    if field.get("format") == "email":
        checks.append({"pattern": r"[^@\s]+@[^@\s]+\.[^@\s]+", "id": f"{name}.email"})
    if "minLength" in field or "maxLength" in field:
        checks.append({"length": {k: field[f"{k}Length"] for k in ("min", "max") if f"{k}Length" in field}})
    bounds = {k: field[f"{k}imum"] for k in ("min", "max") if f"{k}imum" in field}
    if bounds:
        checks.append({"range": bounds})
    ex = {k: field[f"exclusive{k.title()}imum"] for k in ("min", "max") if f"exclusive{k.title()}imum" in field}
    if ex:
        checks.append({"range": {**ex, "exclusive": True}})
    if field.get("references"):
        product, _, key = str(field["references"]).partition(".")
        checks.append({"references": {"product": _ident(product), "key": [key or name]}})
    for q in field.get("quality") or []:
        checks += _quality(q, model)
    if checks:
        col["checks"] = checks
    return col


def _quality(q: dict, model: str) -> list[dict[str, Any]]:
    if q.get("type") != "sql" or not q.get("query"):
        return []  # text (human-readable) and engine-specific checks have no headwater form
    desc = {"description": re.sub(r"\s+", " ", q["description"]).strip()} if q.get("description") else {}
    return [{"sql": threshold_sql(q["query"], model, q), "severity": "block", **desc}]
