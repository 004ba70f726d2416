"""One lineage graph of jobs and datasets, whoever ran the job.

Node ids follow Marquez: ``dataset:<namespace>:<name>`` and ``job:<namespace>:<name>``, with
namespace and name as the OpenLineage naming spec gives them: every dataset identifier is
normalised by :func:`headwater.lineage.naming.normalise` on its way in (``postgresql://h`` is
``postgres://h:5432``), so one dataset is one node whatever producer spells it, and a node reads
as its spec URI (``file:/tmp/x``). A dataset's ``symlinks`` facet makes each identifier an alias
of the dataset that carries it (a headwater product's table is ``file:/…/warehouse/<ns>/<product>``
with the alias ``headwater://<project>/<product>``); two nodes found to be one are merged. Edges
run in the direction data flows: input dataset -> job -> output dataset.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from headwater.lineage import naming


def dataset_id(namespace: str, name: str) -> str:
    """The node id of a dataset, however its namespace is spelled (see ``naming.normalise``)."""
    namespace, name = naming.normalise(namespace, name)
    return f"dataset:{namespace}:{name}"


def job_id(namespace: str, name: str) -> str:
    return f"job:{namespace}:{name}"


@dataclass
class Node:
    """A job or a dataset, with the latest facets seen for it and where it came from."""

    id: str
    kind: str  # "job" or "dataset"
    namespace: str
    name: str
    facets: dict[str, Any] = field(default_factory=dict)
    aliases: set[str] = field(default_factory=set)  # "<namespace>:<name>" of its other identifiers
    symlinks: set[tuple[str, str]] = field(default_factory=set)  # the same, as (namespace, name)
    owners: list[str] = field(default_factory=list)
    origins: set[str] = field(default_factory=set)  # "events", "project", "dbt"
    attrs: dict[str, Any] = field(default_factory=dict)  # product, tier, consumers, parent job...

    @property
    def uri(self) -> str:
        """The naming spec's URI of the node: ``file:/tmp/x``, ``postgres://h:5432/db.s.t``."""
        return naming.uri(self.namespace, self.name)

    @property
    def label(self) -> str:
        """The one name every shell prints: the declared product or source, else the URI."""
        return self.attrs.get("product") or self.attrs.get("source") or self.uri

    def to_dict(self) -> dict:
        return {"id": self.id, "type": self.kind.upper(), "namespace": self.namespace,
                "name": self.name, "uri": self.uri, "label": self.label,
                "aliases": sorted(naming.uri(*s) for s in self.symlinks), "owners": self.owners,
                **{k: v for k, v in self.attrs.items() if v not in (None, [], {})}}


class LineageGraph:
    """Nodes, aliases, and edges both ways; column lineage per dataset."""

    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self.alias: dict[str, str] = {}
        self.children: dict[str, set[str]] = {}
        self.parents: dict[str, set[str]] = {}
        # dataset id -> output column -> [(input dataset id, input column, transformation)]
        self.columns: dict[str, dict[str, list[tuple[str, str, str]]]] = {}
        self.entry_cache: dict[str, dict] = {}  # impact's node descriptions; cleared on change

    # identity -------------------------------------------------------------
    def canonical(self, node_id: str) -> str:
        seen = 0
        while node_id in self.alias and seen < 64:
            node_id, seen = self.alias[node_id], seen + 1
        return node_id

    def get(self, node_id: str) -> Node | None:
        return self.nodes.get(self.canonical(node_id))

    def _identity(self, kind: str, namespace: str, name: str) -> tuple[str, str, str]:
        """(id, namespace, name) as the spec spells a dataset; another spelling of it seen here
        becomes an alias too, so ids built from an event as written still resolve."""
        if kind != "dataset":
            return job_id(namespace, name), namespace, name
        ns, nm = naming.normalise(namespace, name)
        nid = f"dataset:{ns}:{nm}"
        written = f"dataset:{namespace}:{name}"
        if written != nid:
            self.alias.setdefault(written, nid)
        return nid, ns, nm

    def node(self, kind: str, namespace: str, name: str, origin: str) -> Node:
        nid, namespace, name = self._identity(kind, namespace, name)
        nid = self.canonical(nid)
        found = self.nodes.get(nid)
        if found is None:
            found = self.nodes[nid] = Node(nid, kind, namespace, name)
            self.children.setdefault(nid, set())
            self.parents.setdefault(nid, set())
        found.origins.add(origin)
        return found

    def add_alias(self, node: Node, namespace: str, name: str) -> None:
        """Make ``namespace:name`` another name of ``node``; merge if it was a node of its own."""
        alias, namespace, name = self._identity(node.kind, namespace, name)
        alias = self.canonical(alias)
        if alias == node.id:
            return
        node.aliases.add(f"{namespace}:{name}")
        node.symlinks.add((namespace, name))
        other = self.nodes.pop(alias, None)
        self.alias[alias] = node.id
        if other is None:
            return
        node.aliases |= other.aliases | {f"{other.namespace}:{other.name}"}
        node.symlinks |= other.symlinks | {(other.namespace, other.name)}
        node.origins |= other.origins
        for key, value in other.facets.items():
            node.facets.setdefault(key, value)
        for key, value in other.attrs.items():
            node.attrs.setdefault(key, value)
        node.owners = node.owners or other.owners
        for child in self.children.pop(alias, set()):
            self.parents[child].discard(alias)
            self.link(node.id, child)
        for parent in self.parents.pop(alias, set()):
            self.children[parent].discard(alias)
            self.link(parent, node.id)
        if alias in self.columns:
            self.columns.setdefault(node.id, {}).update(self.columns.pop(alias))

    def link(self, origin: str, destination: str) -> None:
        origin, destination = self.canonical(origin), self.canonical(destination)
        if origin != destination:
            self.children.setdefault(origin, set()).add(destination)
            self.parents.setdefault(destination, set()).add(origin)

    # traversal ------------------------------------------------------------
    def walk(self, start: str, direction: str = "downstream", depth: int | None = None) -> dict[str, int]:
        """Every node reachable from ``start`` with its distance (start itself at 0)."""
        edges = self.children if direction == "downstream" else self.parents
        start = self.canonical(start)
        seen = {start: 0}
        queue = deque([start])
        while queue:
            current = queue.popleft()
            if depth is not None and seen[current] >= depth:
                continue
            for nxt in edges.get(current, ()):
                if nxt not in seen:
                    seen[nxt] = seen[current] + 1
                    queue.append(nxt)
        return seen

    def both_ways(self, start: str, depth: int) -> set[str]:
        return set(self.walk(start, "downstream", depth)) | set(self.walk(start, "upstream", depth))

    def find(self, text: str, candidates: Iterable[str] = ()) -> list[str]:
        """Node ids matching ``text``: an id, a URI (``file:/tmp/x``, ``file:///tmp/x``),
        ``namespace:name``, ``namespace/name`` or a bare name; any spelling of a namespace."""
        for guess in (*candidates, text, f"dataset:{text}", f"job:{text}"):
            nid = self.canonical(guess)
            if nid in self.nodes:
                return [nid]
        kinds, rest = (dataset_id, job_id), text
        for prefix, make in (("dataset:", dataset_id), ("job:", job_id)):
            if text.startswith(prefix):
                kinds, rest = (make,), text[len(prefix):]
        whole = naming.split_uri(rest)
        splits = [whole] if whole else []
        splits += [(rest[:i], rest[i + 1:]) for i in range(len(rest) - 1, 0, -1) if rest[i] in "/:"]
        for ns, name in splits:
            for make in kinds:
                nid = self.canonical(make(ns, name))
                if nid in self.nodes:
                    return [nid]
        return sorted(n.id for n in self.nodes.values() if n.name == text)
