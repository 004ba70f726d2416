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
                        "  - {name: id, type: long}\n  - {name: e, type: long, nullable: false, unique: true,\n"
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


def _problems(tmp_path, text) -> list[tuple[int, str, str, str]]:
    """(line, key, message, fix) of every problem in a contract that must not load."""
    with pytest.raises(SpecErrors) as err:
        _load(tmp_path, text)
    return [(e.location.line, e.location.key, e.message, e.fix) for e in err.value.errors]


HEAD = "product: o\nversion: 1.0.0\ncolumns:\n"


@pytest.mark.parametrize("bounds,says", [
    ("{min: ten}", "'ten' is not a count"), ("{min: -1}", "-1 is negative"), ("{max: 1.5}", "1.5 is not a count"),
    ("{min: true}", "True is not a count"), ("{min: 5, max: 3}", "no count is >= 5 and <= 3"),
    ("{min: 5, max: 6, exclusive: true}", "no count is > 5 and < 6"),
])
def test_row_count_and_length_bounds_are_whole_numbers_in_order(tmp_path, bounds, says):
    for where, line, key in ((f"  - {{name: a, type: string, checks: [{{length: {bounds}}}]}}\n", 4, "columns.0.checks.0.length"),
                             (f"  - {{name: a, type: string}}\nrules:\n  - {{row_count: {bounds}}}\n", 6, "rules.0.row_count")):
        [(at, where_key, message, fix)] = _problems(tmp_path, HEAD + where)
        assert at == line and where_key.startswith(key) and says in message, (where, message)
        assert "give" in fix or "use" in fix


@pytest.mark.parametrize("type_,bound,says,fix", [
    ("long", "{min: zero}", "'zero' is not a number, and a is long", "give a bound like 0"),
    ("decimal(10,2)", "{max: '2025-01-01'}", "is not a number", "give a bound like 0"),
    ("date", "{min: soon}", "'soon' is not an ISO date", "give a bound like 2025-01-01"),
    ("date", "{min: 2025-01-01T10:00:00}", "has a time of day", "give a bound like 2025-01-01"),
    ("date", "{min: '2025-02-30'}", "is not an ISO date", "2025-01-01"),
    ("timestamp", "{min: 5}", "5 is not an ISO timestamp", "give a bound like 2025-01-01T00:00:00"),
    ("timestamp", "{min: '2025-01-01T10:00:00+02:00'}", "has a UTC offset", "declare the column timestamptz"),
    ("timestamptz", "{max: yesterday}", "is not an ISO timestamp", "2025-01-01T00:00:00Z"),
    ("string", "{min: 0}", "0 is not text", "give a bound like 'A'"),
    ("boolean", "{min: 0}", "a boolean column has no order", "use accepted_values"),
    ("double", "{max: .inf}", "inf is not a number", "give a bound like 0"),
])
def test_a_range_bound_must_fit_the_column_type(tmp_path, type_, bound, says, fix):
    [(line, key, message, given)] = _problems(tmp_path, HEAD + f"  - {{name: a, type: '{type_}', checks: [{{range: {bound}}}]}}\n")
    assert line == 4 and key.startswith("columns.0.checks.0.range") and says in message and fix in given


@pytest.mark.parametrize("type_,bound", [
    ("long", "{min: 0, max: -1}"), ("double", "{min: 1.5, max: 1.5, exclusive: true}"),
    ("date", "{min: 2025-02-01, max: 2025-01-31}"),
    ("timestamptz", "{min: '2025-01-01T12:00:00+02:00', max: '2025-01-01T09:00:00Z'}"),
])
def test_a_range_that_admits_no_value_is_rejected(tmp_path, type_, bound):
    [(line, key, message, fix)] = _problems(tmp_path, HEAD + f"  - {{name: a, type: {type_}, checks: [{{range: {bound}}}]}}\n")
    assert (line, key) == (4, "columns.0.checks.0.range") and "no value is" in message and "'max' above 'min'" in fix


def test_unquoted_yaml_dates_and_timestamps_are_range_bounds(tmp_path):
    c = _load(tmp_path, HEAD + "  - {name: d, type: date, checks: [{range: {min: 2025-01-01, max: '2025-12-31'}}]}\n"
                              "  - {name: t, type: timestamptz, checks: [{range: {min: 2025-01-01T06:00:00Z}}]}\n"
                              "  - {name: n, type: timestamp, checks: [{range: {min: 2025-01-01 06:00:00}}]}\n")
    params = {ch.id: (ch.params["min"], ch.params["max"]) for ch in build_plan(c).checks}
    assert params == {"d.range": ("2025-01-01", "2025-12-31"), "t.range": ("2025-01-01T06:00:00+00:00", None),
                      "n.range": ("2025-01-01T06:00:00", None)}


DATED = HEAD + """\
  - {name: day, type: date, checks: [{range: {min: 2025-01-01, max: 2025-01-31}, id: day_in_january}]}
  - {name: at, type: timestamp, checks: [{range: {min: 2025-01-01 06:00:00}, id: at_from_six}]}
  - {name: at_tz, type: timestamptz, checks: [{range: {max: 2025-01-01T12:00:00+02:00, exclusive: true}, id: tz_before_ten}]}
  - {name: code, type: string, checks: [{accepted_values: [1, 2], id: code_known}]}
"""


@pytest.mark.parametrize("mode", ["check", "gate"])
def test_date_and_timestamp_ranges_count_the_right_rows_end_to_end(tmp_path, mode):
    import datetime as dt

    from headwater.contracts.duckdb_compiler import BATCH
    from headwater.contracts.evaluate import evaluate, with_row_ids
    from headwater.engines.duckdb import DuckDBSession

    utc = dt.timezone.utc
    day, at = dt.date, dt.datetime
    table = pa.table({
        "day": pa.array([day(2024, 12, 31), day(2025, 1, 1), day(2025, 1, 31), day(2025, 2, 1), None], pa.date32()),
        "at": pa.array([at(2025, 1, 1, 5, 59, 59), at(2025, 1, 1, 6), at(2025, 1, 2), None, at(2024, 6, 1)],
                       pa.timestamp("us")),
        "at_tz": pa.array([at(2025, 1, 1, 9, 59, 59, tzinfo=utc), at(2025, 1, 1, 10, tzinfo=utc),
                           at(2025, 1, 1, 10, 0, 1, tzinfo=utc), at(2025, 1, 1, 11, tzinfo=dt.timezone(dt.timedelta(hours=2))),
                           None], pa.timestamp("us", tz="UTC")),
        "code": pa.array(["1", "2", "x", None, "1"]),
    })
    plan = build_plan(_load(tmp_path, DATED))
    session = DuckDBSession()
    try:
        if mode == "check":
            session.register_arrow("t", table)
            run, _ = evaluate(session, plan, table.schema, lakehouse=None, now=at(2025, 3, 1, tzinfo=utc),
                              row_ids=False, samples=2, relation="t")
        else:
            session.register_arrow(BATCH, with_row_ids(table))
            run, _ = evaluate(session, plan, table.schema, lakehouse=None, now=at(2025, 3, 1, tzinfo=utc),
                              samples=0, batch=table)
    finally:
        session.close()
    failed = {r.check.id: r.failed_rows for r in run.results if r.check.level == "row"}
    assert failed == {"day_in_january": 2, "at_from_six": 2, "tz_before_ten": 2, "code_known": 1}
    assert all(r.status.value != "error" for r in run.results)


def test_accepted_values_must_fit_the_column_type(tmp_path):
    problems = _problems(tmp_path, HEAD + "  - {name: n, type: long, checks: [{accepted_values: [1, '2', two]}]}\n"
                                          "  - {name: f, type: boolean, checks: [{accepted_values: [true, 'no']}]}\n"
                                          "  - {name: s, type: string, checks: [{accepted_values: []}]}\n")
    assert [(line, key) for line, key, _, _ in problems] == [
        (4, "columns.0.checks.0.accepted_values"), (5, "columns.1.checks.0.accepted_values"),
        (6, "columns.2.checks.0.accepted_values")]
    assert "'two' is not a number" in problems[0][2] and "'no' is not true or false" in problems[1][2]
    assert "empty list" in problems[2][2] and "give the values allowed" in problems[2][3]


@pytest.mark.parametrize("rule,key,says,fix", [
    ("{freshness: {column: status, within: 1h}}", "rules.0.freshness.column", "not a date or timestamp column",
     "timestamptz, timestamp or date"),
    ("{freshness: {column: created, within: 1h}}", "rules.0.freshness.column", "'created' is not a column",
     "use 'created_at'"),
    ("{unique: [id, nope]}", "rules.0.unique", "'nope' is not a column", "declare it under 'columns:'"),
    ("{unique: true}", "rules.0.unique", "names no column", "unique: [customer_id, day]"),
    ("{unique: []}", "rules.0.unique", "empty list", "give the columns"),
    ("{references: stg_customers}", "rules.0.references", "would check nothing",
     "columns: [customer_id], key: [customer_id]"),
    ("{references: stg_customers.customer_id}", "rules.0.references", "names no column here",
     "{references: {product: stg_customers, columns: [customer_id], key: [customer_id]}}"),
    ("{references: {product: stg_customers, columns: [custid]}}", "rules.0.references.columns",
     "'custid' is not a column", "use one of"),
    ("{references: {product: stg_customers, columns: [id], key: [a, b]}}", "rules.0.references.key",
     "2 key column(s) for 1 column(s)", "one key column per column"),
    ("{range: {min: 0}}", "rules.0.range", "about one column", "add it to that column's 'checks:'"),
    ("{not_null: true}", "rules.0.not_null", "about one column", "nullable: false"),
    ("{pattern: 'a+'}", "rules.0.pattern", "about one column", "add it to that column's 'checks:'"),
])
def test_table_level_rules_name_declared_columns(tmp_path, rule, key, says, fix):
    text = HEAD + "  - {name: id, type: long}\n  - {name: status, type: string}\n" \
                  "  - {name: created_at, type: timestamptz}\nrules:\n  - " + rule + "\n"
    [(line, where, message, given)] = _problems(tmp_path, text)
    assert (line, where) == (8, key) and says in message and fix in given, (message, given)


def test_column_level_rules_name_declared_columns_too(tmp_path):
    problems = _problems(tmp_path, HEAD + "  - name: id\n    type: long\n    checks:\n      - {unique: [id, day]}\n"
                                          "      - {references: {product: p, columns: [id, tenant], key: [id, t]}}\n")
    assert [(line, key) for line, key, _, _ in problems] == [(7, "columns.0.checks.0.unique"),
                                                             (8, "columns.0.checks.1.references.columns")]


@pytest.mark.parametrize("kind,sql,says", [
    ("expression", "amount > 0 AND", "not valid SQL, Required keyword: 'expression' missing for And (line 1"),
    ("expression", "amount >= 'x", "not valid SQL"),
    ("expression", "amount > 0; DROP TABLE t", "several statements"),
    ("expression", "SELECT count(*) FROM batch", "a query is not a condition"),
    ("sql", "SELECT count(*) FROM batch WHERE", "not valid SQL, Required keyword: 'this' missing for Where"),
    ("sql", "amount < 0", "a condition is not a query"),
    ("sql", "DELETE FROM batch", "a DELETE statement is not a query"),
])
def test_expression_and_sql_rules_must_parse(tmp_path, kind, sql, says):
    [(line, key, message, fix)] = _problems(
        tmp_path, HEAD + f"  - {{name: amount, type: long}}\nrules:\n  - {{{kind}: \"{sql}\"}}\n")
    assert (line, key) == (6, f"rules.0.{kind}") and says in message and fix.startswith("write")


def test_expression_and_sql_in_duckdb_dialect_load(tmp_path):
    _load(tmp_path, HEAD + "  - {name: tags, type: list<string>}\n  - {name: a, type: long}\nrules:\n"
                           "  - {expression: \"list_filter(tags, x -> x <> '') = tags AND a::INT IS DISTINCT FROM 3\"}\n"
                           "  - {sql: \"FROM batch SELECT count(*) WHERE a < 0\"}\n"
                           "  - {sql: \"WITH b AS (SELECT * FROM batch) SELECT count(*) FROM b WHERE a < 0;\"}\n")


@pytest.mark.parametrize("text,line,says", [
    ("  - {name: a, type: long, checks: [{id: a.schema, not_null: true}]}\n", 4, "the schema check of a"),
    ("  - {name: a, type: long}\nrules:\n  - {id: schema.extra_columns, expression: a > 0}\n", 6,
     "the check for undeclared columns"),
    ("  - {name: a, type: long, nullable: false, checks: [{id: a.not_null, not_null: true}]}\n", 4,
     "the rule 'nullable: false' adds on a"),
    ("  - {name: a, type: long}\nprimary_key: a\nrules:\n  - {id: primary_key.unique, unique: [a]}\n", 7,
     "a primary_key check"),
    ("  - {name: a, type: long}\nrules:\n  - {id: r, expression: a > 0}\n  - {id: r, expression: a < 9}\n", 7,
     "the rule at rules.0"),
    ("  - {name: a, type: long, checks: [{range: {min: 0}}]}\nrules:\n  - {id: a.range, expression: a > 0}\n", 6,
     "the rule at columns.0.checks.0"),
    ("  - {name: a, type: long}\nrules:\n  - {id: 'r#2', expression: a > 0}\n", 6, "numbers rules without an id"),
])
def test_a_rule_id_must_be_its_own(tmp_path, text, line, says):
    [(at, key, message, fix)] = _problems(tmp_path, HEAD + text)
    assert at == line and key.endswith(".id") and says in message and fix


def test_the_plan_numbers_generated_ids_and_keeps_given_ones(tmp_path):
    c = _load(tmp_path, HEAD + "  - {name: a, type: long, checks: [{range: {min: 0}}, {range: {max: 9}, id: a_small},"
                              " {range: {max: 99}}]}\n")
    assert [ch.id for ch in build_plan(c).checks] == ["a.range#1", "a_small", "a.range#2"]
    twice = c.model_copy(update={"rules": [c.columns[0].checks[1], c.columns[0].checks[1]]})  # never loaded
    with pytest.raises(ValueError, match="'a_small' is used by more than one rule"):
        build_plan(twice)


@pytest.mark.parametrize("version,suggestion", [("1.0", "1.0.0"), ("2", "2.0.0")])
def test_a_version_written_as_a_number_says_to_write_semver(tmp_path, version, suggestion):
    [(line, key, message, fix)] = _problems(tmp_path, f"product: o\nversion: {version}\n")
    assert (line, key) == (2, "version") and "is a number to YAML" in message
    assert f"version: {suggestion}" in fix
