"""Pattern rules searched by their complement (regex_dfa.py, patterns.py) agree with RE2 row by row."""

from __future__ import annotations

import random
from datetime import datetime, timezone

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from headwater.contracts import evaluate as ev
from headwater.contracts import patterns
from headwater.contracts.patterns import anchored, failing_positions
from headwater.contracts.regex_dfa import complement, full_match

PATTERNS = [
    r"[^@ ]+@[^@ ]+\.[a-z]+", "[A-Z]{3}", r"\d{4}-\d{2}-\d{2}", r"^[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}$",
    r"(ab|a)*c?", r"\w+\s\w*", ".*", "x*", r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}", r"\+?[0-9 ()-]{3,9}",
    "é+ü", "[^a]", "a{2,5}b{0,2}", "", "a|", r"\D\W\S", r"[\d\s]+", "(a+)+b", r"\A[A-Z]{2}", "PL|DE|FR",
    ".{3}", "(?:x|y)+?z", r"[\x00-\x1f]", "中.", "(?P<code>[A-Z]{2})-\\d+",
]
ALPHABET = list("abcxyzAZ019@. -_()+\té+ü\x00\x1f") + ["\u4e2d", "\U0001F600"]


def _strings(seed: int, n: int, newline: bool = False) -> list[str]:
    rng = random.Random(seed)
    letters = ALPHABET + (["\n"] if newline else [])
    return ["".join(rng.choice(letters) for _ in range(rng.randint(0, 7))) for _ in range(n)]


def _re2(values: list, pattern: str) -> list:
    return pc.match_substring_regex(pa.array(values, pa.string()), anchored(pattern)).to_pylist()


def _check(contract_yaml: str, table: pa.Table, samples: int, queries: list | None = None) -> dict:
    """contract check (count mode) of ``table``: results by rule id; ``queries`` collects the SQL run."""
    from ruamel.yaml import YAML

    from headwater.contracts.evaluate import evaluate
    from headwater.contracts.model import Contract
    from headwater.contracts.plan import build_plan
    from headwater.engines.duckdb import DuckDBSession

    contract = Contract.model_validate(YAML(typ="safe").load(contract_yaml))
    session = DuckDBSession()
    if queries is not None:
        real = session.query
        session.query = lambda sql: queries.append(sql) or real(sql)
    session.register_arrow("t", table)
    try:
        run, _ = evaluate(session, build_plan(contract), table.schema, lakehouse=None,
                          now=datetime.now(timezone.utc), row_ids=False, samples=samples, relation="t")
    finally:
        session.close()
    return {r.check.id: r for r in run.results}



KEYED = """product: p
version: 1.0.0
primary_key: [id]
columns:
  - {name: id, type: long}
"""  # the head of the contracts below: a table keyed by an integer id

@pytest.mark.parametrize("pattern", PATTERNS)
def test_the_dfa_and_its_complement_agree_with_re2(pattern):
    values = _strings(hash(pattern) % 1000, 4000)
    truth = _re2(values, pattern)
    assert [full_match(pattern, v) for v in values] == truth
    regex, empty_fails = complement(pattern)
    assert empty_fails == (not _re2([""], pattern)[0])
    lines = [v for v in values if v]
    hits = pc.match_substring_regex(pa.array(lines), anchored(regex)).to_pylist()
    assert hits == [not t for t, v in zip(truth, values) if v]


@pytest.mark.parametrize("pattern", [
    "(?i)abc", "a(?i:b)", r"\bword\b", "[[:alpha:]]+", "a{,3}", "(?=a)b", r"(a)\1", "a$b", "x(^a)",
    "a{01}", r"\d{1,03}", "a{00}x*", "@{1,02}", "a{4294967296}",  # RE2 reads these counts as literal text
])
def test_syntax_whose_complement_is_not_built_is_left_to_re2(pattern):
    assert complement(pattern) is None


@pytest.mark.parametrize("kind", [pa.string(), pa.large_string()])
@pytest.mark.parametrize("pattern", [r"[^@ ]+@[^@ ]+\.[a-z]+", "[A-Z]{3}", "a|", "", "(?i)ab"])
def test_failing_positions_equal_re2_with_nulls_empties_and_newlines(monkeypatch, kind, pattern):
    monkeypatch.setattr(patterns, "PIECE", 700)  # several pieces per chunk, searched in parallel
    rng = random.Random(7)
    values = [None if rng.random() < 0.1 else v for v in _strings(11, 5000, newline=True)]
    values[100] = "a@b.com\nc@d.com"  # two good lines, one bad value
    column = pa.chunked_array([pa.array(values[:1234], kind), pa.array(values[1234:], kind)])
    got = failing_positions(column, pattern)
    want = [i for i, ok in enumerate(_re2(values, pattern)) if ok is False]
    assert got.tolist() == want


@pytest.mark.parametrize("n", [1, 63, 64, 65, 128, 129, 1000])
def test_every_block_length_and_empty_values_at_block_edges_get_re2s_verdict(n):
    values = [f"user{i}@shop.example" for i in range(n)]
    for i in {0, 63, 64, 127, 128, n - 1} & set(range(n)):  # first and last rows of blocks
        values[i] = "" if i % 2 else "no at sign"
    arr = pa.array(values)
    want = [i for i, ok in enumerate(_re2(values, r"[^@ ]+@[^@ ]+\.[a-z]+")) if ok is False]
    assert failing_positions(arr, r"[^@ ]+@[^@ ]+\.[a-z]+").tolist() == want
    assert failing_positions(arr.slice(1), r"[^@ ]+@[^@ ]+\.[a-z]+").tolist() == [i - 1 for i in want if i]


@pytest.mark.parametrize("pattern", [r"[^@ ]+@[^@ ]+\.[a-z]+", "é+ü", "中.", r"\w+\s\w*"])
def test_values_read_from_duckdb_and_vouched_for_get_re2s_verdict(pattern):
    import duckdb

    values = _strings(5, 3000, newline=True)
    con = duckdb.connect()
    con.register("given", pa.table({"v": values}))
    column = con.sql("SELECT v || '' AS v FROM given").to_arrow_table().column(0)  # DuckDB's own VARCHARs
    want = [i for i, ok in enumerate(_re2(values, pattern)) if ok is False]
    assert failing_positions(column, pattern, valid_utf8=True).tolist() == want


def test_a_block_is_checked_row_by_row_only_where_the_complement_hits():
    values = pa.array([f"user{i}@shop.example" for i in range(10_000)])
    values = pc.if_else(pa.array(np.isin(np.arange(10_000), [5, 6000])), pa.scalar("bad"), values)
    regex, _ = complement(r"[^@ ]+@[^@ ]+\.[a-z]+")
    rows = patterns._blocks_hit(values, regex)
    assert sorted(set(rows.tolist()) & {5, 6000}) == [5, 6000]
    assert len(rows) == 2 * patterns.BLOCK  # the two blocks holding the bad rows, nothing else
    assert failing_positions(values, r"[^@ ]+@[^@ ]+\.[a-z]+").tolist() == [5, 6000]


def test_contract_check_counts_pattern_rules_outside_the_pass_with_samples():
    n = 3000
    emails = [f"u{i}@x.org" if i % 7 else "nope" for i in range(n)]
    codes = [None if i % 11 == 0 else ("AB1" if i % 5 else "ab1") for i in range(n)]
    table = pa.table({"id": pa.array(range(n), pa.int64()), "email": emails, "code": codes})
    by_id = _check(KEYED + """  - {name: email, type: string, pii: true, checks: [{pattern: '[^@ ]+@[^@ ]+\\.[a-z]+', id: email_format}]}
  - {name: code, type: string, checks: [{pattern: '[A-Z]{2}\\d', id: code_format}]}
""", table, samples=3)
    assert by_id["email_format"].failed_rows == sum(1 for e in emails if e == "nope")
    assert by_id["email_format"].samples == [{"id": 0, "email": "***"}, {"id": 7, "email": "***"},
                                             {"id": 14, "email": "***"}]
    assert by_id["code_format"].failed_rows == sum(1 for c in codes if c == "ab1")
    assert [s["code"] for s in by_id["code_format"].samples] == ["ab1"] * 3


@pytest.mark.parametrize("integer_key", [False, True])
def test_pattern_samples_name_the_first_failing_rows_with_their_key(integer_key):
    """An integer primary key is read with the patterns (its unique rule is counted there): the
    samples are the first failing rows, named without a lookup query afterwards."""
    n = 3000
    emails = [f"u{i}@x.org" if i % 7 else ("nope" if i % 2 else "no pe") for i in range(n)]
    ids = list(range(n)) if integer_key else [f"k{i}" for i in range(n)]
    table = pa.table({"id": pa.array(ids, pa.int64() if integer_key else pa.string()), "email": emails})
    queries: list[str] = []
    by_id = _check(f"""
product: p
version: 1.0.0
primary_key: [id]
columns:
  - {{name: id, type: {"long" if integer_key else "string"}}}
  - {{name: email, type: string, checks: [{{pattern: '[^@ ]+@[^@ ]+\\.[a-z]+', id: email_format}}]}}
""", table, samples=3, queries=queries)
    assert by_id["email_format"].failed_rows == n // 7 + 1
    lookups = [sql for sql in queries if " IN (" in sql]
    if integer_key:  # the first three failing rows, in order, each with its own value
        assert by_id["email_format"].samples == [{"id": 0, "email": "no pe"}, {"id": 7, "email": "nope"},
                                                 {"id": 14, "email": "no pe"}]
        assert not lookups
    else:  # the first failing values, looked up with the key
        samples = by_id["email_format"].samples
        assert len(samples) == 3 and len(lookups) == 1
        assert all(emails[int(s["id"][1:])] == s["email"] in {"nope", "no pe"} for s in samples)


def test_not_null_counted_in_the_scan_is_sampled_with_the_pass_rules_in_one_query():
    """The scan reads ``email`` for its pattern and counts its nulls there; the pass's samples are
    read once that count is final, so the not-null rule shares their one query."""
    n = 3000
    emails = [None if i % 50 == 3 else (f"u{i}@x.org" if i % 7 else "nope") for i in range(n)]
    table = pa.table({"id": pa.array(range(n), pa.int64()), "email": emails,
                      "qty": pa.array([-1 if i % 40 == 5 else 1 for i in range(n)], pa.int32())})
    queries: list[str] = []
    by_id = _check(KEYED + """  - {name: email, type: string, nullable: false, checks: [{pattern: '[^@ ]+@[^@ ]+\\.[a-z]+', id: email_format}]}
  - {name: qty, type: int, checks: [{range: {min: 0}, id: qty_positive}]}
""", table, samples=2, queries=queries)
    assert by_id["email.not_null"].failed_rows == n // 50
    assert by_id["email.not_null"].samples == [{"id": 3, "email": None}, {"id": 53, "email": None}]
    assert by_id["qty_positive"].samples == [{"id": 5, "qty": -1}, {"id": 45, "qty": -1}]
    prefix = [sql for sql in queries if f"LIMIT {ev.PREFIX_ROWS}" in sql]
    assert len(prefix) == 1 and '"email" IS NULL' in prefix[0]
    assert not [sql for sql in queries if "LIMIT 2" in sql]  # no query of its own for either rule


@pytest.mark.parametrize("pattern", ["[A-Z]{3}", r"\d{4}-\d{2}", r"[A-Z]{2}\w", "A|B", r"\*[?]x", "^[a-c]{2}$"])
def test_fixed_ascii_patterns_become_globs_with_re2s_verdict(pattern):
    import duckdb

    from headwater.contracts.regex_glob import glob

    shape = glob(pattern)
    assert shape is not None
    values = _strings(3, 3000, newline=True) + ["ABC", "AB1", "1234-56", "*?x", "ab", "é12", "AB\n", "a", "B"]
    con = duckdb.connect()
    got = [r[0] for r in con.execute("SELECT v GLOB ? FROM unnest(?) AS t(v)", [shape, values]).fetchall()]
    assert got == _re2(values, pattern)


@pytest.mark.parametrize("pattern", ["[a-z]+", "a.b", "[^A]{2}", "é{2}", r"\s\d", "(?:AB){2}", "x]", "[-a]",
                                     "[A-Z]{03}", "a{01}"])
def test_patterns_glob_cannot_express_have_no_glob(pattern):
    from headwater.contracts.regex_glob import glob

    assert glob(pattern) is None


def test_samples_of_an_expression_rule_show_the_columns_it_reads():
    table = pa.table({"a": [1, 5, 2], "b": [2, 1, 3], "c": [0, 0, 0]})
    by_id = _check("""
product: p
version: 1.0.0
columns: [{name: a, type: long}, {name: b, type: long}, {name: c, type: long}]
rules: [{id: b_after_a, expression: b >= a}]
""", table, samples=3)
    assert by_id["b_after_a"].failed_rows == 1 and by_id["b_after_a"].samples == [{"b": 1, "a": 5}]


def test_a_complement_re2_refuses_falls_back_to_one_call_per_row(monkeypatch):
    def refuse(arr, regex):
        raise pa.ArrowInvalid("pattern too large - compile failed")

    monkeypatch.setattr(patterns, "_blocks_hit", refuse)
    values = ["a@b.org", "nope", None, "", "c@d.net"]
    assert failing_positions(pa.array(values), r"[^@ ]+@[^@ ]+\.[a-z]+").tolist() == [1, 3]


def test_samples_come_from_the_first_rows_in_one_query_or_from_a_query_per_rule(monkeypatch):
    from headwater.contracts import evaluate as ev

    n = 1000
    qty = [0 if i % 10 == 0 else 5 for i in range(n)]  # failing all along
    status = ["a"] * n
    status[990] = status[995] = "zzz"  # failing only near the end
    table = pa.table({"id": pa.array(range(n), pa.int64()), "qty": pa.array(qty, pa.int32()), "status": status})
    monkeypatch.setattr(ev, "PREFIX_ROWS", 100)
    queries: list[str] = []
    by_id = _check(KEYED + """  - {name: qty, type: int, checks: [{range: {min: 1}, id: qty_positive}]}
  - {name: status, type: string, checks: [{accepted_values: [a, b], id: status_known}]}
""", table, samples=3, queries=queries)
    assert by_id["qty_positive"].samples == [{"id": 0, "qty": 0}, {"id": 10, "qty": 0}, {"id": 20, "qty": 0}]
    assert by_id["status_known"].samples == [{"id": 990, "status": "zzz"}, {"id": 995, "status": "zzz"}]
    assert sum("LIMIT 100" in sql for sql in queries) == 1  # one read of the first rows for both rules
    assert sum("LIMIT 3" in sql for sql in queries) == 1  # and one query for the rule it missed


def test_a_count_with_a_leading_zero_is_literal_text_as_in_re2():
    values = ["1", "12", "123", "1{1,03}"]
    assert failing_positions(pa.array(values), r"\d{1,03}").tolist() == [0, 1, 2]


def test_values_that_are_not_valid_utf8_get_re2s_own_verdict():
    data = b"ab\xffcd"
    values = pa.Array.from_buffers(pa.string(), 3, [None, pa.py_buffer(np.array([0, 2, 3, 5], np.int32).tobytes()),
                                                    pa.py_buffer(data)])
    assert failing_positions(values, ".*").tolist() == [1]


NULLS_CONTRACT = """
product: p
version: 1.0.0
columns:
  - {name: status, type: string, checks: [{accepted_values: [a, b], id: status_known}]}
  - {name: country, type: string, checks: [{length: {min: 2, max: 2}, id: country_len}]}
  - {name: amount, type: double, checks: [{range: {min: 0}, id: amount_ok}]}
"""


def test_nulls_pass_the_case_the_fixed_length_and_uncoalesced_flags_in_both_modes():
    from ruamel.yaml import YAML

    from headwater.contracts.duckdb_compiler import BATCH
    from headwater.contracts.evaluate import evaluate, with_row_ids
    from headwater.contracts.model import Contract
    from headwater.contracts.plan import build_plan
    from headwater.engines.duckdb import DuckDBSession

    table = pa.table({"status": [None, "zzz", "a", None],
                      "country": [None, "DE", "DEU", None],
                      "amount": [None, None, -1.0, 5.0]})
    counts = {k: r.failed_rows for k, r in _check(NULLS_CONTRACT, table, samples=0).items()}
    assert (counts["status_known"], counts["country_len"], counts["amount_ok"]) == (1, 1, 1)
    # row mode (the gate): a row with a NULL flag and a failing one is still caught for the failing one
    plan = build_plan(Contract.model_validate(YAML(typ="safe").load(NULLS_CONTRACT)))
    session = DuckDBSession()
    session.register_arrow(BATCH, with_row_ids(table))
    _, verdict = evaluate(session, plan, table.schema, lakehouse=None, now=datetime.now(timezone.utc),
                            samples=0, batch=table)
    session.close()
    assert verdict.failing_rows.tolist() == [1, 2]
    assert [c.id for c in verdict.broken(0)] == ["status_known"]
    assert sorted(c.id for c in verdict.broken(1)) == ["amount_ok", "country_len"]


def test_a_pattern_re2_cannot_take_is_left_to_the_engine_which_reports_it():
    from headwater.contracts.model import Severity
    from headwater.contracts.patterns import scannable
    from headwater.contracts.plan import Check

    schema = pa.schema([("e", pa.string())])
    for pattern in ["(?=a)b", "\ud800"]:
        check = Check("e.pattern", "pattern", Severity.QUARANTINE, ("e",), params={"pattern": pattern})
        assert scannable(check, schema) is False
