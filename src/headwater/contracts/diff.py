"""Change control: compare the working tree's contracts with a git ref and classify each change.

Changes are judged from the consumer's side: a promise weakened (a column gone, a type that no
longer fits, a column that may now be null, a rule removed or loosened, a key changed) is
breaking; a promise added or tightened is not. A breaking change needs a major version bump;
every downstream product and declared consumer is listed with its owner.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from headwater.contracts.model import Contract, Lifecycle, Severity, version_tuple
from headwater.contracts.plan import Check, build_plan
from headwater.contracts.types import matches, parse_type
from headwater.errors import HeadwaterError

if TYPE_CHECKING:
    from headwater.platform import Platform

_RANK = {Severity.WARN: 0, Severity.QUARANTINE: 1, Severity.BLOCK: 2}


@dataclass
class Change:
    what: str
    breaking: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"what": self.what, "breaking": self.breaking, "reason": self.reason}


@dataclass
class ContractDiff:
    product: str
    old_version: str | None
    new_version: str | None
    changes: list[Change] = field(default_factory=list)
    affected: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    @property
    def breaking(self) -> bool:
        return any(c.breaking for c in self.changes)

    def to_dict(self) -> dict[str, Any]:
        return {"product": self.product, "old_version": self.old_version, "new_version": self.new_version,
                "breaking": self.breaking, "error": self.error, "changes": [c.to_dict() for c in self.changes],
                "affected": self.affected}


@dataclass
class DiffReport:
    base: str
    contracts: list[ContractDiff]

    @property
    def failed(self) -> bool:
        return any(c.error for c in self.contracts)

    def to_dict(self) -> dict[str, Any]:
        return {"base": self.base, "failed": self.failed, "contracts": [c.to_dict() for c in self.contracts]}


def compare(old: Contract, new: Contract) -> list[Change]:
    """Every difference between two versions of one contract, classified."""
    out: list[Change] = []
    old_cols = {c.name: c for c in old.columns}
    new_cols = {c.name: c for c in new.columns}
    for name, col in old_cols.items():
        if name not in new_cols:
            out.append(Change(f"column {name} removed", True, "consumers reading it will fail"))
            continue
        now = new_cols[name]
        if col.type != now.type:
            fits = matches(parse_type(col.type), parse_type(now.type))
            out.append(Change(f"column {name} type {col.type} -> {now.type}", not fits,
                              "new values still fit the old type" if fits else "values may no longer fit the old type"))
        if col.nullable != now.nullable:
            out.append(Change(f"column {name} nullable {col.nullable} -> {now.nullable}", now.nullable,
                              "consumers may now see nulls" if now.nullable else "a stronger promise"))
        if col.pii != now.pii:
            out.append(Change(f"column {name} pii {col.pii} -> {now.pii}", False,
                              "access policy changes; no schema change"))
        if col.description != now.description:
            out.append(Change(f"column {name} description changed", False, "documentation only"))
    for name in new_cols:
        if name not in old_cols:
            out.append(Change(f"column {name} added", False, "consumers that ignore it are unaffected"))
    old_pk = old.primary_key.columns if old.primary_key else []
    new_pk = new.primary_key.columns if new.primary_key else []
    if old_pk != new_pk:
        out.append(Change(f"primary key ({', '.join(old_pk)}) -> ({', '.join(new_pk)})", True,
                          "joins and deduplication on the key change meaning"))
    old_checks = {c.id: c for c in build_plan(old).checks if not c.id.startswith("primary_key.")}
    new_checks = {c.id: c for c in build_plan(new).checks if not c.id.startswith("primary_key.")}
    for cid, check in old_checks.items():
        if cid not in new_checks:
            out.append(Change(f"rule {cid} removed", True, "the promise it made is gone"))
        else:
            out += _rule_change(check, new_checks[cid])
    for cid in new_checks:
        if cid not in old_checks:
            out.append(Change(f"rule {cid} added", False, "a stronger promise"))
    if old.status != new.status:
        out.append(Change(f"status {old.status.value} -> {new.status.value}", new.status is Lifecycle.RETIRED,
                          "retired: writes stop" if new.status is Lifecycle.RETIRED else "lifecycle change"))
    return out


def _rule_change(old: Check, new: Check) -> list[Change]:
    out = []
    if _RANK[new.severity] < _RANK[old.severity]:
        out.append(Change(f"rule {old.id} severity {old.severity.value} -> {new.severity.value}", True,
                          "failing rows now reach consumers"))
    elif new.severity != old.severity:
        out.append(Change(f"rule {old.id} severity {old.severity.value} -> {new.severity.value}", False,
                          "enforced more strictly"))
    if old.params == new.params and old.columns == new.columns:
        return out
    p, q = old.params, new.params
    if old.kind == "accepted_values":
        added = [v for v in q["values"] if v not in p["values"]]
        removed = [v for v in p["values"] if v not in q["values"]]
        if added:
            out.append(Change(f"rule {old.id} accepts new values {added}", True, "consumers may meet values they do not handle"))
        if removed:
            out.append(Change(f"rule {old.id} no longer accepts {removed}", False, "a narrower set"))
        return out
    if old.kind in ("range", "length", "row_count"):
        wider = _wider(p.get("min"), q.get("min"), low=True) or _wider(p.get("max"), q.get("max"), low=False)
        out.append(Change(f"rule {old.id} bounds [{p.get('min')}, {p.get('max')}] -> [{q.get('min')}, {q.get('max')}]",
                          wider, "values outside the old bounds may appear" if wider else "tighter bounds"))
        return out
    out.append(Change(f"rule {old.id} changed", True, "a changed rule may admit rows the old one rejected"))
    return out


def _wider(old: Any, new: Any, low: bool) -> bool:
    if old is None:
        return False
    if new is None:
        return True
    try:
        return new < old if low else new > old
    except TypeError:
        return str(new) != str(old)


def diff_project(platform: Platform, base: str) -> DiffReport:
    """Each product's contract in the working tree against the same file at ``base``."""
    project = platform.project
    service = platform.contracts
    top = _git(project.root, "rev-parse", "--show-toplevel").strip()
    _git(project.root, "rev-parse", "--verify", f"{base}^{{commit}}")
    report = DiffReport(base, [])
    from headwater.contracts.loader import CONTRACT_DIR, contract_path

    root = Path(top).resolve()
    present = set()
    for name in sorted(project.products):
        path = contract_path(project, name)
        if path is None:
            continue
        rel = Path(path).resolve().relative_to(root).as_posix()
        present.add(rel)
        new = service.contract(name)
        old = _at(project.root, base, rel)
        item = ContractDiff(name, old.version if old else None, new.version)
        if old is None:
            item.changes.append(Change("contract added", False, "a new promise"))
        else:
            item.changes = compare(old, new)
            now, was = version_tuple(new.version), version_tuple(old.version)
            if now < was:
                item.error = f"the version went down ({old.version} -> {new.version}); versions only go up"
            elif item.breaking and now[0] <= was[0]:
                item.error = f"breaking change without a major version bump ({old.version} -> {new.version})"
            elif item.changes and now == was:
                item.error = (f"changed without a version bump (still {new.version}): bump the minor version "
                              "for a new promise, the patch version for documentation")
        if item.breaking or item.error:
            item.affected = affected(platform, name, new)
        if item.changes or item.error:
            report.contracts.append(item)
    folder = (project.root / CONTRACT_DIR).resolve().relative_to(root).as_posix()
    for rel in _files_at(project.root, base, folder):
        if rel in present or not rel.endswith((".yaml", ".yml")):
            continue
        old = _at(project.root, base, rel)
        if old is None:
            continue
        retired = old.status is Lifecycle.RETIRED
        item = ContractDiff(old.product, old.version, None, [Change(
            "contract removed", not retired,
            "it was retired" if retired else "consumers lose the promise without notice")])
        if not retired:
            item.error = (f"the {old.status.value} contract {rel} was removed: mark it deprecated (with a sunset "
                          "date), then retired, before deleting it")
            item.affected = affected(platform, old.product, old)
        report.contracts.append(item)
    return report


def affected(platform: Platform, product: str, contract: Contract) -> list[dict[str, Any]]:
    """Downstream products and declared consumers, of ``product`` and of everything downstream."""
    project = platform.project
    down = sorted(project.downstream(product)) if product in project.products else []
    out = [{"kind": "product", "name": p, "owner": project.products[p].owner.team} for p in down]
    seen = set()
    own = list(contract.consumers) + (list(project.products[product].consumers) if product in project.products else [])
    for via, consumers in [(None, own)] + [(p, list(project.products[p].consumers) +
                                            list(getattr(service_contract(platform, p), "consumers", [])))
                                           for p in down]:
        for consumer in consumers:
            if consumer.name not in seen:
                seen.add(consumer.name)
                out.append({"kind": "consumer", "name": consumer.name, "owner": consumer.owner}
                           | ({"via": via} if via else {}))
    return out


def service_contract(platform: Platform, product: str) -> Contract | None:
    try:
        return platform.contracts.contract(product)
    except HeadwaterError:  # a broken contract downstream is its own problem, reported elsewhere
        return None


def _files_at(root: Path, ref: str, folder: str) -> list[str]:
    """Files under ``folder`` (relative to the repository's top) at ``ref``."""
    try:
        out = _git(root, "ls-tree", "-r", "--full-tree", "--name-only", ref, "--", folder)
    except HeadwaterError:
        return []
    return [line for line in out.splitlines() if line]


def _at(root: Path, ref: str, rel: str) -> Contract | None:
    try:
        text = _git(root, "show", f"{ref}:{rel}")
    except HeadwaterError:
        return None
    from ruamel.yaml import YAML

    try:
        return Contract.model_validate(YAML(typ="safe").load(StringIO(text)))
    except ValidationError as exc:
        raise HeadwaterError(f"{rel} at {ref} is not a valid contract: {exc.errors()[0]['msg']}",
                             fix="compare with a later --base") from None


def _git(root: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise HeadwaterError("git is not installed", fix="install git to use 'contract diff'") from exc
    if done.returncode != 0:
        raise HeadwaterError(f"git {' '.join(args)} failed: {done.stderr.strip()}",
                             fix="run inside a git repository and pass an existing --base ref")
    return done.stdout
