"""Read contract files with located errors (file:line, key, fix), like the project loader."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from headwater.contracts.model import Contract
from headwater.errors import Location, SpecError, SpecErrors
from headwater.spec.diagnostics import spec_errors
from headwater.spec.yamlio import read_yaml

if TYPE_CHECKING:
    from headwater.spec.project import Project

CONTRACT_DIR = "contracts"


def load_contract(path: Path, root: Path | None = None) -> Contract:
    """Parse and validate one headwater contract file; SpecErrors lists every problem."""
    root = root or path.parent
    doc = read_yaml(path, root)
    if not isinstance(doc.data, dict):
        raise SpecError("a contract file must be a mapping", location=doc.location(()),
                        fix="start with 'product: <name>' and 'version: 1.0.0'")
    try:
        return Contract.model_validate(doc.data)
    except ValidationError as exc:
        raise SpecErrors(spec_errors(exc, doc, (), Contract)) from None


def contract_path(project: Project, product: str) -> Path | None:
    """The contract file of ``product``: its ``contract:`` key, else contracts/<product>.yaml."""
    spec = project.product(product)
    if spec.contract:
        path = project.root / spec.contract
        if not path.is_file():
            raise SpecError(f"the contract file {spec.contract!r} of {product!r} does not exist",
                            location=project.where(product, "contract"),
                            fix="create it (see docs/contracts.md) or remove 'contract:'")
        return path
    for suffix in (".yaml", ".yml"):
        path = project.root / CONTRACT_DIR / f"{product}{suffix}"
        if path.is_file():
            return path
    return None


def load_for(project: Project, product: str) -> Contract | None:
    """The contract of ``product`` (None when it has none), checked against the product."""
    path = contract_path(project, product)
    if path is None:
        return None
    contract = load_contract(path, project.root)
    if contract.product != product:
        doc = read_yaml(path, project.root)
        raise SpecError(f"this contract is for {contract.product!r}, but {product!r} uses it",
                        location=doc.location(("product",)),
                        fix=f"set 'product: {product}', or point {product!r} at its own contract")
    return contract


def display(project: Project, path: Path) -> Location:
    try:
        return Location(str(path.relative_to(project.root)))
    except ValueError:
        return Location(str(path))
