"""Turn pydantic validation errors into SpecErrors that name the file, line, key and fix."""

from __future__ import annotations

import difflib
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from headwater.errors import SpecError
from headwater.spec.yamlio import YamlDoc


def spec_errors(exc: ValidationError, doc: YamlDoc, prefix: tuple[Any, ...],
                model: type[BaseModel] | None) -> list[SpecError]:
    """One SpecError per pydantic error, located in ``doc`` under ``prefix``."""
    out = []
    for err in exc.errors(include_url=False):
        rel = tuple(err["loc"])
        while rel and rel[-1] in _TAGS:  # a model-level error: it belongs to the item itself
            rel = rel[:-1]
        err = {**err, "loc": rel}
        loc = prefix + rel
        if err["type"].startswith("union_tag"):  # point at the discriminating key itself
            tag_key = "lane" if "lane" in str(err.get("ctx", {}).get("discriminator", "lane")) else "kind"
            loc += (tag_key,)
        key = str(loc[-1]) if loc else None
        message, fix = _explain(err, key, _model_at(model, err["loc"]))
        out.append(SpecError(message, location=doc.location(loc), fix=fix))
    return out


_TAGS = {"batch", "streaming", "cdc", "file"}


def _models(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models inside an annotation (through Optional, Union, Annotated, list)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in get_args(annotation):
        found.extend(_models(arg))
    return found


def _tag(model: type[BaseModel]) -> str | None:
    field = model.model_fields.get("lane") or model.model_fields.get("kind")
    return field.default if field is not None and isinstance(field.default, str) else None


def _model_at(root: Any, loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class that owns the last key of ``loc`` (best effort, for suggestions)."""
    candidates = _models(root)
    for part in loc[:-1]:
        if not candidates:
            return None
        tagged = [c for c in candidates if _tag(c) == part]
        if tagged:
            candidates = tagged
            continue
        if not isinstance(part, str):
            continue
        nxt: list[type[BaseModel]] = []
        for model in candidates:
            field = model.model_fields.get(part)
            if field is not None:
                nxt.extend(_models(field.annotation))
        candidates = nxt
    return candidates[0] if candidates else None


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
    for marker in (": use ", ": write ", ": give ", ": add "):
        if marker in msg:  # validators phrase messages as "<problem>: <what to do>"
            problem, _, todo = msg.partition(marker)
            return (f"{key!r}: {problem}" if key else problem), marker[2:] + todo
    return f"{key!r}: {msg}" if key else msg, _generic_fix(kind, msg)


def _generic_fix(kind: str, msg: str) -> str:
    if "duration" in msg:
        return "write a number and a unit, e.g. 15m, 2h, 30d"
    if kind.startswith(("greater", "less")):
        return "use a value inside the allowed range"
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return "give a value of the expected type"
    return "correct the value as described"
