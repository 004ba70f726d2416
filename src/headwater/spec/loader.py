"""Load a project folder into a validated Project, collecting every error with its location."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from headwater.errors import Location, SpecError, SpecErrors
from headwater.spec.config import ProjectConfig
from headwater.spec.diagnostics import spec_errors
from headwater.spec.graph import check_graph
from headwater.spec.product import Product
from headwater.spec.project import Project
from headwater.spec.source import FileSource
from headwater.spec.yamlio import YamlDoc, read_yaml

PROJECT_FILE = "headwater.yaml"
SPEC_DIRS = ("sources", "products")
_PRODUCT = TypeAdapter(Product)


def find_root(start: str | os.PathLike | None = None) -> Path:
    """The project folder: ``start``, else $HEADWATER_PROJECT, else the current folder."""
    candidate = Path(start or os.environ.get("HEADWATER_PROJECT") or ".").expanduser()
    if not (candidate / PROJECT_FILE).is_file():
        raise SpecError(
            f"no {PROJECT_FILE} in {candidate.resolve()}",
            location=Location(str(candidate / PROJECT_FILE)),
            fix="pass --project DIR, set HEADWATER_PROJECT, or create one with "
                "'headwater init DIR --example ecommerce'",
        )
    return candidate.resolve()


def load_project(start: str | os.PathLike | None = None) -> Project:
    """Read and check the whole project; raise SpecErrors listing every problem found."""
    root = find_root(start)
    errors: list[SpecError] = []
    config = _load_config(root, errors)
    project = Project(root=root, config=config or ProjectConfig(name="invalid"))
    for path in _spec_files(root):
        try:
            doc = read_yaml(path, root)
        except SpecError as exc:
            errors.append(exc)
            continue
        _load_doc(doc, project, errors)
    if config is not None:
        check_graph(project, errors)
    if errors:
        raise SpecErrors(errors)
    return project


def _load_config(root: Path, errors: list[SpecError]) -> ProjectConfig | None:
    try:
        doc = read_yaml(root / PROJECT_FILE, root)
    except SpecError as exc:
        errors.append(exc)
        return None
    if not isinstance(doc.data, dict):
        errors.append(SpecError("headwater.yaml must be a mapping", location=doc.location(()),
                                fix="start with 'name: my_project'"))
        return None
    try:
        return ProjectConfig.model_validate(doc.data)
    except ValidationError as exc:
        errors.extend(spec_errors(exc, doc, (), ProjectConfig))
        return None


def _spec_files(root: Path) -> list[Path]:
    files: list[Path] = []
    for folder in SPEC_DIRS:
        base = root / folder
        if base.is_dir():
            files.extend(p for p in base.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    return sorted(files)


def _load_doc(doc: YamlDoc, project: Project, errors: list[SpecError]) -> None:
    data = doc.data
    if not isinstance(data, dict):
        errors.append(SpecError("the file must be a mapping with 'products:' and/or 'sources:'",
                                location=doc.location(()), fix="start the file with 'products:'"))
        return
    for key in data:
        if key not in ("products", "sources"):
            errors.append(SpecError(f"unknown top-level key {key!r}", location=doc.location((key,)),
                                    fix="a spec file holds only 'products:' and 'sources:' lists"))
    for section, adapter in (("sources", None), ("products", _PRODUCT)):
        items = data.get(section)
        if items is None:
            continue
        if not isinstance(items, list):
            errors.append(SpecError(f"{section!r} must be a list", location=doc.location((section,)),
                                    fix=f"write one '- name: ...' entry per {section[:-1]}"))
            continue
        for index, item in enumerate(items):
            _load_item(doc, project, errors, section, index, item)


def _load_item(doc: YamlDoc, project: Project, errors: list[SpecError], section: str,
               index: int, item: Any) -> None:
    loc = (section, index)
    if not isinstance(item, dict):
        errors.append(SpecError(f"each entry of {section!r} must be a mapping",
                                location=doc.location(loc), fix="start the entry with '- name: ...'"))
        return
    try:
        if section == "sources":
            model = FileSource.model_validate({"kind": "file", **item})
        else:
            model = _PRODUCT.validate_python({"lane": "batch", **item})
    except ValidationError as exc:
        owner = FileSource if section == "sources" else Product
        errors.extend(spec_errors(exc, doc, loc, owner))
        return
    name = model.name
    if name in project.products or name in project.sources:
        errors.append(SpecError(f"{name!r} is declared twice (first at {project.origins[name]})",
                                location=doc.location(loc + ("name",)),
                                fix="give each product and source a unique name"))
        return
    project.origins[name] = doc.location(loc)
    project.docs[name] = (doc, loc)
    if section == "sources":
        project.sources[name] = model
    else:
        project.products[name] = model
