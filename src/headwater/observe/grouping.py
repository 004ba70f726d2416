"""Which alerts belong together: the root of each in the product graph (sources included).

A node is *troubled* when it has a firing condition (or is the root of a recent open incident).
The root of a condition on node N is the most upstream troubled node among N and its ancestors;
conditions with the same root form one incident, which affects the root and everything
downstream of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone


@dataclass
class Condition:
    """Something firing now: a burn-rate rule on a product's SLI, or a late source."""

    node: str
    kind: str  # product | source
    sli: str
    severity: str
    rule: str
    started_at: datetime | None
    message: str
    values: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        """One alert per node and SLI; its severity may change while it fires."""
        return f"{self.node}:{self.sli}"


def parents(project, node: str) -> list[str]:
    """Direct inputs of a product (products and sources); a source has none."""
    product = project.products.get(node)
    return list(product.inputs) if product is not None else []


def ancestors(project, node: str) -> set[str]:
    seen: set[str] = set()
    stack = parents(project, node)
    while stack:
        n = stack.pop()
        if n not in seen:
            seen.add(n)
            stack.extend(parents(project, n))
    return seen


def root_of(project, node: str, troubled: set[str], first_bad: dict[str, datetime] | None = None) -> str:
    """The most upstream troubled node at or above ``node``. When several branches are troubled
    (a join of two broken inputs), the one whose trouble began first wins, then sources, then
    the name."""
    candidates = [n for n in ancestors(project, node) | {node} if n in troubled]
    minimal = [n for n in candidates if not (ancestors(project, n) & troubled)]
    never = datetime.max.replace(tzinfo=timezone.utc)
    minimal.sort(key=lambda n: ((first_bad or {}).get(n) or never, n not in project.sources, n))
    return minimal[0] if minimal else node


def affected(project, root: str) -> list[str]:
    """Every product hit by trouble at ``root``: itself (if a product) and all its downstream."""
    children: dict[str, set[str]] = {}
    for product in project.products.values():
        for parent in product.inputs:
            children.setdefault(parent, set()).add(product.name)
    seen: set[str] = {root} if root in project.products else set()
    stack = list(children.get(root, ()))
    while stack:
        n = stack.pop()
        if n not in seen:
            seen.add(n)
            stack.extend(children.get(n, ()))
    return sorted(seen)


def group(project, conditions: list[Condition], open_roots: set[str] = frozenset()) -> dict[str, list[Condition]]:
    """Conditions by root. ``open_roots`` are roots of incidents still open within the window,
    so a downstream alert that fires after its upstream cause cleared still joins that incident."""
    troubled = {c.node for c in conditions} | set(open_roots)
    first_bad: dict[str, datetime] = {}
    for c in conditions:
        if c.started_at is not None and (c.node not in first_bad or c.started_at < first_bad[c.node]):
            first_bad[c.node] = c.started_at
    out: dict[str, list[Condition]] = {}
    for c in conditions:
        out.setdefault(root_of(project, c.node, troubled, first_bad), []).append(c)
    return out
