"""Open Data Contract Standard v3: import a schema object as a headwater contract, export back.

What headwater models (columns, types, nullability, keys, PII, rules) is mapped both ways; the
rest of the document (servers, team, SLAs, pricing, every unmapped property key) is kept under
``extensions.odcs`` so that exporting an imported contract gives the same document back, with
headwater's edits applied to the parts it owns.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from headwater.contracts.model import Contract
from headwater.contracts.types import parse_type, type_name
from headwater.errors import HeadwaterError

EMBED = "headwaterContract"
_PII = {"restricted", "confidential", "pii", "sensitive", "secret"}
_LOGICAL = {"string": "string", "date": "date", "timestamp": "timestamptz", "time": "time",
            "integer": "long", "number": "double", "boolean": "boolean"}
_OPS = {"mustBe": "=", "mustNotBe": "<>", "mustBeGreaterThan": ">", "mustBeGreaterOrEqualTo": ">=",
        "mustBeLessThan": "<", "mustBeLessOrEqualTo": "<="}


def import_odcs(doc: dict, schema: str | None = None) -> Contract:
    """The headwater contract for one schema object of an ODCS v3 document."""
    objects = doc.get("schema") or []
    if not objects:
        raise HeadwaterError("the ODCS document has no 'schema' objects", fix="add a schema object with properties")
    index = 0
    if schema is not None:
        names = [o.get("name") for o in objects]
        if schema not in names:
            raise HeadwaterError(f"no schema object {schema!r}", fix=f"use one of {', '.join(map(str, names))}")
        index = names.index(schema)
    obj = objects[index]
    embedded = next((p.get("value") for p in doc.get("customProperties") or [] if p.get("property") == EMBED), None)
    if embedded is not None:
        native = Contract.model_validate(embedded)
        fresh = export_odcs(native)
        if _semantics(fresh, fresh["schema"][0]) == _semantics(doc, obj):
            return native  # the ODCS parts were not edited since headwater exported them
    return Contract.model_validate({**_semantics(doc, obj), "extensions": {"odcs": copy.deepcopy(doc), "odcs_schema": index}})


def _semantics(doc: dict, obj: dict) -> dict[str, Any]:
    table = obj.get("name") or "batch"
    columns, pk = [], []
    for prop in obj.get("properties") or []:
        columns.append(_column(prop, table))
        if prop.get("primaryKey"):
            pk.append((prop.get("primaryKeyPosition") or 0, prop["name"]))
    rules = [r for q in obj.get("quality") or [] for r in _rules(q, None, table)]
    for rel in obj.get("relationships") or []:
        if rel.get("type", "foreignKey") == "foreignKey" and isinstance(rel.get("from"), list):
            to = rel["to"]
            rules.append({"references": {"product": to[0].split(".")[0],
                                         "columns": [f.split(".")[-1] for f in rel["from"]],
                                         "key": [t.split(".")[-1] for t in to]}})
    out: dict[str, Any] = {"product": _ident(doc.get("dataProduct") or doc.get("name") or table),
                           "version": str(doc.get("version", "1.0.0")),
                           "status": {"active": "active", "deprecated": "deprecated", "retired": "retired"}
                           .get(str(doc.get("status", "active")).lower(), "active"),
                           "columns": columns, "rules": rules}
    desc = obj.get("description") or (doc.get("description") or {}).get("purpose") \
        if isinstance(doc.get("description"), dict) else obj.get("description") or doc.get("description")
    if desc:
        out["description"] = str(desc).strip()
    if pk:
        out["primary_key"] = [n for _, n in sorted(pk)]
    if out["status"] == "deprecated":
        out["deprecation"] = {"since": "1970-01-01"}
    return out


def _column(prop: dict, table: str) -> dict[str, Any]:
    col: dict[str, Any] = {"name": prop["name"], "type": _type(prop)}
    if prop.get("required") or prop.get("primaryKey") and prop.get("required") is not False and False:
        col["nullable"] = False
    if prop.get("required"):
        col["nullable"] = False
    if prop.get("unique"):
        col["unique"] = True
    if prop.get("description"):
        col["description"] = str(prop["description"]).strip()
    if str(prop.get("classification", "")).lower() in _PII:
        col["pii"] = True
    checks = []
    opts = prop.get("logicalTypeOptions") or {}
    if "pattern" in opts:
        checks.append({"pattern": opts["pattern"]})
    if "minLength" in opts or "maxLength" in opts:
        checks.append({"length": {k: opts[f"{k}Length"] for k in ("min", "max") if f"{k}Length" in opts}})
    if "minimum" in opts or "maximum" in opts:
        checks.append({"range": {k: opts[f"{k}imum"] for k in ("min", "max") if f"{k}imum" in opts}})
    for q in prop.get("quality") or []:
        checks += _rules(q, prop["name"], table)
    for rel in prop.get("relationships") or []:
        if rel.get("type", "foreignKey") == "foreignKey" and isinstance(rel.get("to"), str):
            product, _, key = rel["to"].partition(".")
            checks.append({"references": {"product": product, "key": [key]}})
    if checks:
        col["checks"] = checks
    return col


def _type(prop: dict) -> str:
    logical = str(prop.get("logicalType", "string")).lower()
    physical = str(prop.get("physicalType", "")).lower()
    if logical == "array":
        items = prop.get("items") or {}
        return f"list<{_type(items) if items else 'string'}>"
    if logical == "object" and prop.get("properties"):
        return "struct<" + ", ".join(f"{p['name']}: {_type(p)}" for p in prop["properties"]) + ">"
    if physical:
        try:
            parsed = parse_type(physical)
            if logical in ("number", "integer") and type_name(parsed) in ("string", "boolean"):
                raise ValueError
            return physical if physical.startswith("decimal") else type_name(parsed)
        except ValueError:
            pass
    if logical == "number" and physical.startswith(("int", "bigint", "smallint")):
        return "long"
    return _LOGICAL.get(logical, "string")


def _severity(q: dict) -> str:
    sev = str(q.get("severity", "error")).lower()
    return "warn" if sev in ("warning", "warn", "info") else "quarantine"


def _rules(q: dict, column: str | None, table: str) -> list[dict[str, Any]]:
    """headwater rules for one ODCS quality entry (custom engines are kept only as extensions)."""
    metric = q.get("metric") or q.get("rule")
    desc = {"description": q["description"].strip()} if q.get("description") else {}
    zero = q.get("mustBe", 0) == 0 and not any(k in q for k in _OPS if k != "mustBe") and "unit" not in q
    if q.get("type", "library") == "library" and column is not None:
        if metric == "nullValues" and zero:
            return [{"not_null": True, "severity": _severity(q), **desc}]
        if metric in ("duplicateValues", "duplicates") and zero:
            return [{"unique": True, "severity": _severity(q), **desc}]
        if metric == "invalidValues" and zero:
            args = q.get("arguments") or {}
            if "validValues" in args:
                return [{"accepted_values": [v for v in args["validValues"] if v is not None],
                         "severity": _severity(q), **desc}]
            if "pattern" in args:
                return [{"pattern": args["pattern"], "severity": _severity(q), **desc}]
    if q.get("type", "library") == "library" and metric == "rowCount":
        bounds = {}
        for key, op in _OPS.items():
            if key in q:
                if op in (">", ">="):
                    bounds["min"] = q[key] + (1 if op == ">" else 0)
                elif op in ("<", "<="):
                    bounds["max"] = q[key] - (1 if op == "<" else 0)
                elif op == "=":
                    bounds = {"min": q[key], "max": q[key]}
        if "mustBeBetween" in q:
            bounds = {"min": q["mustBeBetween"][0], "max": q["mustBeBetween"][1]}
        if bounds:
            return [{"row_count": bounds, "severity": "warn" if _severity(q) == "warn" else "block", **desc}]
    if q.get("type") == "sql" and q.get("query"):
        return [{"sql": threshold_sql(q["query"], table, q),
                 "severity": "warn" if _severity(q) == "warn" else "block", **desc}]
    if q.get("type", "library") == "library" and metric in ("nullValues", "invalidValues", "duplicateValues") \
            and column is not None:
        return [{"sql": _metric_sql(metric, column, q, table), "severity": "warn" if _severity(q) == "warn"
                 else "block", **desc}]
    return []


def threshold_sql(query: str, table: str, q: dict) -> str:
    """A query returning 1 when the measured value breaks the threshold, else 0."""
    body = re.sub(rf"\b{re.escape(table)}\b", "batch", query.strip().rstrip(";"), flags=re.IGNORECASE)
    body = body.replace("{object}", "batch").replace("${table}", "batch")
    if "mustBeBetween" in q:
        lo, hi = q["mustBeBetween"]
        cond = f"v BETWEEN {lo} AND {hi}"
    elif "mustNotBeBetween" in q:
        lo, hi = q["mustNotBeBetween"]
        cond = f"v NOT BETWEEN {lo} AND {hi}"
    else:
        key = next((k for k in _OPS if k in q), "mustBe")
        cond = f"v {_OPS[key]} {q.get(key, 0)}"
    return f"SELECT CASE WHEN {cond} THEN 0 ELSE 1 END FROM (SELECT ({body}) AS v)"


def _metric_sql(metric: str, column: str, q: dict, table: str) -> str:
    c = '"' + column.replace('"', '""') + '"'
    if metric == "nullValues":
        bad = f"count_if({c} IS NULL)"
    elif metric == "duplicateValues":
        bad = f"count({c}) - count(DISTINCT {c})"
    else:
        values = (q.get("arguments") or {}).get("validValues") or []
        lits = ", ".join("'" + str(v).replace("'", "''") + "'" for v in values if v is not None)
        bad = f"count_if({c} IS NOT NULL AND {c} NOT IN ({lits}))" if lits else "0"
    measure = f"100.0 * {bad} / nullif(count(*), 0)" if q.get("unit") == "percent" else bad
    return threshold_sql(f"SELECT {measure} FROM batch", table, q)


def _ident(text: str) -> str:
    out = re.sub(r"[^a-z0-9]+", "_", str(text).lower()).strip("_")
    out = re.sub(r"_+", "_", out)
    return out if out and out[0].isalpha() else f"p_{out}"


def export_odcs(contract: Contract) -> dict[str, Any]:
    """An ODCS v3.1.0 document; an imported contract gives back its original where unchanged."""
    ext = contract.extensions or {}
    if "odcs" in ext:
        doc = copy.deepcopy(ext["odcs"])
        obj = doc["schema"][ext.get("odcs_schema", 0)]
        original = Contract.model_validate({**_semantics(doc, obj)})
        if _same(original, contract):
            return doc
        _apply(doc, obj, contract, original)
        return doc
    doc = {"apiVersion": "v3.1.0", "kind": "DataContract", "id": f"{contract.product}-{contract.version}",
           "version": contract.version, "status": contract.status.value, "dataProduct": contract.product,
           "schema": [_object(contract)]}
    if contract.description:
        doc["description"] = {"purpose": contract.description}
    if contract.owner:
        doc["team"] = {"name": contract.owner.team}
    # The whole headwater contract rides along, so headwater -> ODCS -> headwater loses nothing.
    doc["customProperties"] = [{"property": EMBED, "value": contract.model_dump(mode="json", exclude={"extensions"})}]
    return doc


def _same(a: Contract, b: Contract) -> bool:
    keys = ("product", "version", "status", "columns", "primary_key", "rules", "description")
    return a.model_dump(include=set(keys)) == b.model_dump(include=set(keys))


def _apply(doc: dict, obj: dict, contract: Contract, original: Contract) -> None:
    doc["version"] = contract.version
    doc["status"] = contract.status.value
    olds = {p["name"]: p for p in obj.get("properties") or []}
    before = {c.name: c for c in original.columns}
    props = []
    for column in contract.columns:
        if column.name in olds and before.get(column.name) == column and \
                _pk(original, column.name) == _pk(contract, column.name):
            props.append(olds[column.name])
        else:
            base = {k: v for k, v in olds.get(column.name, {}).items() if k not in ("quality", "logicalTypeOptions")}
            props.append({**base, **_property(contract, column)})
    obj["properties"] = props
    if original.rules != contract.rules:
        obj["quality"] = [_quality(r) for r in contract.rules if _quality(r)]


def _pk(contract: Contract, name: str) -> bool:
    return bool(contract.primary_key and name in contract.primary_key.columns)


def _object(contract: Contract) -> dict[str, Any]:
    obj = {"name": contract.product, "physicalType": "table", "properties": [_property(contract, c) for c in contract.columns]}
    quality = [q for q in (_quality(r) for r in contract.rules) if q]
    if quality:
        obj["quality"] = quality
    return obj


def _property(contract: Contract, column) -> dict[str, Any]:
    t = parse_type(column.type)
    logical = {"string": "string", "long": "integer", "int": "integer", "double": "number", "float": "number",
               "boolean": "boolean", "date": "date", "timestamptz": "timestamp", "timestamp": "timestamp",
               "time": "time"}.get(type_name(t), "object" if column.type.startswith("struct") else
                                   "array" if column.type.startswith("list") else "number"
                                   if column.type.startswith("decimal") else "string")
    prop: dict[str, Any] = {"name": column.name, "logicalType": logical, "physicalType": column.type,
                            "required": not column.nullable}
    if _pk(contract, column.name):
        prop["primaryKey"] = True
        prop["primaryKeyPosition"] = contract.primary_key.columns.index(column.name) + 1
    if column.unique:
        prop["unique"] = True
    if column.description:
        prop["description"] = column.description
    if column.pii:
        prop["classification"] = "restricted"
    opts, quality = {}, []
    for rule in column.checks:
        if rule.pattern is not None:
            opts["pattern"] = rule.pattern
        elif rule.length is not None:
            opts.update({f"{k}Length": getattr(rule.length, k) for k in ("min", "max") if getattr(rule.length, k) is not None})
        elif rule.range is not None and not isinstance(rule.range.min, str) and not isinstance(rule.range.max, str):
            opts.update({f"{k}imum": getattr(rule.range, k) for k in ("min", "max") if getattr(rule.range, k) is not None})
        elif rule.references is not None:
            ref = rule.references
            target = ref if isinstance(ref, str) else f"{ref.product}.{(ref.key or [column.name])[0]}"
            prop.setdefault("relationships", []).append({"type": "foreignKey", "to": target})
        elif (q := _quality(rule, column.name)) is not None:
            quality.append(q)
    if opts:
        prop["logicalTypeOptions"] = opts
    if quality:
        prop["quality"] = quality
    return prop


def _quality(rule, column: str | None = None) -> dict[str, Any] | None:
    sev = {"warn": "warning"}.get(rule.severity.value if rule.severity else "", "error")
    base = {"type": "library", "severity": sev, **({"name": rule.id} if rule.id else {}),
            **({"description": rule.description} if rule.description else {})}
    if rule.not_null:
        return {**base, "metric": "nullValues", "mustBe": 0}
    if rule.unique is True:
        return {**base, "metric": "duplicateValues", "mustBe": 0}
    if rule.accepted_values is not None:
        return {**base, "metric": "invalidValues", "arguments": {"validValues": rule.accepted_values}, "mustBe": 0}
    if rule.row_count is not None:
        out = {**base, "metric": "rowCount"}
        lo, hi = rule.row_count.min, rule.row_count.max
        if lo is not None and hi is not None:
            out["mustBeBetween"] = [lo, hi]
        elif lo is not None:
            out["mustBeGreaterOrEqualTo"] = lo
        else:
            out["mustBeLessOrEqualTo"] = hi
        return out
    if rule.sql is not None:
        return {**base, "type": "sql", "query": rule.sql, "mustBe": 0}
    if rule.expression is not None:
        return {**base, "type": "sql", "query": f"SELECT count(*) FROM batch WHERE NOT ({rule.expression})", "mustBe": 0}
    return None
