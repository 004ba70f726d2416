"""Open Data Contract Standard v3: import a schema object as a headwater contract, export back.

What headwater models (columns, types, nullability, keys, PII, rules, the owning team) is mapped
both ways; the rest of the document (servers, SLAs, pricing, every unmapped key) is kept under
``extensions.odcs`` so that exporting an imported contract gives the same document back, with
headwater's edits applied to the parts it owns: an original entry (a property's physicalType,
a quality entry with its schedule) stays as written while it still says what the contract says.
A document that cannot be read raises ImportProblem naming the key.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from headwater.contracts.interop import ImportProblem
from headwater.contracts.interop import items as _items
from headwater.contracts.interop import validated as _validate
from headwater.contracts.model import Contract, Reference, Rule
from headwater.contracts.types import parse_type, type_name
from headwater.errors import HeadwaterError

EMBED = "headwaterContract"
_PII = {"restricted", "confidential", "pii", "sensitive", "secret"}
_LOGICAL = {"string": "string", "date": "date", "timestamp": "timestamptz", "time": "time",
            "integer": "long", "number": "double", "boolean": "boolean"}
_OPS = {"mustBe": "=", "mustNotBe": "<>", "mustBeGreaterThan": ">", "mustBeGreaterOrEqualTo": ">=",
        "mustBeLessThan": "<", "mustBeLessOrEqualTo": "<="}


def schema_names(doc: Any) -> list[str]:
    """The names of the schema objects of an ODCS document, in order."""
    return [str(o.get("name")) for o in _objects(doc)]


def import_odcs(doc: dict, schema: str | None = None) -> Contract:
    """The headwater contract for one schema object of an ODCS v3 document (default: the first).

    The product is named after the document (``dataProduct``, else ``name``) when it has one
    schema object, after the schema object when it has several.
    """
    objects = _objects(doc)
    index = 0
    if schema is not None:
        names = [o.get("name") for o in objects]
        if schema not in names:
            raise ImportProblem(f"no schema object {schema!r}", key=("schema",),
                                fix=f"use one of {', '.join(map(str, names))}")
        index = names.index(schema)
    obj = objects[index]
    embedded = next((p.get("value") for p in _items(doc, "customProperties", ()) if p.get("property") == EMBED),
                    None)
    if isinstance(embedded, dict):
        native = _validate(embedded, ("customProperties",))
        fresh = export_odcs(native)
        if _semantics(fresh, fresh["schema"][0]) == _semantics(doc, obj, index):
            return native  # the ODCS parts were not edited since headwater exported them
    data = {**_semantics(doc, obj, index), "extensions": {"odcs": copy.deepcopy(doc), "odcs_schema": index}}
    return _validate(data, ("schema", index), lambda loc: ("version",) if loc[:1] == ("version",) else
                     ("schema", index, "properties", loc[1]) if loc[:1] == ("columns",) and len(loc) > 1 else None)


def _objects(doc: Any) -> list[dict]:
    if not isinstance(doc, dict):
        raise ImportProblem("an ODCS document is a mapping (apiVersion, kind, schema, ...)",
                            fix="give an ODCS v3 contract; see https://bitol-io.github.io/open-data-contract-standard/")
    objects = _items(doc, "schema", ())
    if not objects:
        raise ImportProblem("the ODCS document has no 'schema' objects", key=("schema",),
                            fix="add a schema object with properties")
    return objects


def _name(prop: dict, where: tuple) -> str:
    name = prop.get("name")
    if not isinstance(name, str) or not name:
        raise ImportProblem("a property needs a 'name'", key=where, fix="give every property a name")
    return name


def _product(doc: dict, obj: dict) -> str:
    if len(doc.get("schema") or []) > 1:
        return _ident(obj.get("name") or "batch")
    return _ident(doc.get("dataProduct") or doc.get("name") or obj.get("name") or "batch")


def _owner(doc: dict) -> dict[str, str] | None:
    team = doc.get("team")  # v3.1: {name, members, ...}; v3.0: a list of members (no team name)
    if isinstance(team, dict) and team.get("name"):
        return {"team": str(team["name"])}
    return None


def _semantics(doc: dict, obj: dict, index: int = 0) -> dict[str, Any]:
    where = ("schema", index)
    table = obj.get("name") or "batch"
    columns, pk = [], []
    for i, prop in enumerate(_items(obj, "properties", where)):
        name = _name(prop, (*where, "properties", i))
        columns.append(_column(prop, table, (*where, "properties", i)))
        if prop.get("primaryKey"):
            position = prop.get("primaryKeyPosition")
            pk.append((position if isinstance(position, (int, float)) else 0, name))
    rules = [r for j, q in enumerate(_items(obj, "quality", where))
             for r in _rules(q, None, table, (*where, "quality", j))]
    for j, rel in enumerate(_items(obj, "relationships", where)):
        if (fk := _foreign_key(rel, (*where, "relationships", j))) is not None:
            rules.append(_fk_rule(fk))
    out: dict[str, Any] = {"product": _product(doc, obj),
                           "version": str(doc.get("version", "1.0.0")),
                           "status": {"active": "active", "deprecated": "deprecated", "retired": "retired"}
                           .get(str(doc.get("status", "active")).lower(), "active"),
                           "columns": columns, "rules": rules}
    desc = obj.get("description") or (doc.get("description") or {}).get("purpose") \
        if isinstance(doc.get("description"), dict) else obj.get("description") or doc.get("description")
    if desc:
        out["description"] = str(desc).strip()
    if owner := _owner(doc):
        out["owner"] = owner
    if pk:
        out["primary_key"] = [n for _, n in sorted(pk)]
    if out["status"] == "deprecated":
        out["deprecation"] = {"since": "1970-01-01"}
    return out


def _foreign_key(rel: dict, where: tuple) -> tuple[tuple[str, ...], str, tuple[str, ...]] | None:
    """(columns here, product there, key there) of a schema-level foreign key, else None."""
    if rel.get("type", "foreignKey") != "foreignKey" or "from" not in rel:
        return None
    src, dst = rel.get("from"), rel.get("to")
    src, dst = ([src] if isinstance(src, str) else src), ([dst] if isinstance(dst, str) else dst)
    if not (isinstance(src, list) and isinstance(dst, list) and src and len(src) == len(dst)
            and all(isinstance(x, str) for x in src + dst)):
        raise ImportProblem("a foreign key relationship needs 'from' and 'to' with as many columns each "
                            "(table.column)", key=where, fix="e.g. from: [tbl.a, tbl.b], to: [other.x, other.y]")
    return tuple(f.split(".")[-1] for f in src), dst[0].split(".")[0], tuple(t.split(".")[-1] for t in dst)


def _column(prop: dict, table: str, where: tuple) -> dict[str, Any]:
    col: dict[str, Any] = {"name": prop["name"], "type": _type(prop, where)}
    if prop.get("required"):
        col["nullable"] = False
    if prop.get("unique"):
        col["unique"] = True
    if prop.get("description"):
        col["description"] = str(prop["description"]).strip()
    if str(prop.get("classification", "")).lower() in _PII:
        col["pii"] = True
    opts = prop.get("logicalTypeOptions") or {}
    if not isinstance(opts, dict):
        raise ImportProblem("'logicalTypeOptions' must be a mapping", key=(*where, "logicalTypeOptions"))
    checks: list[dict[str, Any]] = []
    if "pattern" in opts:
        checks.append({"pattern": opts["pattern"]})
    if "minLength" in opts or "maxLength" in opts:
        checks.append({"length": {k: opts[f"{k}Length"] for k in ("min", "max") if f"{k}Length" in opts}})
    if "minimum" in opts or "maximum" in opts:
        checks.append({"range": {k: opts[f"{k}imum"] for k in ("min", "max") if f"{k}imum" in opts}})
    for j, q in enumerate(_items(prop, "quality", where)):
        checks += _rules(q, prop["name"], table, (*where, "quality", j))
    checks += [ref for rel in _items(prop, "relationships", where) if (ref := _column_fk(rel)) is not None]
    if checks:
        col["checks"] = checks
    return col


def _column_fk(rel: dict) -> dict[str, Any] | None:
    """The references check of a property-level foreign key (``to: product.key``), else None."""
    if rel.get("type", "foreignKey") == "foreignKey" and isinstance(rel.get("to"), str):
        product, _, key = rel["to"].partition(".")
        return {"references": {"product": product, "key": [key]}}
    return None


def _type(prop: dict, where: tuple) -> str:
    logical = str(prop.get("logicalType", "string")).lower()
    physical = str(prop.get("physicalType", "")).lower()
    if logical == "array":
        items = prop.get("items") or {}
        if not isinstance(items, dict):
            raise ImportProblem("'items' of an array must be a mapping", key=(*where, "items"))
        return f"list<{_type(items, (*where, 'items')) if items else 'string'}>"
    if logical == "object" and prop.get("properties"):
        fields = _items(prop, "properties", where)
        return "struct<" + ", ".join(f"{_name(p, (*where, 'properties', i))}: {_type(p, (*where, 'properties', i))}"
                                     for i, p in enumerate(fields)) + ">"
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


def check_thresholds(q: dict, where: tuple) -> None:
    """An ImportProblem unless every threshold of quality entry ``q`` is a number (or two for a range)."""
    for key in _OPS:
        if key in q and (isinstance(q[key], bool) or not isinstance(q[key], (int, float))):
            raise ImportProblem(f"{key} must be a number, not {q[key]!r}", key=(*where, key))
    for key in ("mustBeBetween", "mustNotBeBetween"):
        if key in q and not (isinstance(q[key], list) and len(q[key]) == 2 and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in q[key])):
            raise ImportProblem(f"{key} must be two numbers, not {q[key]!r}", key=(*where, key),
                                fix=f"write {key}: [low, high]")
    if q.get("type") == "sql" and not isinstance(q.get("query", ""), str):
        raise ImportProblem("a sql quality check's 'query' must be text", key=(*where, "query"))


def _rules(q: dict, column: str | None, table: str, where: tuple = ()) -> list[dict[str, Any]]:
    """headwater rules for one ODCS quality entry (custom engines are kept only as extensions)."""
    check_thresholds(q, where)
    metric = q.get("metric") or q.get("rule")
    desc = {"description": str(q["description"]).strip()} if q.get("description") else {}
    zero = q.get("mustBe", 0) == 0 and not any(k in q for k in _OPS if k != "mustBe") and "unit" not in q
    if q.get("type", "library") == "library" and column is not None:
        if metric == "nullValues" and zero:
            return [{"not_null": True, "severity": _severity(q), **desc}]
        if metric in ("duplicateValues", "duplicates") and zero:
            return [{"unique": True, "severity": _severity(q), **desc}]
        if metric == "invalidValues" and zero:
            args = q.get("arguments") if isinstance(q.get("arguments"), dict) else {}
            if isinstance(args.get("validValues"), list):
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
        args = q.get("arguments") if isinstance(q.get("arguments"), dict) else {}
        values = args.get("validValues") if isinstance(args.get("validValues"), list) else []
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
        index = ext.get("odcs_schema", 0)
        objects = _objects(doc)
        if not isinstance(index, int) or not 0 <= index < len(objects):
            raise HeadwaterError(f"extensions.odcs_schema {index!r} is not a schema object of extensions.odcs",
                                 fix="import the ODCS document again")
        obj = objects[index]
        original = _validate(_semantics(doc, obj, index), ("schema", index))
        if not _same(original, contract):
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
    keys = {"product", "version", "status", "columns", "primary_key", "rules", "description", "owner"}
    return a.model_dump(include=keys) == b.model_dump(include=keys)


def _apply(doc: dict, obj: dict, contract: Contract, original: Contract) -> None:
    """Write headwater's edits into the original document, keeping what they do not touch."""
    doc["version"] = contract.version
    doc["status"] = contract.status.value
    if contract.description != original.description:
        if "description" not in obj and isinstance(doc.get("description"), dict):
            doc["description"]["purpose"] = contract.description
        else:
            obj["description"] = contract.description
    if contract.owner != original.owner:
        team = doc.get("team")
        if isinstance(team, dict) and contract.owner is None:
            team.pop("name", None)
        elif isinstance(team, dict) or (team is None and contract.owner):
            doc["team"] = {**(team or {}), "name": contract.owner.team}  # a v3.0 member list has no name
    table = obj.get("name") or "batch"
    olds = {p["name"]: p for p in obj.get("properties") or []}
    before = {c.name: c for c in original.columns}
    obj["properties"] = [
        olds[c.name] if c.name in olds and before.get(c.name) == c and _pk(original, c.name) == _pk(contract, c.name)
        else _property(contract, c, olds.get(c.name), table) for c in contract.columns]
    _table_rules(obj, contract, table)


def _pk(contract: Contract, name: str) -> bool:
    return bool(contract.primary_key and name in contract.primary_key.columns)


def _object(contract: Contract) -> dict[str, Any]:
    obj = {"name": contract.product, "physicalType": "table",
           "properties": [_property(contract, c, None, contract.product) for c in contract.columns]}
    _table_rules(obj, contract, contract.product)
    return obj


def _keep(remaining: list[Rule], produced: list[dict[str, Any]]) -> bool:
    """Whether an original entry stays as written: all the rules it imports as are still in
    ``remaining`` (they are taken out), or it imports as none (a custom engine, a text check)."""
    rules = [Rule.model_validate(r) for r in produced]
    pool = list(remaining)
    for rule in rules:
        if rule not in pool:
            return False
        pool.remove(rule)
    remaining[:] = pool
    return True


def _table_rules(obj: dict, contract: Contract, table: str) -> None:
    """The schema object's quality and relationships for the contract's table-level rules: original
    entries whose rules are unchanged stay as written, a foreign key over a dropped column goes."""
    names = {c.name for c in contract.columns}
    remaining = list(contract.rules)
    quality = [q for j, q in enumerate(obj.get("quality") or [])
               if _keep(remaining, _rules(q, None, table, ("quality", j)))]
    relationships = []
    for j, rel in enumerate(obj.get("relationships") or []):
        fk = _foreign_key(rel, ("relationships", j))
        if fk is None or set(fk[0]) <= names and _keep(remaining, [_fk_rule(fk)]):
            relationships.append(rel)
    for rule in remaining:
        ref = rule.references
        if isinstance(ref, Reference) and ref.columns:
            if set(ref.columns) <= names:
                src = [f"{table}.{c}" for c in ref.columns]
                dst = [f"{ref.product}.{k}" for k in (ref.key or ref.columns)]
                relationships.append({"type": "foreignKey", "from": src if len(src) > 1 else src[0],
                                      "to": dst if len(dst) > 1 else dst[0]})
        elif (q := _quality(rule)) is not None:
            quality.append(q)
    for key, value in (("quality", quality), ("relationships", relationships)):
        if value:
            obj[key] = value
        else:
            obj.pop(key, None)


def _fk_rule(fk: tuple) -> dict[str, Any]:
    return {"references": {"product": fk[1], "columns": list(fk[0]), "key": list(fk[2])}}


def _property(contract: Contract, column, old: dict | None, table: str) -> dict[str, Any]:
    """The ODCS property of ``column``; keys of the original property ``old`` that say the same
    as the column (a physicalType, a classification, quality entries) are kept as written."""
    old = old or {}
    prop: dict[str, Any] = {k: v for k, v in old.items() if k not in ("logicalTypeOptions", "quality", "relationships")}
    prop["name"] = column.name
    if not old or _type(old, ()) != column.type:
        prop["logicalType"], prop["physicalType"] = _logical(column.type), column.type
    prop["required"] = not column.nullable or _pk(contract, column.name)  # a key is never null
    if _pk(contract, column.name):
        prop["primaryKey"] = True
        prop["primaryKeyPosition"] = contract.primary_key.columns.index(column.name) + 1
    elif prop.get("primaryKey"):
        prop["primaryKey"] = False
        prop.pop("primaryKeyPosition", None)
    if column.unique:
        prop["unique"] = True
    else:
        prop.pop("unique", None)
    if column.description:
        prop["description"] = column.description
    else:
        prop.pop("description", None)
    was_pii = str(old.get("classification", "")).lower() in _PII
    if column.pii and not was_pii:
        prop["classification"] = "restricted"
    elif was_pii and not column.pii:
        prop.pop("classification")
    remaining = list(column.checks)
    quality = [q for j, q in enumerate(old.get("quality") or [])
               if _keep(remaining, _rules(q, column.name, table, ("quality", j)))]
    relationships = [r for r in old.get("relationships") or []
                     if (ref := _column_fk(r)) is None or _keep(remaining, [ref])]
    opts = {k: v for k, v in (old.get("logicalTypeOptions") or {}).items()
            if k not in ("pattern", "minLength", "maxLength", "minimum", "maximum")}
    for rule in remaining:
        if rule.pattern is not None:
            opts["pattern"] = rule.pattern
        elif rule.length is not None:
            opts.update({f"{k}Length": getattr(rule.length, k) for k in ("min", "max") if getattr(rule.length, k) is not None})
        elif rule.range is not None and not isinstance(rule.range.min, str) and not isinstance(rule.range.max, str):
            opts.update({f"{k}imum": getattr(rule.range, k) for k in ("min", "max") if getattr(rule.range, k) is not None})
        elif rule.references is not None:
            ref = rule.references
            target = ref if isinstance(ref, str) else f"{ref.product}.{(ref.key or [column.name])[0]}"
            relationships.append({"type": "foreignKey", "to": target})
        elif (q := _quality(rule, column.name)) is not None:
            quality.append(q)
    for key, value in (("logicalTypeOptions", opts), ("quality", quality), ("relationships", relationships)):
        if value:
            prop[key] = value
    return prop


def _logical(type_: str) -> str:
    return {"string": "string", "long": "integer", "int": "integer", "double": "number", "float": "number",
            "boolean": "boolean", "date": "date", "timestamptz": "timestamp", "timestamp": "timestamp",
            "time": "time"}.get(type_name(parse_type(type_)), "object" if type_.startswith("struct") else
                                "array" if type_.startswith("list") else "number"
                                if type_.startswith("decimal") else "string")


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
