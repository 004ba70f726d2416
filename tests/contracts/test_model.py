"""Contract files: validation with file:line errors, plan expansion, types."""

from __future__ import annotations

import pyarrow as pa
import pytest

from headwater.contracts.loader import load_contract
from headwater.contracts.plan import build_plan
from headwater.contracts.types import matches, parse_type
from headwater.errors import SpecErrors


def _load(tmp_path, text):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return load_contract(path, tmp_path)


def test_unknown_key_names_line_and_suggestion(tmp_path):
    with pytest.raises(SpecErrors) as err:
        _load(tmp_path, "product: o\nversion: 1.0.0\ncolumns:\n  - name: a\n    type: long\n    nulable: false\n")
    e = err.value.errors[0]
    assert (e.location.file, e.location.line, e.location.key) == ("c.yaml", 6, "columns.0.nulable")
    assert "did you mean 'nullable'" in e.fix


def test_bad_type_version_and_rule_are_each_reported(tmp_path):
    with pytest.raises(SpecErrors) as err:
        _load(tmp_path, "product: o\nversion: v1\ncolumns:\n  - {name: a, type: int64x}\n"
                        "rules:\n  - {row_count: {min: 1}, severity: quarantine}\n  - {severity: warn}\n")
    lines = sorted((e.location.line, e.message) for e in err.value.errors)
    assert [line for line, _ in lines] == [2, 4, 6, 7]
    assert "semantic" in lines[0][1] and "unknown type" in lines[1][1]
    assert "cannot quarantine" in lines[2][1] and "exactly one of" in lines[3][1]


@pytest.mark.parametrize("pattern", ["a(b", "a{4294967296}"])
def test_a_pattern_that_is_not_a_regex_names_its_line(tmp_path, pattern):
    with pytest.raises(SpecErrors) as err:
        _load(tmp_path, f"product: o\nversion: 1.0.0\ncolumns:\n  - name: a\n    type: string\n"
                        f"    checks: [{{pattern: '{pattern}'}}]\n")
    e = err.value.errors[0]
    assert e.location.line == 6 and "is not a regular expression" in e.message


def test_plan_expands_shorthands_with_unique_ids(tmp_path):
    c = _load(tmp_path, "product: o\nversion: 2.1.0\nprimary_key: id\ncolumns:\n"
                        "  - {name: id, type: long}\n  - {name: e, type: string, nullable: false, unique: true,\n"
                        "     checks: [{range: {min: 1}}, {range: {max: 9}}]}\n")
    ids = [(ch.id, ch.kind, ch.severity.value) for ch in build_plan(c).checks]
    assert ids == [("primary_key.not_null", "not_null", "quarantine"), ("primary_key.unique", "unique", "quarantine"),
                   ("e.not_null", "not_null", "quarantine"), ("e.unique", "unique", "quarantine"),
                   ("e.range#1", "range", "quarantine"), ("e.range#2", "range", "quarantine")]


@pytest.mark.parametrize("declared,actual,ok", [
    ("long", pa.int32(), True), ("int", pa.int64(), False), ("double", pa.float32(), True),
    ("decimal(10,2)", pa.decimal128(8, 2), True), ("decimal(10,2)", pa.decimal128(10, 3), False),
    ("timestamptz", pa.timestamp("ns", tz="UTC"), True), ("timestamptz", pa.timestamp("us"), False),
    ("timestamp", pa.timestamp("us"), True), ("list<string>", pa.list_(pa.string()), True),
    ("struct<a: long, b: string>", pa.struct([("a", pa.int64()), ("b", pa.string())]), True),
    ("struct<a: long, b: string>", pa.struct([("a", pa.int64())]), False),
    ("map<string, double>", pa.map_(pa.string(), pa.float64()), True), ("string", pa.int64(), False),
])
def test_type_matching(declared, actual, ok):
    assert matches(parse_type(declared), actual) is ok
