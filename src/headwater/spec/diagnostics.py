"""Turn pydantic validation errors into SpecErrors that name the file, line, key and fix."""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import BaseModel, ValidationError

from headwater.errors import SpecError
from headwater.spec.yamlio import YamlDoc


def spec_errors(exc: ValidationError, doc: YamlDoc, prefix: tuple[Any, ...],
                model: type[BaseModel] | None) -> list[SpecError]:
    """One SpecError per pydantic error, located in ``doc`` under ``prefix``."""
    out = []
    for err in exc.errors(include_url=False):
        loc = prefix + tuple(err["loc"])
        key = str(err["loc"][-1]) if err["loc"] else None
        message, fix = _explain(err, key, _model_at(model, err["loc"]))
        out.append(SpecError(message, location=doc.location(loc), fix=fix))
    return out


def _model_at(model: type[BaseModel] | None, loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class that owns the last key of ``loc`` (best effort, for suggestions)."""
    current = model
    for part in loc[:-1]:
        if current is None:
            return None
        field = current.model_fields.get(str(part)) if isinstance(part, str) else None
        if field is None:
            variants = _variants(current)
            match = next((v for v in variants if str(part) == _tag(v)), None)
            if match is not None:
                current = match
            continue
        current = _model_of(field.annotation)
    return current


def _variants(model: Any) -> list[type[BaseModel]]:
    return [a for a in getattr(model, "__args__", ()) if isinstance(a, type) and issubclass(a, BaseModel)]


def _tag(model: type[BaseModel]) -> str | None:
    field = model.model_fields.get("lane") or model.model_fields.get("kind")
    return field.default if field is not None and isinstance(field.default, str) else None


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _explain(err: dict, key: str | None, owner: type[BaseModel] | None) -> tuple[str, str]:
    kind = err["type"]
    if kind == "extra_forbidden":
        allowed = sorted(owner.model_fields) if owner is not None else []
        close = difflib.get_close_matches(key or "", allowed, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        listing = f"allowed keys: {', '.join(allowed)}" if allowed else "remove it"
        return f"unknown key {key!r}", f"{hint}{listing}"
    if kind == "missing":
        desc = ""
        if owner is not None and key in owner.model_fields:
            desc = owner.model_fields[key].description or ""
        return f"required key {key!r} is missing", f"add '{key}: ...'" + (f" ({desc})" if desc else "")
    if kind in ("literal_error", "enum"):
        expected = err.get("ctx", {}).get("expected", "")
        return f"{key!r} has the value {err.get('input')!r}, which is not allowed", f"use one of {expected}"
    if kind == "union_tag_invalid":
        expected = err.get("ctx", {}).get("expected_tags", "")
        tag = err.get("ctx", {}).get("tag")
        return f"unknown lane {tag!r}", f"use one of {expected}"
    if kind == "union_tag_not_found":
        return "the discriminating key is missing", "add 'lane: batch' (or streaming, cdc)"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"{key!r} must be a mapping (key: value pairs), got {type(err.get('input')).__name__}", \
            "indent its keys under it"
    if kind == "list_type":
        return f"{key!r} must be a list, got {type(err.get('input')).__name__}", \
            "write it as a YAML list: [a, b] or one '- item' per line"
    msg = err["msg"].removeprefix("Value error, ")
    return f"{key!r}: {msg}" if key else msg, _generic_fix(kind, msg)


def _generic_fix(kind: str, msg: str) -> str:
    if "duration" in msg:
        return "write a number and a unit, e.g. 15m, 2h, 30d"
    if kind.startswith(("greater", "less")):
        return "use a value inside the allowed range"
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return "give a value of the expected type"
    return "correct the value as described"
