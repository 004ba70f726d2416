"""Compatibility verdicts against real recorded cases (Apache Avro's suite, Schema Registry's)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from headwater.contracts.compat import compatibility
from headwater.contracts.compat.avro import check as avro_check
from headwater.contracts.compat.jsonschema import check as json_check

DATA = Path("/work/shared/testdata")
AVRO = json.loads((DATA / "schema_compat/avro_reader_writer_cases.json").read_text())
# Schema Registry's own cases are under the Confluent Community Licence: read for testing only.
ALL = json.loads((DATA / "third_party/schema_compat/compat_cases.json").read_text())
JSON_CASES = [c for c in ALL if c["format"] == "JSON"]
AVRO_MODES = [c for c in ALL if c["format"] == "AVRO" and c["mode"] != "READER_WRITER"]


def test_all_137_avro_cases_are_present():
    assert len(AVRO) == 137


@pytest.mark.parametrize("case", AVRO, ids=[c["id"] for c in AVRO])
def test_avro_reader_writer(case):
    found = avro_check(case["reader"], case["writer"])
    assert ("compatible" if not found else "incompatible") == case["expected"]
    assert sorted({f.kind for f in found}) == sorted(set(case["expected_incompatibility_types"]))
    if case["expected_locations"]:
        assert {f.location for f in found} & set(case["expected_locations"])


@pytest.mark.parametrize("case", JSON_CASES, ids=[c["id"] for c in JSON_CASES])
def test_json_schema_backward(case):
    found = json_check(case["reader"], case["writer"])
    assert ("compatible" if not found else "incompatible") == case["expected"], [str(f) for f in found]


@pytest.mark.parametrize("case", AVRO_MODES, ids=[c["id"] for c in AVRO_MODES])
def test_avro_registry_modes(case):
    result = compatibility("avro", case["mode"], case["new_schema"],
                           list(reversed(case["previous_schemas_oldest_first"])))
    assert ("compatible" if result.compatible else "incompatible") == case["expected"], result.messages


def test_transitive_checks_every_older_version():
    v1 = {"type": "record", "name": "r", "fields": [{"name": "a", "type": "int"}]}
    v2 = {"type": "record", "name": "r", "fields": [{"name": "a", "type": "int"},
                                                    {"name": "b", "type": "int", "default": 0}]}
    v3 = {"type": "record", "name": "r", "fields": [{"name": "b", "type": "int"}]}
    assert compatibility("avro", "BACKWARD", v3, [v2, v1]).compatible
    result = compatibility("avro", "BACKWARD_TRANSITIVE", v3, [v2, v1])
    assert not result.compatible and "version -2" in result.messages[0]


def test_headwater_contracts_under_registry_modes(tmp_path):
    from headwater.contracts.loader import load_contract

    def contract(name, columns):
        path = tmp_path / f"{name}.yaml"
        path.write_text("product: orders\nversion: 1.0.0\ncolumns:\n" +
                        "".join(f"  - {{name: {n}, type: {t}, nullable: {str(nl).lower()}}}\n" for n, t, nl in columns))
        return load_contract(path)

    old = contract("old", [("id", "long", False), ("note", "string", True)])
    optional_added = contract("a", [("id", "long", False), ("note", "string", True), ("x", "double", True)])
    required_added = contract("b", [("id", "long", False), ("note", "string", True), ("x", "double", False)])
    narrowed = contract("c", [("id", "int", False), ("note", "string", True)])
    assert compatibility("headwater", "FULL", optional_added, [old]).compatible
    assert not compatibility("headwater", "BACKWARD", required_added, [old]).compatible
    assert compatibility("headwater", "FORWARD", required_added, [old]).compatible
    assert not compatibility("headwater", "BACKWARD", narrowed, [old]).compatible
