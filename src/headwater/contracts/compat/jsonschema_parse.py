"""Whether a JSON Schema is valid at all: it meets its draft's meta-schema (draft 7 unless
``$schema`` names another) and every local ``$ref`` points at something, as Schema Registry checks."""

from __future__ import annotations

from typing import Any

from headwater.contracts.compat import InvalidSchema

_TYPES = "array, boolean, integer, null, number, object, string"
_VALUES = ("enum", "const", "default", "examples")  # plain data: a "$ref" key there is not a reference


def validate(schema: Any, source: str = "the schema") -> None:
    """Raise InvalidSchema (naming ``source`` and a JSON pointer) unless ``schema`` is valid."""
    import jsonschema
    from jsonschema.validators import validator_for

    if not isinstance(schema, (dict, bool)):
        raise InvalidSchema(f"invalid JSON Schema: a schema is a JSON object or a boolean, not {_kind(schema)}",
                            source=source, pointer="/", fix="give a JSON Schema document such as "
                            '{"type": "object", "properties": {...}}')
    if isinstance(schema, dict) and not isinstance(schema.get("$schema", ""), str):
        raise InvalidSchema("invalid JSON Schema: '$schema' must be the URI of a draft", source=source,
                            pointer="/$schema", fix='e.g. "$schema": "http://json-schema.org/draft-07/schema#"')
    try:
        validator_for(schema, default=jsonschema.Draft7Validator).check_schema(schema)
        _check_newer_keywords(schema)
    except jsonschema.SchemaError as exc:
        pointer = "/" + "/".join(str(p) for p in exc.absolute_path)
        fix = f"a type is one of {_TYPES}" if exc.absolute_path and exc.absolute_path[-1] == "type" \
            else "correct the keyword as its JSON Schema draft defines it"
        raise InvalidSchema(f"invalid JSON Schema: {_short(exc.message)}", source=source, pointer=pointer,
                            fix=fix) from None
    for pointer, ref in _refs(schema, ""):
        if ref.startswith("#/") and _follow(schema, ref) is _MISSING:
            raise InvalidSchema(f"invalid JSON Schema: $ref {ref!r} points at nothing in the document",
                                source=source, pointer=pointer, fix="define what it names (e.g. under "
                                "$defs or definitions), or correct the reference")


_MISSING = object()
# Keywords of drafts 2019-09/2020-12 the compatibility check reads whatever the draft: an older
# meta-schema lets them hold anything, so their shape is checked against the 2020-12 one.
_NEWER = {"prefixItems", "dependentSchemas", "dependentRequired", "minContains", "maxContains",
          "unevaluatedItems", "unevaluatedProperties", "$defs"}
_NAMING = {"properties", "patternProperties", "definitions", "$defs", "dependentSchemas", "dependencies"}


def _check_newer_keywords(schema: Any) -> None:
    import jsonschema

    meta = jsonschema.Draft202012Validator(jsonschema.Draft202012Validator.META_SCHEMA)
    for error in sorted(meta.iter_errors(schema), key=lambda e: len(e.absolute_path)):
        path = list(error.absolute_path)
        if any(p in _NEWER and (i == 0 or path[i - 1] not in _NAMING) for i, p in enumerate(path)):
            raise jsonschema.SchemaError.create_from(error)


def _refs(node: Any, pointer: str):
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield f"{pointer}/$ref", node["$ref"]
        for key, value in node.items():
            if key not in _VALUES:
                yield from _refs(value, f"{pointer}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _refs(value, f"{pointer}/{i}")


def _follow(root: Any, ref: str) -> Any:
    from urllib.parse import unquote

    node = root
    for part in unquote(ref[2:]).split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
    return node


def _short(message: str) -> str:
    return message if len(message) <= 160 else message[:157] + "..."


def _kind(value: Any) -> str:
    return {list: "an array", str: "a string", int: "a number", float: "a number", type(None): "null"}.get(
        type(value), type(value).__name__)
