"""One lineage graph of jobs and datasets, whoever ran the job.

Node ids follow Marquez: ``dataset:<namespace>:<name>`` and ``job:<namespace>:<name>``, with
namespace and name as the OpenLineage naming spec gives them. A dataset's ``symlinks`` facet
makes each identifier an alias of the dataset that carries it (a headwater product's table is
``file:/…/warehouse/<ns>/<product>`` with the alias ``headwater://<project>:<product>``); two
nodes found to be one are merged. Edges run in the direction data flows: input dataset -> job ->
output dataset.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


def dataset_id(namespace: str, name: str) -> str:
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
    aliases: set[str] = field(default_factory=set)
    owners: list[str] = field(default_factory=list)
    origins: set[str] = field(default_factory=set)  # "events", "project", "dbt"
    attrs: dict[str, Any] = field(default_factory=dict)  # product, tier, consumers, parent job...

    @property
    def label(self) -> str:
        return f"{self.namespace}/{self.name}"

    def to_dict(self) -> dict:
        return {"id": self.id, "type": self.kind.upper(), "namespace": self.namespace,
                "name": self.name, "aliases": sorted(self.aliases), "owners": self.owners,
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

    def node(self, kind: str, namespace: str, name: str, origin: str) -> Node:
        nid = self.canonical((dataset_id if kind == "dataset" else job_id)(namespace, name))
        found = self.nodes.get(nid)
        if found is None:
            found = self.nodes[nid] = Node(nid, kind, namespace, name)
            self.children.setdefault(nid, set())
            self.parents.setdefault(nid, set())
        found.origins.add(origin)
        return found

    def add_alias(self, node: Node, namespace: str, name: str) -> None:
        """Make ``namespace:name`` another name of ``node``; merge if it was a node of its own."""
        alias = self.canonical(dataset_id(namespace, name) if node.kind == "dataset"
                               else job_id(namespace, name))
        if alias == node.id:
            return
        node.aliases.add(f"{namespace}:{name}")
        other = self.nodes.pop(alias, None)
        self.alias[alias] = node.id
        if other is None:
            return
        node.aliases |= other.aliases | {f"{other.namespace}:{other.name}"}
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
        """Node ids matching ``text``: an id, ``namespace:name``, ``namespace/name`` or a bare name."""
        for guess in (*candidates, text, f"dataset:{text}", f"job:{text}"):
            nid = self.canonical(guess)
            if nid in self.nodes:
                return [nid]
        if "/" in text:
            for i in range(len(text) - 1, 0, -1):
                if text[i] == "/":
                    ns, name = text[:i], text[i + 1:]
                    for make in (dataset_id, job_id):
                        nid = self.canonical(make(ns, name))
                        if nid in self.nodes:
                            return [nid]
        return sorted(n.id for n in self.nodes.values() if n.name == text)
