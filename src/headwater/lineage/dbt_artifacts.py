"""Read dbt artifacts of every schema version headwater supports: manifest v1-v12, run_results
v1-v6, catalog v1. Only the fields lineage needs are read, defensively, since they moved between
versions (``depends_on``, ``config.contract``, ``exposures``, ``timing``...)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from headwater.errors import HeadwaterError, NotFoundError

MANIFEST_VERSIONS = range(1, 13)
RUN_RESULTS_VERSIONS = range(1, 7)
RELATIONS = ("model", "seed", "snapshot")


def schema_version(doc: dict, kind: str, path: str) -> int:
    url = str((doc.get("metadata") or {}).get("dbt_schema_version") or "")
    match = re.search(rf"/{kind}/v(\d+)\.json", url)
    if not match:
        raise HeadwaterError(f"{path} is not a dbt {kind} artifact (metadata.dbt_schema_version is {url!r})",
                             fix=f"pass the {kind}.json that dbt wrote into target/")
    return int(match.group(1))


def read_json(path: str) -> dict:
    try:
        doc = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise NotFoundError(f"no file {path}", fix="run dbt (build, run or docs generate) first") from None
    except json.JSONDecodeError as exc:
        raise HeadwaterError(f"{path} is not JSON: {exc.msg} at line {exc.lineno}",
                             fix="pass the artifact as dbt wrote it") from None
    if not isinstance(doc, dict):
        raise HeadwaterError(f"{path} is not a dbt artifact (not a JSON object)", fix="pass target/manifest.json")
    return doc


@dataclass
class DbtNode:
    """A model, seed, snapshot, source, test or exposure."""

    unique_id: str
    resource_type: str
    name: str
    database: str | None
    schema: str | None
    alias: str | None
    depends_on: list[str]
    columns: dict[str, dict] = field(default_factory=dict)
    description: str = ""
    owner: str | None = None
    contract_enforced: bool = False
    constraints: list[dict] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def relation(self) -> str:
        parts = [p for p in (self.schema, self.alias or self.name) if p]
        return ".".join(parts)


@dataclass
class Manifest:
    version: int
    project: str
    adapter: str
    generated_at: str
    invocation_id: str | None
    nodes: dict[str, DbtNode]
    root_path: str | None
    namespace: str | None = None  # the warehouse's dataset namespace as other tools name it (given, not in the artifacts)


def _owner(node: dict) -> str | None:
    meta = {**((node.get("config") or {}).get("meta") or {}), **(node.get("meta") or {})}
    owner = meta.get("owner") or (node.get("group") and f"group:{node['group']}")
    if isinstance(owner, dict):
        owner = owner.get("email") or owner.get("name")
    return str(owner) if owner else None


def _contract_enforced(node: dict) -> bool:
    contract = (node.get("config") or {}).get("contract")
    if isinstance(contract, dict):
        return bool(contract.get("enforced"))
    return bool(contract)  # v7-v9 wrote config.contract as a boolean


def load_manifest(path: str) -> Manifest:
    doc = read_json(path)
    version = schema_version(doc, "manifest", path)
    if version not in MANIFEST_VERSIONS:
        raise HeadwaterError(f"{path} is manifest v{version}; headwater reads v1 to v12",
                             fix="upgrade headwater, or regenerate the manifest with a supported dbt")
    meta = doc.get("metadata") or {}
    nodes: dict[str, DbtNode] = {}
    root_path = None
    for uid, n in {**(doc.get("nodes") or {}), **(doc.get("sources") or {})}.items():
        kind = n.get("resource_type") or uid.split(".", 1)[0]
        root_path = root_path or n.get("root_path")
        depends = (n.get("depends_on") or {}).get("nodes") or []
        nodes[uid] = DbtNode(uid, str(kind).lower(), n.get("name", uid), n.get("database"), n.get("schema"),
                             n.get("identifier") if kind == "source" else n.get("alias"), list(depends),
                             columns=n.get("columns") or {}, description=n.get("description") or "",
                             owner=_owner(n), contract_enforced=_contract_enforced(n),
                             constraints=n.get("constraints") or [], raw=n)
    for uid, e in (doc.get("exposures") or {}).items():
        owner = e.get("owner") or {}
        nodes[uid] = DbtNode(uid, "exposure", e.get("name", uid), None, None, None,
                             list((e.get("depends_on") or {}).get("nodes") or []),
                             description=e.get("description") or "",
                             owner=owner.get("email") or owner.get("name"), raw=e)
    adapter = meta.get("adapter_type") or _adapter_from_nodes(nodes) or "dbt"
    project = meta.get("project_name") or _project_from_ids(nodes) or "dbt"
    return Manifest(version, project, adapter, meta.get("generated_at") or "1970-01-01T00:00:00Z",
                    meta.get("invocation_id"), nodes, root_path)


def _adapter_from_nodes(nodes: dict[str, DbtNode]) -> str | None:
    for node in nodes.values():
        adapter = (node.raw.get("config") or {}).get("adapter_type")
        if adapter:
            return adapter
    return None


def _project_from_ids(nodes: dict[str, DbtNode]) -> str | None:
    for uid in nodes:
        parts = uid.split(".")
        if len(parts) >= 3 and parts[0] in RELATIONS:
            return parts[1]
    return None


@dataclass
class NodeResult:
    unique_id: str
    status: str
    started_at: str | None
    completed_at: str | None
    rows: int | None
    message: str | None


def load_run_results(path: str) -> tuple[int, str, list[NodeResult]]:
    doc = read_json(path)
    version = schema_version(doc, "run-results", path)
    if version not in RUN_RESULTS_VERSIONS:
        raise HeadwaterError(f"{path} is run_results v{version}; headwater reads v1 to v6",
                             fix="upgrade headwater, or regenerate with a supported dbt")
    meta = doc.get("metadata") or {}
    invocation = meta.get("invocation_id") or meta.get("generated_at") or path
    out = []
    for r in doc.get("results") or ():
        timing = {t.get("name"): t for t in r.get("timing") or () if isinstance(t, dict)}
        span = timing.get("execute") or timing.get("compile") or {}
        response = r.get("adapter_response") or {}
        rows = response.get("rows_affected") if isinstance(response, dict) else None
        uid = r.get("unique_id") or (r.get("node") or {}).get("unique_id")
        status = str(r.get("status") or ("error" if r.get("error") else "success")).lower()
        out.append(NodeResult(uid, status, span.get("started_at"), span.get("completed_at"),
                              rows if isinstance(rows, int) and rows >= 0 else None,
                              r.get("message") or r.get("error")))
    return version, str(invocation), out


def load_catalog(path: str) -> dict[str, dict[str, str]]:
    """unique id -> column -> the type the warehouse reports."""
    doc = read_json(path)
    out: dict[str, dict[str, str]] = {}
    for section in ("nodes", "sources"):
        for uid, entry in (doc.get(section) or {}).items():
            out[uid] = {c.get("name", k): c.get("type") for k, c in (entry.get("columns") or {}).items()}
    return out
