"""File-level import and export used by the CLI (ODCS v3, DCS 1.x -> headwater YAML)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import TYPE_CHECKING

from headwater.contracts.model import Contract
from headwater.errors import HeadwaterError, NotFoundError

if TYPE_CHECKING:
    from headwater.platform import Platform


def _yaml_text(data) -> str:
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.default_flow_style = False
    yaml.width = 100
    buf = io.StringIO()
    yaml.dump(json.loads(json.dumps(data, default=str)), buf)
    return buf.getvalue()


def contract_yaml(contract: Contract) -> str:
    return _yaml_text(contract.model_dump(mode="json", exclude_defaults=True, exclude_none=True)
                      | {"product": contract.product, "version": contract.version})


def import_file(path: Path, fmt: str, name: str | None = None) -> str:
    from ruamel.yaml import YAML

    if not Path(path).is_file():
        raise NotFoundError(f"{path} does not exist", fix="give the path of an ODCS or DCS file")
    doc = YAML(typ="safe").load(Path(path).read_text(encoding="utf-8"))
    if fmt == "odcs":
        from headwater.contracts.odcs import import_odcs
        return contract_yaml(import_odcs(doc, name))
    if fmt == "dcs":
        from headwater.contracts.dcs import import_dcs
        return contract_yaml(import_dcs(doc, name))
    raise HeadwaterError(f"unknown import format {fmt!r}", fix="use --format odcs or --format dcs")


def export_contract(platform: Platform, product: str, fmt: str) -> str:
    if fmt != "odcs":
        raise HeadwaterError(f"unknown export format {fmt!r}", fix="use --format odcs")
    contract = platform.contracts.contract(product)
    if contract is None:
        raise NotFoundError(f"{product!r} has no contract", fix=f"write contracts/{product}.yaml")
    from headwater.contracts.odcs import export_odcs

    return _yaml_text(export_odcs(contract))
