"""Enforced dbt model contracts as headwater contract files (``contracts/<model>.yaml``).

A column's ``data_type`` maps to a contract type, ``not_null`` constraints to ``nullable: false``,
``unique`` to ``unique: true``, ``primary_key`` constraints to the contract's primary key, and
``accepted_values`` tests on the model's columns to rules. Types headwater cannot express are kept
under ``extensions.dbt`` rather than guessed.
"""

from __future__ import annotations

import re
from pathlib import Path

from headwater.lineage.dbt_artifacts import Manifest

_TYPES = [
    (r"^(varchar|text|string|char|character varying|nvarchar|bpchar)(\(.*\))?$", "string"),
    (r"^(bigint|int8|long|int64|hugeint)$", "long"),
    (r"^(int|integer|int4|smallint|int2|tinyint|int32)$", "int"),
    (r"^(double|double precision|float8|float64)$", "double"),
    (r"^(float|real|float4)$", "float"),
    (r"^(bool|boolean)$", "boolean"),
    (r"^date$", "date"),
    (r"^(timestamp with time zone|timestamptz|timestamp_tz)$", "timestamptz"),
    (r"^(timestamp|timestamp without time zone|datetime|timestamp_ntz)$", "timestamp"),
]


def contract_type(data_type: str | None) -> str | None:
    if not data_type:
        return None
    t = data_type.strip().lower()
    m = re.match(r"^(numeric|decimal)\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)$", t)
    if m:
        return f"decimal({m.group(2)},{m.group(3)})"
    if t in ("numeric", "decimal"):
        return "decimal(38,9)"
    for pattern, name in _TYPES:
        if re.match(pattern, t):
            return name
    return None


def _constraints(items) -> set[str]:
    return {str(c.get("type")).lower() for c in items or () if isinstance(c, dict)}


def contract_for(m: Manifest, uid: str, types: dict[str, str]) -> dict:
    """The contract document (a dict valid as ``headwater.contracts.model.Contract``)."""
    node = m.nodes[uid]
    columns, unmapped = [], {}
    for key, col in node.columns.items():
        name = col.get("name", key)
        declared = col.get("data_type") or types.get(name)
        mapped = contract_type(declared)
        if mapped is None:
            unmapped[name] = declared
        kinds = _constraints(col.get("constraints"))
        entry = {"name": name, "type": mapped or "string", "nullable": "not_null" not in kinds
                 and "primary_key" not in kinds}
        if "unique" in kinds:
            entry["unique"] = True
        if col.get("description"):
            entry["description"] = col["description"]
        columns.append(entry)
    by_name = {c["name"]: c for c in columns}
    for test in m.nodes.values():
        meta = test.raw.get("test_metadata") or {}
        if test.resource_type != "test" or uid not in test.depends_on or meta.get("name") != "accepted_values":
            continue
        column = test.raw.get("column_name") or (meta.get("kwargs") or {}).get("column_name")
        values = (meta.get("kwargs") or {}).get("values")
        if column in by_name and values:
            by_name[column].setdefault("checks", []).append({"accepted_values": list(values)})
    pk = [c for key, c in ((k, c) for k, c in node.columns.items())
          if "primary_key" in _constraints(c.get("constraints"))]
    pk_names = [c.get("name") for c in pk]
    for constraint in node.constraints:
        if str(constraint.get("type")).lower() == "primary_key":
            pk_names = list(constraint.get("columns") or pk_names)
    doc = {"product": node.name, "version": "1.0.0", "description": node.description,
           "columns": columns, "extra_columns": "block",
           "extensions": {"dbt": {"unique_id": uid, "manifest_version": m.version,
                                  **({"unmapped_types": unmapped} if unmapped else {})}}}
    if node.owner:
        doc["owner"] = {"team": node.owner}
    if pk_names:
        doc["primary_key"] = pk_names
    return doc


def write_contracts(m: Manifest, catalog: dict, out_dir: Path) -> list[Path]:
    from headwater.contracts.model import Contract

    written = []
    for uid, node in sorted(m.nodes.items()):
        if node.resource_type != "model" or not node.contract_enforced:
            continue
        doc = contract_for(m, uid, catalog.get(uid, {}))
        Contract.model_validate(doc)  # what we write, the contracts engine can load
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / f"{node.name}.yaml"
        text = f"# Imported from dbt {uid} (enforced model contract). Edit freely.\n" + _dump(doc)
        if path.exists() and path.read_text() != text:
            path = out_dir / f"{node.name}.dbt.yaml"  # never overwrite a contract someone edited
        path.write_text(text)
        written.append(path)
    return written


def _dump(doc: dict) -> str:
    import io

    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False
    buf = io.StringIO()
    yaml.dump(doc, buf)
    return buf.getvalue()
