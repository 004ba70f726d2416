"""A loaded project: configuration, sources, products and the DAG between them."""

from __future__ import annotations

from dataclasses import dataclass, field
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

from headwater.errors import Location, NotFoundError
from headwater.spec.config import ProjectConfig, TierSpec
from headwater.spec.product import BatchProduct, CdcProduct, StreamingProduct
from headwater.spec.source import Source

AnyProduct = BatchProduct | StreamingProduct | CdcProduct


@dataclass
class Project:
    """Everything declared in a project folder, validated and cross-checked."""

    root: Path
    config: ProjectConfig
    sources: dict[str, Source] = field(default_factory=dict)
    products: dict[str, AnyProduct] = field(default_factory=dict)
    origins: dict[str, Location] = field(default_factory=dict)
    sql: dict[str, str] = field(default_factory=dict)
    docs: dict[str, tuple[Any, tuple]] = field(default_factory=dict, repr=False)

    def where(self, name: str, *key: str | int) -> Location:
        """The file, line and key where ``name`` (or one of its keys) is declared."""
        doc, loc = self.docs[name]
        return doc.location(loc + key)

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def state_dir(self) -> Path:
        path = Path(self.config.state_dir)
        return path if path.is_absolute() else self.root / path

    @property
    def namespace(self) -> str:
        return self.config.catalog.namespace or self.config.name

    @property
    def tiers(self) -> dict[str, TierSpec]:
        return self.config.all_tiers()

    def product(self, name: str) -> AnyProduct:
        try:
            return self.products[name]
        except KeyError:
            raise NotFoundError(
                f"no product named {name!r}",
                fix=f"use one of: {', '.join(sorted(self.products)) or '(none declared)'}",
            ) from None

    def upstream_products(self, name: str) -> list[str]:
        """Direct inputs of ``name`` that are products (not raw sources)."""
        return [i for i in self.products[name].inputs if i in self.products]

    def downstream(self, name: str) -> set[str]:
        """Every product that reads ``name``, directly or through others."""
        children: dict[str, set[str]] = {n: set() for n in self.products}
        for product in self.products.values():
            for parent in self.upstream_products(product.name):
                children[parent].add(product.name)
        seen: set[str] = set()
        stack = list(children.get(name, ()))
        while stack:
            node = stack.pop()
            if node not in seen:
                seen.add(node)
                stack.extend(children[node])
        return seen

    def upstream_closure(self, names: list[str]) -> set[str]:
        seen: set[str] = set()
        stack = list(names)
        while stack:
            node = stack.pop()
            if node not in seen:
                seen.add(node)
                stack.extend(self.upstream_products(node))
        return seen

    def topological_order(self, names: set[str] | None = None) -> list[str]:
        """Products in dependency order (ties broken by name, so the order is stable)."""
        selected = set(self.products) if names is None else names
        sorter = TopologicalSorter({n: [p for p in self.upstream_products(n) if p in selected]
                                    for n in sorted(selected)})
        order: list[str] = []
        sorter.prepare()
        while sorter.is_active():
            ready = sorted(sorter.get_ready())
            order.extend(ready)
            sorter.done(*ready)
        return order
