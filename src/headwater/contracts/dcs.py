"""Import the Data Contract Specification (1.x, e.g. 1.2.0) as headwater contracts (one per model).

A document that cannot be read raises ImportProblem naming the key (``import_file`` adds the line).
"""

from __future__ import annotations

import re
from typing import Any

from headwater.contracts.interop import ImportProblem, items, validated
from headwater.contracts.model import Contract
from headwater.contracts.odcs import _ident, check_thresholds, threshold_sql

_TYPES = {"string": "string", "text": "string", "varchar": "string", "long": "long", "bigint": "long",
          "integer": "int", "int": "int", "float": "float", "double": "double", "number": "double",
          "numeric": "double", "boolean": "boolean", "timestamp": "timestamptz", "timestamp_tz": "timestamptz",
          "timestamp_ntz": "timestamp", "date": "date", "bytes": "binary", "null": "string"}


def model_names(doc: Any) -> list[str]:
    """The names of the models of a DCS document, in order."""
    return list(_models(doc))


def import_dcs(doc: dict, model: str | None = None) -> Contract:
    """The headwater contract for one model of a DCS document (default: the first)."""
    models = _models(doc)
    name = model or next(iter(models))
    if name not in models:
        raise ImportProblem(f"no model {name!r}", key=("models",), fix=f"use one of {', '.join(models)}")
    where = ("models", name)
    spec = _mapping(models[name], where)
    info = _mapping(doc.get("info"), ("info",))
    defs = _mapping(doc.get("definitions"), ("definitions",))
    pk = spec.get("primaryKey") or []
    if not isinstance(pk, (str, list)):
        raise ImportProblem("'primaryKey' must be a field name or a list of them", key=(*where, "primaryKey"))
    columns, pk = [], [pk] if isinstance(pk, str) else list(pk)
    fields = _mapping(spec.get("fields"), (*where, "fields"))
    for fname, field in fields.items():
        field = _deref(_mapping(field, (*where, "fields", fname)), defs)
        columns.append(_column(fname, field, name, defs, (*where, "fields", fname)))
        if field.get("primaryKey") and fname not in pk:
            pk.append(fname)
    rules = [r for i, q in enumerate(items(spec, "quality", where)) for r in _quality(q, name, (*where, "quality", i))]
    data: dict[str, Any] = {"product": _ident(name), "version": str(info.get("version", "1.0.0")),
                            "description": str(spec.get("description") or info.get("description") or "").strip(),
                            "columns": columns, "rules": rules,
                            "extensions": {"dcs": {"id": doc.get("id"), "info": info, "model": name}}}
    if info.get("owner"):
        contact = _mapping(info.get("contact"), ("info", "contact"))
        data["owner"] = {"team": str(info["owner"]),
                         **({"contact": str(contact.get("email") or contact.get("url"))} if contact else {})}
    if pk:
        data["primary_key"] = pk
    names = list(fields)
    return validated(data, where, lambda loc: ("info", "version") if loc[:1] == ("version",) else
                     (*where, "fields", names[loc[1]]) if loc[:1] == ("columns",) and len(loc) > 1 else None)


def _models(doc: Any) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise ImportProblem("a data contract is a mapping (dataContractSpecification, id, info, models, ...)",
                            fix="give a DCS 1.x contract; see https://datacontract.com")
    models = _mapping(doc.get("models"), ("models",))
    if not models:
        raise ImportProblem("the data contract has no models", key=("models",), fix="add 'models:' with fields")
    return models


def _mapping(value: Any, where: tuple) -> dict:
    """``value`` if a mapping, {} if absent, else an ImportProblem at ``where``."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ImportProblem(f"{where[-1]!r} must be a mapping, not {type(value).__name__}",
                            key=where, fix="write it as 'name: value' pairs")
    return value


def _deref(field: dict, defs: dict) -> dict:
    ref = field.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/definitions/"):
        base = defs.get(ref.split("/")[-1])
        if not isinstance(base, dict):
            raise ImportProblem(f"$ref {ref!r} names no definition", key=("definitions",),
                                fix="define it under 'definitions:' or correct the $ref")
        return {**base, **{k: v for k, v in field.items() if k != "$ref"}}
    return field


def _type(field: dict, defs: dict, where: tuple) -> str:
    if len(where) > 40:
        raise ImportProblem("the type nests too deeply (a definition that contains itself?)", key=where[:4])
    t = str(field.get("type", "string")).lower()
    if t in ("decimal", "numeric") and field.get("precision"):
        return f"decimal({field['precision']},{field.get('scale', 0)})"
    if t == "array":
        items_ = _deref(_mapping(field.get("items"), (*where, "items")), defs)
        return f"list<{_type(items_, defs, (*where, 'items'))}>"
    if t in ("object", "record", "struct"):
        fields = _mapping(field.get("fields"), (*where, "fields"))
        if not fields:
            return "string"
        parts = []
        for n, f in fields.items():
            at = (*where, "fields", n)
            parts.append(f"{n}: {_type(_deref(_mapping(f, at), defs), defs, at)}")
        return "struct<" + ", ".join(parts) + ">"
    if t == "map":
        values = _deref(_mapping(field.get("values"), (*where, "values")), defs)
        return f"map<string, {_type(values, defs, (*where, 'values'))}>"
    return _TYPES.get(t, "string")


def _column(name: str, field: dict, model: str, defs: dict, where: tuple) -> dict[str, Any]:
    col: dict[str, Any] = {"name": name, "type": _type(field, defs, where)}
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
        if not isinstance(field["enum"], list):
            raise ImportProblem("'enum' must be a list of values", key=(*where, "enum"))
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
    for i, q in enumerate(items(field, "quality", where)):
        checks += _quality(q, model, (*where, "quality", i))
    if checks:
        col["checks"] = checks
    return col


def _quality(q: dict, model: str, where: tuple) -> list[dict[str, Any]]:
    if q.get("type") != "sql" or not q.get("query"):
        return []  # text (human-readable) and engine-specific checks have no headwater form
    check_thresholds(q, where)
    desc = {"description": re.sub(r"\s+", " ", str(q["description"])).strip()} if q.get("description") else {}
    return [{"sql": threshold_sql(q["query"], model, q), "severity": "block", **desc}]
