"""`contract compat` on bad input: an invalid schema is an error naming the file and the place,
never a verdict and never a Python exception; the real cases all stay valid."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from headwater.contracts.compat import InvalidSchema, check_files, compatibility
from headwater.errors import HeadwaterError, SpecError

DATA = Path("/work/shared/testdata")
AVRO_CASES = json.loads((DATA / "schema_compat/avro_reader_writer_cases.json").read_text())
ALL = json.loads((DATA / "third_party/schema_compat/compat_cases.json").read_text())


def _record(*fields, **extra):
    return {"type": "record", "name": "r", "fields": list(fields), **extra}


def _write(tmp_path, name, doc) -> Path:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def test_unknown_type_name_names_the_file_and_the_field(tmp_path):
    path = _write(tmp_path, "a.avsc", _record({"name": "a", "type": "intt"}))
    with pytest.raises(InvalidSchema) as err:
        check_files("avro", "BACKWARD", path, [path])
    assert isinstance(err.value, SpecError)
    assert (err.value.location.file, err.value.location.key) == (str(path), "/fields/0/type")
    assert "unknown type 'intt'" in err.value.message and "long" in err.value.fix


INVALID_AVRO = {
    "json-array-of-numbers": ([1, 2], "/0", "not 1"),
    "number": (42, "/", "not 42"),
    "null": (None, "/", "not null"),
    "object-without-type": ({"name": "r"}, "/", "needs a 'type'"),
    "type-is-an-object": ({"type": {"type": "int"}}, "/type", "must be a type name"),
    "record-without-name": ({"type": "record", "fields": []}, "/name", "needs a 'name'"),
    "record-without-fields": ({"type": "record", "name": "r"}, "/fields", "'fields' list"),
    "field-not-an-object": (_record("a"), "/fields/0", "a field is a JSON object"),
    "field-without-type": (_record({"name": "a"}), "/fields/0", "has no 'type'"),
    "duplicate-field": (_record({"name": "a", "type": "int"}, {"name": "a", "type": "long"}),
                        "/fields/1/name", "declared twice"),
    "bad-field-name": (_record({"name": "a-b", "type": "int"}), "/fields/0/name", "not a valid name"),
    "string-default-on-long": (_record({"name": "a", "type": "long", "default": "abc"}), "/fields/0/default",
                               "expected long"),
    "int-default-out-of-range": (_record({"name": "a", "type": "int", "default": 2**31}), "/fields/0/default",
                                 "expected int"),
    "union-default-not-first-branch": (_record({"name": "a", "type": ["null", "string"], "default": "x"}),
                                       "/fields/0/default", "expected null"),
    "record-default-missing-field": (_record({"name": "a", "type": _record({"name": "x", "type": "int"}, name="in"),
                                              "default": {}}), "/fields/0/default", "missing and has no default"),
    "duplicate-enum-symbol": ({"type": "enum", "name": "e", "symbols": ["A", "A"]}, "/symbols/1", "listed twice"),
    "enum-default-not-a-symbol": ({"type": "enum", "name": "e", "symbols": ["A"], "default": "B"}, "/default",
                                  "not one of its symbols"),
    "enum-without-symbols": ({"type": "enum", "name": "e"}, "/symbols", "'symbols' list"),
    "fixed-without-size": ({"type": "fixed", "name": "f"}, "/size", "'size'"),
    "array-without-items": ({"type": "array"}, "/", "needs 'items'"),
    "map-without-values": ({"type": "map"}, "/", "needs 'values'"),
    "union-in-union": (["null", ["int", "long"]], "/1", "another union"),
    "duplicate-union-branch": (["int", "string", "int"], "/2", "two int branches"),
    "name-defined-twice": (_record({"name": "a", "type": {"type": "fixed", "name": "r", "size": 1}}),
                           "/fields/0/type/name", "defined twice"),
    "use-before-definition": (_record({"name": "a", "type": "later"},
                                      {"name": "b", "type": {"type": "fixed", "name": "later", "size": 2}}),
                              "/fields/0/type", "unknown type 'later'"),
}


@pytest.mark.parametrize("schema,pointer,text", INVALID_AVRO.values(), ids=INVALID_AVRO.keys())
def test_an_invalid_avro_schema_is_an_error_not_a_verdict(schema, pointer, text):
    with pytest.raises(InvalidSchema) as err:
        compatibility("avro", "BACKWARD", schema, [schema])
    assert err.value.location.key == pointer and text in err.value.message, str(err.value)
    assert err.value.location.file == "the new schema"


def test_valid_defaults_and_references_are_accepted():
    inner = {"type": "record", "name": "Inner", "namespace": "x",
             "fields": [{"name": "n", "type": "int", "default": 1}]}
    schema = _record(
        {"name": "a", "type": "long", "default": 5}, {"name": "b", "type": ["null", "string"], "default": None},
        {"name": "c", "type": {"type": "array", "items": "double"}, "default": [1, 2.5]},
        {"name": "d", "type": {"type": "enum", "name": "E", "symbols": ["A", "B"]}, "default": "B"},
        {"name": "e", "type": inner, "default": {}}, {"name": "f", "type": "x.Inner"},
        {"name": "g", "type": "float", "default": "NaN"}, {"name": "h", "type": ["r", "null"]},  # recursive
        {"name": "i", "type": {"type": "map", "values": "E"}, "default": {"k": "A"}},
        {"name": "j", "type": {"type": "fixed", "name": "F", "size": 2}, "default": "ab"})
    assert compatibility("avro", "FULL", schema, [schema]).compatible


def test_an_invalid_older_version_is_named_as_such():
    good = _record({"name": "a", "type": "int"})
    bad = _record({"name": "a", "type": "int"}, {"name": "a", "type": "int"})
    with pytest.raises(InvalidSchema) as err:
        compatibility("avro", "BACKWARD_TRANSITIVE", good, [good, bad])
    assert err.value.location.file == "version -2"
    with pytest.raises(InvalidSchema):  # Schema Registry validates in every mode, NONE included
        compatibility("avro", "NONE", bad, [good])


def test_every_recorded_avro_and_json_schema_is_valid():
    from headwater.contracts.compat.avro_parse import validate as avro_valid
    from headwater.contracts.compat.jsonschema_parse import validate as json_valid

    seen = 0
    for case in AVRO_CASES + ALL:
        docs = [case.get(k) for k in ("reader", "writer", "new_schema") if k in case]
        docs += case.get("previous_schemas_oldest_first", [])
        for doc in docs:
            if case["format"] == "AVRO":
                avro_valid(doc, case["id"])
            elif case["format"] == "JSON":
                json_valid(doc, case["id"])
            else:
                continue
            seen += 1
    assert seen > 1100


INVALID_JSON_SCHEMA = {
    "unknown-type": ({"type": "objekt"}, "/type", "'objekt' is not valid"),
    "unknown-nested-type": ({"properties": {"a": {"type": "strin"}}}, "/properties/a/type", "'strin'"),
    "array-document": ([1, 2], "/", "not an array"),
    "number-document": (5, "/", "not a number"),
    "bad-regex": ({"pattern": "("}, "/pattern", "regex"),
    "negative-max-length": ({"maxLength": -1}, "/maxLength", "-1"),
    "dangling-ref": ({"properties": {"a": {"$ref": "#/definitions/x"}}}, "/properties/a/$ref", "points at nothing"),
    "schema-uri-not-text": ({"$schema": 7}, "/$schema", "'$schema'"),
    "prefix-items-not-a-list": ({"type": "array", "prefixItems": {"type": "string"}}, "/prefixItems", "not of type"),
    "dependent-schemas-not-an-object": ({"dependentSchemas": []}, "/dependentSchemas", "not of type"),
}


@pytest.mark.parametrize("schema,pointer,text", INVALID_JSON_SCHEMA.values(), ids=INVALID_JSON_SCHEMA.keys())
def test_an_invalid_json_schema_is_an_error_not_a_verdict(schema, pointer, text):
    with pytest.raises(InvalidSchema) as err:
        compatibility("jsonschema", "BACKWARD", schema, [{"type": "object"}])
    assert err.value.location.key == pointer and text in err.value.message, str(err.value)


def test_a_ref_to_a_boolean_schema_is_compared_not_crashed():
    old = {"properties": {"a": {"$ref": "#/definitions/any"}}, "definitions": {"any": True}}
    new = {"properties": {"a": {"$ref": "#/definitions/any", "description": "x"}}, "definitions": {"any": True}}
    assert compatibility("jsonschema", "FULL", new, [old]).compatible


def test_a_file_that_is_not_json_names_the_line(tmp_path):
    path = _write(tmp_path, "s.json", '{\n  "type": "object",\n  oops\n}')
    with pytest.raises(InvalidSchema) as err:
        check_files("jsonschema", "BACKWARD", path, [path])
    assert err.value.location.line == 3 and "not JSON" in err.value.message


@pytest.mark.parametrize("fmt,doc,text", [
    ("avro", {"type": "record", "name": "r", "fields": [{"name": "a", "type": "intt"}]}, "invalid Avro schema"),
    ("avro", [1, 2], "invalid Avro schema"),
    ("jsonschema", {"type": "objekt"}, "invalid JSON Schema"),
], ids=["unknown-type", "not-a-schema", "objekt"])
def test_the_cli_prints_one_clear_error(tmp_path, monkeypatch, capsys, fmt, doc, text):
    from headwater.cli import main

    path = _write(tmp_path, "s.json", doc)
    monkeypatch.setattr(sys, "argv", ["headwater", "contract", "compat", "--format", fmt, str(path), str(path)])
    with pytest.raises(SystemExit) as exit_:
        main()
    err = capsys.readouterr().err
    assert exit_.value.code == 1 and f"Error: {text}" in err and str(path) in err
    assert "unexpected" not in err and "Traceback" not in err


def test_unknown_format_is_reported_before_reading(tmp_path):
    with pytest.raises(HeadwaterError, match="unknown format"):
        check_files("protobuf", "BACKWARD", tmp_path / "missing.proto", [])
