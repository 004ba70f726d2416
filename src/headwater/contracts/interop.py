"""File-level import and export used by the CLI (ODCS v3, DCS 1.x -> headwater YAML), and what
the two importers share: ImportProblem (where in the document) and the checks that raise it."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from headwater.contracts.model import Contract
from headwater.errors import HeadwaterError, NotFoundError, SpecError

if TYPE_CHECKING:
    from headwater.platform import Platform

# format -> (what it is, what a document starts with, what one document holds several of)
_WHAT = {"odcs": ("an ODCS v3 contract", "apiVersion: v3.1.0, kind: DataContract, schema: [...]", "schema object"),
         "dcs": ("a Data Contract Specification 1.x contract", "dataContractSpecification, info, models", "model"),
         "headwater": ("a headwater contract", "", "")}


class ImportProblem(HeadwaterError):
    """A part of an ODCS or DCS document that cannot be imported; ``key`` is where, as a path of
    keys into the document (``import_file`` turns it into file:line)."""

    def __init__(self, message: str, *, key: tuple = (), fix: str | None = None) -> None:
        super().__init__(message, fix=fix)
        self.key = tuple(key)


def items(container: dict, key: str, where: tuple) -> list[dict]:
    """``container[key]`` as a list of mappings (empty when absent), else an ImportProblem at it."""
    found = container.get(key) or []
    if not isinstance(found, list):
        raise ImportProblem(f"{key!r} must be a list, not {type(found).__name__}", key=(*where, key))
    for i, item in enumerate(found):
        if not isinstance(item, dict):
            raise ImportProblem(f"each entry of {key!r} must be a mapping, not {item!r}", key=(*where, key, i))
    return found


def validated(data: dict[str, Any], where: tuple,
              locate: Callable[[tuple], tuple | None] | None = None) -> Contract:
    """``data`` as a Contract; else an ImportProblem at ``locate(the contract key)`` or ``where``."""
    from pydantic import ValidationError

    try:
        return Contract.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        at = ".".join(str(p) for p in err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        raise ImportProblem(f"the imported contract would be invalid: {at + ': ' if at else ''}{message}",
                            key=(locate and locate(tuple(err["loc"]))) or where,
                            fix="correct that part of the document (headwater needs e.g. a semantic "
                            "version and unique column names)") from None


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
    """The headwater contract YAML for one schema object (ODCS) or model (DCS) of a file.

    Without ``name`` the first is taken, and when there are several a leading comment says which.
    Every problem is a SpecError naming the file and line.
    """
    from headwater.spec.yamlio import read_yaml

    path = Path(path)
    if not path.is_file():
        raise NotFoundError(f"{path} does not exist", fix="give the path of an ODCS or DCS file")
    convert, names = _importer(fmt)
    what, starts, part = _WHAT[fmt]
    doc = read_yaml(path, Path.cwd())
    if not doc.data:
        raise SpecError("the file is empty", location=doc.location(()), fix=f"give {what} ({starts})")
    if not isinstance(doc.data, dict):
        raise SpecError(f"the file holds a {type(doc.data).__name__}, not a mapping", location=doc.location(()),
                        fix=f"give {what} ({starts})")
    from headwater.contracts.lint import detect

    if (found := detect(doc.data)) in _WHAT and found != fmt:
        raise SpecError(f"this looks like {_WHAT[found][0]}, not {what}", location=doc.location(()),
                        fix="use it as it is" if found == "headwater" else f"add --format {found}")
    try:
        options = names(doc.data)
        text = contract_yaml(convert(doc.data, name))
    except ImportProblem as exc:
        raise SpecError(exc.message, location=doc.location(exc.key), fix=exc.fix) from None
    if name is None and len(options) > 1:  # say which one was taken, in the output itself
        text = (f"# imported {part} {options[0]!r}, the first of {len(options)} in {path.name} "
                f"({', '.join(options)}); choose another with --product NAME\n") + text
    return text


def _importer(fmt: str) -> tuple[Callable[[dict, str | None], Contract], Callable[[Any], list[str]]]:
    if fmt == "odcs":
        from headwater.contracts.odcs import import_odcs, schema_names
        return import_odcs, schema_names
    if fmt == "dcs":
        from headwater.contracts.dcs import import_dcs, model_names
        return import_dcs, model_names
    raise HeadwaterError(f"unknown import format {fmt!r}", fix="use --format odcs or --format dcs")


def export_contract(platform: Platform, product: str, fmt: str) -> str:
    if fmt != "odcs":
        raise HeadwaterError(f"unknown export format {fmt!r}", fix="use --format odcs")
    contract = platform.contracts.contract(product)
    if contract is None:
        raise NotFoundError(f"{product!r} has no contract", fix=f"write contracts/{product}.yaml")
    from headwater.contracts.odcs import export_odcs

    try:
        return _yaml_text(export_odcs(contract))
    except ImportProblem as exc:
        at = ".".join(str(k) for k in exc.key)
        raise HeadwaterError(f"the ODCS document kept in the contract of {product!r} (extensions.odcs"
                             f"{'.' + at if at else ''}) is damaged: {exc.message}",
                             fix="import the ODCS document again, or remove 'extensions' from the contract") from None
