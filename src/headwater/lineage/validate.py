"""Check OpenLineage events against spec 2-0-2 and the facets headwater reads.

The event is validated against the shipped ``OpenLineage.json`` (runId must be a UUID); facets that lineage and
diagnosis rely on (symlinks, columnLineage, schema, statistics, parent, ownership, datasource,
jobDependencies) are also validated against their own shipped schemas, so a malformed facet is
rejected with a reason instead of silently corrupting the graph. Other facets pass as the base
spec allows (any object), as OpenLineage intends for custom facets.

Two validators share the shipped schemas: a compiled one (fastjsonschema) decides quickly, and
jsonschema explains a rejection (the JSON path and the best-matching reason). Without
fastjsonschema the explaining validator decides too, at a fifth of the speed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from headwater.ledger.openlineage import parse_time

# (where the facet sits, facet key) -> the facet schema file and its $defs entry
CHECKED_FACETS: dict[tuple[str, str], tuple[str, str]] = {
    ("dataset", "symlinks"): ("SymlinksDatasetFacet", "SymlinksDatasetFacet"),
    ("dataset", "columnLineage"): ("ColumnLineageDatasetFacet", "ColumnLineageDatasetFacet"),
    ("dataset", "schema"): ("SchemaDatasetFacet", "SchemaDatasetFacet"),
    ("dataset", "datasource"): ("DatasourceDatasetFacet", "DatasourceDatasetFacet"),
    ("dataset", "ownership"): ("OwnershipDatasetFacet", "OwnershipDatasetFacet"),
    ("input", "inputStatistics"): ("InputStatisticsInputDatasetFacet", "InputStatisticsInputDatasetFacet"),
    ("output", "outputStatistics"): ("OutputStatisticsOutputDatasetFacet",
                                     "OutputStatisticsOutputDatasetFacet"),
    ("run", "parent"): ("ParentRunFacet", "ParentRunFacet"),
    ("run", "jobDependencies"): ("JobDependenciesRunFacet", "JobDependenciesRunFacet"),
    ("job", "ownership"): ("OwnershipJobFacet", "OwnershipJobFacet"),
}


@dataclass(frozen=True)
class Problem:
    """Why an event violates the spec: the JSON path and the message."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


def _load(name: str) -> dict:
    base = resources.files("headwater.lineage") / "schemas"
    path = base / "OpenLineage.json" if name == "OpenLineage" else base / "facets" / f"{name}.json"
    return json.loads(path.read_text())


@lru_cache(maxsize=1)
def _validators() -> tuple[Any, dict[tuple[str, str], Any]]:
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    core = _load("OpenLineage")
    resources_ = [(core["$id"], Resource.from_contents(core))]
    facet_docs = {}
    for schema_file, _ in set(CHECKED_FACETS.values()):
        doc = _load(schema_file)
        facet_docs[schema_file] = doc
        resources_.append((doc["$id"], Resource.from_contents(doc)))
    registry = Registry().with_resources(resources_)
    event_validator = Draft202012Validator(core, registry=registry, format_checker=_uuid_only())
    facets = {}
    for key, (schema_file, definition) in CHECKED_FACETS.items():
        doc = facet_docs[schema_file]
        facets[key] = Draft202012Validator({"$ref": f"{doc['$id']}#/$defs/{definition}"}, registry=registry)
    return event_validator, facets


_UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


@lru_cache(maxsize=1)
def _fast() -> tuple[Any, dict[tuple[str, str], Any]] | None:
    """Compiled validators deciding valid/invalid, or None when fastjsonschema is missing."""
    try:
        import fastjsonschema
    except ImportError:
        return None
    core = _load("OpenLineage")
    docs = {core["$id"]: core}
    for schema_file, _ in set(CHECKED_FACETS.values()):
        doc = _load(schema_file)
        docs[doc["$id"]] = doc

    def resolve(uri: str) -> dict:
        return docs[uri.split("#")[0]]

    formats = {"uri": lambda _: True, "date-time": lambda _: True, "uuid": _UUID}
    handlers = {"https": resolve, "http": resolve}

    def compile_(schema: dict):
        schema = {**schema, "$schema": "http://json-schema.org/draft-07/schema#"}
        return fastjsonschema.compile(schema, handlers=handlers, formats=formats)

    facets = {}
    for key, (schema_file, definition) in CHECKED_FACETS.items():
        doc = docs[f"https://openlineage.io/spec/facets/{_version(docs, schema_file)}/{schema_file}.json"]
        facets[key] = compile_({**doc, "$ref": f"#/$defs/{definition}"})
    # JobEvent forbids "run" and DatasetEvent forbids "job" with "run": an event with both can only
    # be a RunEvent, so checking that one branch is exactly the spec's oneOf, at a third of the cost
    run_only = compile_({k: v for k, v in core.items() if k != "oneOf"} | {"$ref": "#/$defs/RunEvent"})
    return (compile_(core), run_only), facets


def _version(docs: dict, schema_file: str) -> str:
    for uri in docs:
        if uri.endswith(f"/{schema_file}.json"):
            return uri.rsplit("/", 2)[1]
    raise KeyError(schema_file)


def _passes(validator, value) -> bool:
    from fastjsonschema import JsonSchemaException

    try:
        validator(value)
    except JsonSchemaException:
        return False
    return True


def _uuid_only():
    import re

    from jsonschema import FormatChecker

    only = FormatChecker(formats=())
    only.checks("uuid")(lambda value: not isinstance(value, str) or re.match(_UUID, value) is not None)
    return only


def _path(parts) -> str:
    out = "$"
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def _best(errors) -> Any:
    from jsonschema.exceptions import best_match

    return best_match(errors)


def problems(event: Any) -> list[Problem]:
    """Every reason ``event`` is not a valid OpenLineage 2-0-2 event (empty when it is)."""
    if not isinstance(event, dict):
        return [Problem("$", f"an OpenLineage event is a JSON object, not {type(event).__name__}")]
    fast = _fast()
    if fast is not None and _passes(fast[0][1] if "run" in event and "job" in event else fast[0][0], event) \
            and _time_ok(event) and all(
            _passes(fast[1][(w, k)], v) for w, _, k, v in _facets(event)
            if (w, k) in fast[1] and isinstance(v, dict) and not v.get("_deleted")):
        return []
    core, facets = _validators()
    found: list[Problem] = []
    error = _best(core.iter_errors(event))
    if error is not None:
        found.append(Problem(_path(error.absolute_path), _explain(error, event)))
        return found
    if not _time_ok(event):
        found.append(Problem("$.eventTime", f"{event['eventTime']!r} is not an ISO-8601 date-time"))
    for where, path, facet_key, value in _facets(event):
        validator = facets.get((where, facet_key))
        if validator is None or not isinstance(value, dict) or value.get("_deleted"):
            continue
        error = _best(validator.iter_errors(value))
        if error is not None:
            found.append(Problem(_path([*path, facet_key, *error.absolute_path]),
                                 f"{facet_key} facet: {error.message}"))
    return found


def _time_ok(event: dict) -> bool:
    try:
        parse_time(event["eventTime"])
    except (ValueError, TypeError, KeyError):
        return False
    return True


def _explain(error, event: dict) -> str:
    if error.validator == "oneOf" and not error.absolute_path:
        kind = ("a RunEvent" if "run" in event else "a DatasetEvent" if "dataset" in event
                else "a JobEvent" if "job" in event else "any event type")
        missing = [k for k in ("eventTime", "producer", "schemaURL") if k not in event]
        if missing:
            return f"not {kind}: missing required {', '.join(missing)}"
        return (f"not exactly one of RunEvent, DatasetEvent, JobEvent (read as {kind}): "
                f"{error.message[:300]}")
    return error.message[:500]


def _facets(event: dict):
    """(kind, json path, facet key, facet) for every facet that lineage reads."""
    run = event.get("run") or {}
    for key, value in (run.get("facets") or {}).items():
        yield "run", ["run", "facets"], key, value
    job = event.get("job") or {}
    for key, value in (job.get("facets") or {}).items():
        yield "job", ["job", "facets"], key, value
    datasets = [("inputs", i, d) for i, d in enumerate(event.get("inputs") or [])]
    datasets += [("outputs", i, d) for i, d in enumerate(event.get("outputs") or [])]
    if isinstance(event.get("dataset"), dict):
        datasets.append(("dataset", None, event["dataset"]))
    for role, index, ds in datasets:
        base = [role] if index is None else [role, index]
        for key, value in (ds.get("facets") or {}).items():
            yield "dataset", [*base, "facets"], key, value
        for key, value in (ds.get("inputFacets") or {}).items():
            yield "input", [*base, "inputFacets"], key, value
        for key, value in (ds.get("outputFacets") or {}).items():
            yield "output", [*base, "outputFacets"], key, value
