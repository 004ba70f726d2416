"""``contract lint``: validate a headwater, ODCS v3 or DCS file against its schema, with lines."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from headwater.errors import SpecError, SpecErrors
from headwater.spec.yamlio import read_yaml

SCHEMAS = Path(__file__).parent / "schemas"  # copies of the standards' own JSON Schemas


@dataclass
class LintReport:
    file: str
    format: str
    valid: bool
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "format": self.format, "valid": self.valid, "problems": self.problems}


def detect(data: Any) -> str:
    if isinstance(data, dict):
        if "dataContractSpecification" in data:
            return "dcs"
        if data.get("kind") == "DataContract" or "apiVersion" in data:
            return "odcs"
        if "product" in data and "version" in data:
            return "headwater"
    return "unknown"


def lint_file(path: Path) -> LintReport:
    path = Path(path)
    try:
        doc = read_yaml(path, path.parent)
    except SpecError as exc:
        return LintReport(str(path), "unknown", False, [str(exc)])
    fmt = detect(doc.data)
    if fmt == "headwater":
        from headwater.contracts.loader import load_contract

        try:
            load_contract(path, path.parent)
        except SpecErrors as exc:
            return LintReport(str(path), fmt, False, [str(e) for e in exc.errors])
        return LintReport(str(path), fmt, True)
    if fmt == "unknown":
        return LintReport(str(path), fmt, False, [
            f"{doc.display}:1: not a recognised contract (fix: a headwater contract starts with 'product:' and "
            "'version:', ODCS with 'apiVersion: v3.1.0' and 'kind: DataContract', DCS with "
            "'dataContractSpecification: 1.2.0')"])
    key, schema = _schema(fmt, str(doc.data.get("dataContractSpecification" if fmt == "dcs" else "apiVersion", "")))
    validator = _validator(key, json.dumps(schema))
    data = json.loads(json.dumps(doc.data, default=str))
    problems = []
    for err in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        loc = tuple(err.absolute_path)
        where = doc.location(loc)
        problems.append(f"{where}: {_message(err)}")
    return LintReport(str(path), key, not problems, problems)


@lru_cache(maxsize=16)
def _validator(key: str, text: str):
    import jsonschema

    schema = json.loads(text)
    return jsonschema.validators.validator_for(schema)(schema)


def _message(err) -> str:
    if err.validator in ("oneOf", "anyOf") and err.context:
        best = min(err.context, key=lambda e: len(list(e.absolute_path)))
        return best.message[:300]
    return err.message[:300]


def _schema(fmt: str, version: str) -> tuple[str, dict]:
    """The schema for the declared version (the newest known one when it is unknown)."""
    if fmt == "dcs":
        known = sorted(p.name.split("-")[1].removesuffix(".schema.json") for p in SCHEMAS.glob("dcs-*.schema.json"))
        pick = version if version in known else known[-1]
        return f"dcs {pick}", json.loads((SCHEMAS / f"dcs-{pick}.schema.json").read_text())
    known = sorted(p.name.removeprefix("odcs-json-schema-").removesuffix(".json") for p in SCHEMAS.glob("odcs-*.json"))
    pick = version if version in known else known[-1]
    return f"odcs {pick}", json.loads((SCHEMAS / f"odcs-json-schema-{pick}.json").read_text())
