"""`contract import` on bad input: YAML syntax, empty files and malformed ODCS/DCS documents give
one error naming the file, the line and the key, never a Python exception."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from headwater.contracts.interop import import_file
from headwater.errors import SpecError

SHARED = Path("/work/shared/testdata/datacontracts")


def _file(tmp_path, text, name="c.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_yaml_syntax_error_names_the_line(tmp_path):
    path = _file(tmp_path, "apiVersion: v3.1.0\n  kind: DataContract\n schema: [\n", "bad_indent.yaml")
    with pytest.raises(SpecError) as err:
        import_file(path, "odcs")
    assert err.value.location.line == 2 and "YAML syntax error" in err.value.message
    assert err.value.location.file.endswith("bad_indent.yaml")


@pytest.mark.parametrize("text", ["", "# only a comment\n", "---\n"], ids=["empty", "comment", "document-marker"])
def test_an_empty_file_is_an_error(tmp_path, text):
    with pytest.raises(SpecError, match="the file is empty") as err:
        import_file(_file(tmp_path, text, "empty.yaml"), "odcs")
    assert "ODCS v3" in err.value.fix


@pytest.mark.parametrize("text,kind", [("- 1\n- 2\n", "list"), ("just text\n", "str")])
def test_a_file_that_is_not_a_mapping_is_an_error(tmp_path, text, kind):
    with pytest.raises(SpecError, match=f"holds a {kind}, not a mapping"):
        import_file(_file(tmp_path, text), "dcs")


P = "schema:\n  - name: t\n    properties:\n"
BAD_ODCS = {
    "schema-not-a-list": ("schema: 5\n", 1, "schema", "must be a list"),
    "schema-entry-not-a-mapping": ("schema: [1]\n", 1, "schema.0", "must be a mapping"),
    "property-without-name": (P + "      - logicalType: string\n", 4, "schema.0.properties.0", "needs a 'name'"),
    "nested-property-without-name": (P + "      - name: a\n        logicalType: object\n        properties: [{x: 1}]\n",
                                     6, "schema.0.properties.0.properties.0", "needs a 'name'"),
    "array-items-not-a-mapping": (P + "      - {name: a, logicalType: array, items: 3}\n", 4,
                                  "schema.0.properties.0.items", "must be a mapping"),
    "threshold-not-a-number": (P + "      - name: a\n        quality: [{metric: nullValues, mustBeLessThan: lots}]\n",
                               5, "schema.0.properties.0.quality.0.mustBeLessThan", "must be a number"),
    "between-not-two-numbers": ("schema:\n  - name: t\n    quality: [{metric: rowCount, mustBeBetween: 5}]\n"
                                + "    properties: [{name: a}]\n", 3, "schema.0.quality.0.mustBeBetween", "two numbers"),
    "foreign-key-mismatch": ("schema:\n  - name: t\n    relationships: [{from: [t.a, t.b], to: x.id}]\n"
                             + "    properties: [{name: a}]\n", 3, "schema.0.relationships.0", "as many columns"),
    "version-not-semantic": ("version: '1.1'\n" + P + "      - {name: a}\n", 1, "version", "not semantic"),
    "duplicate-property": (P + "      - {name: a}\n      - {name: a}\n", 2, "schema.0", "declared twice"),
    "bad-pattern": (P + "      - {name: a, logicalTypeOptions: {pattern: '('}}\n", 4, "schema.0.properties.0",
                    "not a regular expression"),
}


@pytest.mark.parametrize("text,line,key,message", BAD_ODCS.values(), ids=BAD_ODCS.keys())
def test_a_malformed_odcs_document_names_the_line_and_key(tmp_path, text, line, key, message):
    with pytest.raises(SpecError) as err:
        import_file(_file(tmp_path, text), "odcs")
    assert (err.value.location.line, err.value.location.key) == (line, key) and message in err.value.message, \
        str(err.value)


M = "models:\n  orders:\n    fields:\n"
BAD_DCS = {
    "models-a-list": ("models: [1]\n", 1, "models", "must be a mapping"),
    "model-not-a-mapping": ("models: {a: 5}\n", 1, "models.a", "must be a mapping"),
    "fields-a-list": ("models:\n  a:\n    fields: [x]\n", 3, "models.a.fields", "must be a mapping"),
    "field-not-a-mapping": (M + "      id: 5\n", 4, "models.orders.fields.id", "must be a mapping"),
    "unknown-definition": (M + "      id: {$ref: '#/definitions/nope'}\n", 1, "definitions", "names no definition"),
    "self-containing-definition": ("definitions: {n: {type: array, items: {$ref: '#/definitions/n'}}}\n"
                                   + M + "      id: {$ref: '#/definitions/n'}\n", 5, "models.orders.fields.id",
                                   "nests too deeply"),
    "enum-not-a-list": (M + "      id: {enum: 5}\n", 4, "models.orders.fields.id.enum", "list of values"),
    "version-not-semantic": ("info:\n  version: x\n" + M + "      id: {}\n", 2, "info.version", "not semantic"),
    "bad-decimal": (M + "      id: {type: decimal, precision: abc}\n", 4, "models.orders.fields.id", "unknown type"),
}


@pytest.mark.parametrize("text,line,key,message", BAD_DCS.values(), ids=BAD_DCS.keys())
def test_a_malformed_dcs_document_names_the_line_and_key(tmp_path, text, line, key, message):
    with pytest.raises(SpecError) as err:
        import_file(_file(tmp_path, text), "dcs")
    assert (err.value.location.line, err.value.location.key) == (line, key) and message in err.value.message, \
        str(err.value)


def test_a_dcs_file_imported_as_odcs_says_which_format_it_is(tmp_path):
    with pytest.raises(SpecError, match="looks like a Data Contract Specification") as err:
        import_file(SHARED / "dcs/orders-latest.datacontract.yaml", "odcs")
    assert err.value.fix == "add --format dcs"


def test_an_unknown_schema_object_lists_the_others():
    with pytest.raises(SpecError, match="no schema object 'nope'") as err:
        import_file(SHARED / "odcs/full-example.odcs.yaml", "odcs", "nope")
    assert err.value.fix == "use one of tbl, receivers" and err.value.location.line == 36


@pytest.mark.parametrize("text,name", [("a: 1\n  b: 2\n", "bad_indent.yaml"), ("", "empty.yaml"),
                                       ("schema: [{name: t, properties: [{logicalType: string}]}]\n", "x.yaml")],
                         ids=["syntax", "empty", "no-name"])
def test_the_cli_prints_one_clear_error(tmp_path, monkeypatch, capsys, text, name):
    from headwater.cli import main

    path = _file(tmp_path, text, name)
    monkeypatch.setattr(sys, "argv", ["headwater", "contract", "import", str(path)])
    with pytest.raises(SystemExit) as exit_:
        main()
    err = capsys.readouterr().err
    assert exit_.value.code == 1 and err.startswith("Error: ") and name in err
    assert "unexpected" not in err and "Traceback" not in err
