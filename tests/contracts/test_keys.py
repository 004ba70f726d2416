"""Duplicate keys: the bitstring count, the numpy per-row path and the hash aggregate agree exactly."""

from __future__ import annotations

import itertools
import re
from datetime import datetime, timezone

import numpy as np
import pyarrow as pa
import pytest

from headwater.contracts.duckdb_compiler import BATCH
from headwater.contracts.evaluate import evaluate, with_row_ids
from headwater.contracts.gate import split
from headwater.contracts.keys import KeyRange, duplicate_rows
from headwater.contracts.model import Contract
from headwater.contracts.plan import build_plan
from headwater.engines.duckdb import DuckDBSession

NOW = datetime(2026, 1, 5, tzinfo=timezone.utc)


def _extra_occurrences(values: list) -> list[int]:
    """Reference: positions whose non-null value appeared at an earlier position."""
    seen, out = set(), []
    for i, v in enumerate(values):
        if v is not None and v in seen:
            out.append(i)
        seen.add(v)
    return out


def _batch(n: int = 5000, seed: int = 3) -> pa.Table:
    rng = np.random.default_rng(seed)
    ids = rng.integers(-50, 4000, n)
    nulls = rng.random(n) < 0.05
    ids_list = [None if z else int(v) for v, z in zip(ids, nulls)]
    return pa.table({"id": pa.array(ids_list, pa.int64()),
                     "sid": pa.array([None if v is None else f"k{v}" for v in ids_list], pa.string()),
                     "qty": pa.array(rng.integers(-1, 5, n), pa.int32())})


def _plan():
    return build_plan(Contract.model_validate({
        "product": "t", "version": "1.0.0",
        "columns": [{"name": "id", "type": "long", "unique": True},
                    {"name": "sid", "type": "string", "unique": True},
                    {"name": "qty", "type": "int", "checks": [{"range": {"min": 0}}]}]}))


def test_duplicate_rows_match_a_reference_with_nulls_and_chunks():
    batch = _batch()
    chunked = pa.chunked_array([batch["id"].combine_chunks()[:1700], batch["id"].combine_chunks()[1700:]])
    expected = _extra_occurrences(batch["id"].to_pylist())
    assert duplicate_rows(batch["id"]).tolist() == expected
    assert duplicate_rows(chunked).tolist() == expected
    assert duplicate_rows(pa.array([None, None], pa.int64())).tolist() == []


@pytest.mark.parametrize("kind", [pa.int8(), pa.uint8(), pa.int16(), pa.uint32(), pa.uint64()])
def test_duplicate_rows_on_narrow_types_do_not_overflow_when_shifted(kind):
    info = np.iinfo(kind.to_pandas_dtype())
    lo, hi = int(info.min), int(min(info.max, info.min + 100_000))  # narrow enough for a bit per key
    values = [hi, lo, hi, None, lo + 1, lo, hi - 1, hi]  # key - lo does not fit the narrow type itself
    if kind == pa.uint64():
        values = [v if v is None else v + 2 ** 62 for v in values]  # above int32, below int64
    assert duplicate_rows(pa.array(values, kind)).tolist() == _extra_occurrences(values)


def test_duplicate_rows_leave_strings_and_sparse_keys_to_the_engine():
    assert duplicate_rows(pa.array(["a", "a"])) is None
    assert duplicate_rows(pa.array([1, 2 ** 40], pa.int64())) is None
    assert not KeyRange(0, 2 ** 40).narrow(10) and KeyRange(0, 999).narrow(10)
    big = pa.array([2 ** 64 - 2, 2 ** 64 - 2], pa.uint64())  # beyond int64: not converted, left to the engine
    assert duplicate_rows(big) is None and not KeyRange(2 ** 64 - 2, 2 ** 64 - 2).narrow(2)


@pytest.mark.parametrize("mode", ["check", "gate", "gate-without-batch"])
def test_every_path_counts_the_same_duplicates(mode):
    batch = _batch()
    expected = len(_extra_occurrences(batch["id"].to_pylist()))
    session = DuckDBSession()
    try:
        if mode == "check":
            session.register_arrow("t", batch)
            run, _ = evaluate(session, _plan(), batch.schema, lakehouse=None, now=NOW, row_ids=False,
                              samples=3, relation="t")
        else:
            session.register_arrow(BATCH, with_row_ids(batch))
            run, verdict = evaluate(session, _plan(), batch.schema, lakehouse=None, now=NOW, samples=0,
                                    batch=batch if mode == "gate" else None)
    finally:
        session.close()
    counts = {r.check.id: r.failed_rows for r in run.results if r.check.level == "row"}
    # the integer key (bitstring / numpy) and the string key (hash aggregate) hold the same values
    assert counts["id.unique"] == counts["sid.unique"] == expected
    assert counts["qty.range"] == batch["qty"].to_pylist().count(-1)
    if mode == "check":
        samples = next(r.samples for r in run.results if r.check.id == "id.unique")
        ids = batch["id"].to_pylist()
        assert len(samples) == 3 and all(ids.count(s["id"]) == s["occurrences"] > 1 for s in samples)
    else:
        word = verdict.failing_masks[0]
        dup_rows = verdict.failing_rows[(word >> 0) & 1 == 1].tolist()
        assert dup_rows == _extra_occurrences(batch["id"].to_pylist())
        assert verdict.failing_rows[(word >> 1) & 1 == 1].tolist() == dup_rows


def _gate_split(batch: pa.Table, samples: int = 0):
    """The gate's pass over ``batch`` and its split; checks the split against ``batch.take``."""
    session = DuckDBSession()
    try:
        session.register_arrow(BATCH, with_row_ids(batch))
        run, verdict = evaluate(session, _plan(), batch.schema, lakehouse=None, now=NOW, samples=samples, batch=batch)
    finally:
        session.close()
    passed, quarantined, positions = split(batch, verdict)
    bad = verdict.failing_rows[positions].tolist()
    assert passed.schema == quarantined.schema == batch.schema
    assert quarantined.to_pylist() == batch.take(pa.array(bad, pa.int64())).to_pylist()
    keep = sorted(set(range(batch.num_rows)) - set(bad))
    assert passed.to_pylist() == batch.take(pa.array(keep, pa.int64())).to_pylist()
    return run, passed, bad


def test_split_keeps_clean_chunks_and_takes_the_failing_rows():
    batch = pa.concat_tables([_batch(300, seed=s) for s in (1, 2, 3)])  # three chunks
    run, _, _ = _gate_split(batch, samples=2)
    qty = next(r for r in run.results if r.check.id == "qty.range")
    assert [s["qty"] for s in qty.samples] == [-1, -1]  # samples read from the failing rows


@pytest.mark.parametrize("parallel", [False, True])
def test_split_keeps_a_clean_chunk_uncopied_on_one_core_or_many(monkeypatch, parallel):
    import headwater.contracts.gate as gate

    monkeypatch.setattr(gate, "PARALLEL_ROWS", 0 if parallel else 1 << 40)
    clean = pa.table({"id": pa.array(range(10_000, 10_300), pa.int64()),
                      "sid": pa.array([f"c{i}" for i in range(300)], pa.string()),
                      "qty": pa.array([1] * 300, pa.int32())})
    batch = pa.concat_tables([_batch(300, seed=1), clean, _batch(300, seed=2)])
    _, passed, bad = _gate_split(batch)
    assert bad and not any(300 <= r < 600 for r in bad)  # failures in the first and last chunk only
    for name in batch.column_names:  # the clean chunk is the caller's own buffers, not a copy
        assert passed[name].chunk(1).buffers()[1].address == batch[name].chunk(1).buffers()[1].address


def test_pattern_rules_in_arrow_fail_the_same_rows_as_in_the_engine():
    emails = ["a@b.io", None, "no-at", "x@y.c\n", "é@ü.de", "a@b.IO", "@b.io", "a@b.io x", "ok@host.org"] * 40
    batch = pa.table({"email": pa.array(emails, pa.string()), "code": pa.array(["EUR", "eur"] * 180)})
    plan = build_plan(Contract.model_validate({
        "product": "t", "version": "1.0.0",
        "columns": [{"name": "email", "type": "string", "checks": [{"pattern": r"[^@ ]+@[^@ ]+\.[a-z]+"}]},
                    {"name": "code", "type": "string", "checks": [{"pattern": "[A-Z]{3}|[a-z]{2}"}]}]}))
    # Arrow's RE2 in the gate, DuckDB's regexp_full_match without a batch
    failing = {without: list(zip(*_gate_verdict(plan, batch, without))) for without in (False, True)}
    assert failing[True] == failing[False]
    for bit, (column, pattern) in enumerate([("email", r"[^@ ]+@[^@ ]+\.[a-z]+"), ("code", "[A-Z]{3}|[a-z]{2}")]):
        expected = [i for i, v in enumerate(batch[column].to_pylist()) if v is not None and not re.fullmatch(pattern, v)]
        assert [r for r, m in failing[True] if m >> bit & 1] == expected


def test_a_pattern_arrow_cannot_compile_is_left_to_the_engine():
    from headwater.contracts.patterns import pattern_failures

    plan = build_plan(Contract.model_validate({
        "product": "t", "version": "1.0.0",
        "columns": [{"name": "e", "type": "string", "checks": [{"pattern": "a(?=b)"}]}]}))
    assert pattern_failures(plan, pa.table({"e": ["ab"]})) == {}


def _chunked(values: list, sizes: list[int]) -> pa.ChunkedArray:
    kind, parts, at = pa.int64(), [], 0
    for size in sizes:
        parts.append(pa.array(values[at:at + size], kind))
        at += size
    return pa.chunked_array(parts, kind)


@pytest.mark.parametrize("seed", range(6))
def test_duplicate_rows_match_a_reference_whatever_the_chunks(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 3000))
    values = [None if rng.random() < 0.1 else int(v) for v in rng.integers(0, max(2, n // 3), n)]
    cuts = sorted(set(rng.integers(0, n, int(rng.integers(0, 6))).tolist()) | {0, n})
    sizes = [b - a for a, b in itertools.pairwise(cuts)]
    assert duplicate_rows(_chunked(values, sizes)).tolist() == _extra_occurrences(values)


def test_key_count_names_repeated_keys_with_their_occurrences_across_chunks():
    from headwater.contracts.keys import KeyCount

    values = [5, 6, None, 7, 5, 8, 6, 5, None, 9]  # 5 three times, 6 twice, across three chunks
    counter = KeyCount(KeyRange(5, 9), 3)
    counter.add(_chunked(values, [4, 3, 3]))
    assert counter.extra() == len(_extra_occurrences(values)) == 3
    assert sorted(counter.samples()) == [(5, 3), (6, 2)]
    assert KeyCount(KeyRange(5, 9), 0).samples() == []  # no samples asked


def test_key_count_leaves_samples_to_a_second_read_when_it_cannot_name_them(monkeypatch):
    from headwater.contracts import keys

    inside = keys.KeyCount(KeyRange(1, 3), 2)
    inside.add(pa.array([1, 1, 2, 3], pa.int64()))  # repeated within one chunk only
    assert inside.extra() == 1 and inside.samples() is None
    monkeypatch.setattr(keys, "KEEP_ROWS", 2)
    many = keys.KeyCount(KeyRange(1, 3), 2)
    many.add(_chunked([1, 2, 3, 1, 2], [3, 2]))  # too many rows kept to count occurrences
    assert many.extra() == 2 and many.samples() is None


def test_check_counts_keys_and_nulls_of_streamed_columns_like_the_gate():
    """Count mode reads the key column once (nulls and duplicates from Arrow); the gate finds the same rows."""
    batch = pa.concat_tables([_batch(700, seed=s) for s in (4, 5, 6)])
    plan = build_plan(Contract.model_validate({
        "product": "t", "version": "1.0.0", "primary_key": ["id"],
        "columns": [{"name": "id", "type": "long"},
                    {"name": "sid", "type": "string", "checks": [{"pattern": "k[0-9]+", "id": "sid_format"}]},
                    {"name": "qty", "type": "int", "checks": [{"range": {"min": 0}}]}]}))
    counts = {}
    for mode in ("check", "check-batch", "gate"):
        session = DuckDBSession()
        try:
            if mode == "gate":
                session.register_arrow(BATCH, with_row_ids(batch))
                run, _ = evaluate(session, plan, batch.schema, lakehouse=None, now=NOW, samples=0, batch=batch)
            else:
                session.register_arrow("t", batch)
                run, _ = evaluate(session, plan, batch.schema, lakehouse=None, now=NOW, row_ids=False, samples=2,
                                  relation="t", batch=batch if mode == "check-batch" else None)
        finally:
            session.close()
        counts[mode] = {r.check.id: r.failed_rows for r in run.results if r.check.level == "row"}
        if mode != "gate":
            dup = next(r for r in run.results if r.check.id == "primary_key.unique")
            ids = batch["id"].to_pylist()
            assert dup.samples and all(ids.count(s["id"]) == s["occurrences"] > 1 for s in dup.samples)
    ids = batch["id"].to_pylist()
    assert counts["check"]["primary_key.not_null"] == ids.count(None)
    assert counts["check"]["primary_key.unique"] == len(_extra_occurrences(ids))
    assert counts["check"] == counts["check-batch"] == counts["gate"]


def _gate_verdict(plan, batch: pa.Table, without_batch: bool, threads: int | None = None) -> tuple[list, list]:
    """The gate's failing rows and first mask word; ``without_batch``: the engine alone (one WHERE pass)."""
    session = DuckDBSession()
    try:
        if threads:
            session.con.execute(f"SET threads = {threads}")
        session.register_arrow(BATCH, with_row_ids(batch))
        _, verdict = evaluate(session, plan, batch.schema, lakehouse=None, now=NOW, samples=0,
                              batch=None if without_batch else batch)
    finally:
        session.close()
    return verdict.failing_rows.tolist(), verdict.failing_masks[0].tolist()


def test_the_gate_projects_row_verdicts_and_masks_only_the_failing_rows():
    """Rules that read their own row: a per-row "fails any" and masks of those rows; the same rows as one WHERE.

    400k rows in 4 chunks and 4 engine threads, so DuckDB scans the chunks in parallel: the
    projected verdicts must still come back in row order (the split relies on the positions).
    """
    from headwater.contracts.duckdb_compiler import compile_plan

    rng = np.random.default_rng(11)
    n = 400_000
    a = rng.random(n) * 3 - 1
    batch = pa.table({"a": pa.array(a, mask=rng.random(n) < 0.05),
                      "b": pa.array(rng.choice(np.array(["x", "y", "zz"], dtype=object), n), mask=rng.random(n) < 0.01),
                      "c": pa.array(rng.integers(0, 5, n), pa.int32())})
    batch = pa.concat_tables([batch.slice(i, 100_000) for i in range(0, n, 100_000)])
    contract = {"product": "t", "version": "1.0.0",
                "columns": [{"name": "a", "type": "double", "checks": [{"range": {"min": 0, "max": 1}}]},
                            {"name": "b", "type": "string", "nullable": False,
                             "checks": [{"accepted_values": ["x", "y"]}, {"length": {"max": 1}}]},
                            {"name": "c", "type": "int"}],
                "rules": [{"id": "c_vs_a", "expression": "c >= a"}]}
    plan = build_plan(Contract.model_validate(contract))
    assert compile_plan(plan).any_sql is not None
    projected = _gate_verdict(plan, batch, without_batch=False, threads=4)
    assert projected == _gate_verdict(plan, batch, without_batch=True, threads=4)
    valid = ~np.asarray(batch["a"].is_null())
    out_of_range = np.flatnonzero(valid & ((a < 0) | (a > 1)))  # bit 0: the range rule, from numpy
    rows, masks = np.array(projected[0]), np.array(projected[1])
    assert rows[(masks & 1) == 1].tolist() == out_of_range.tolist()
    windowed = dict(contract, rules=[{"id": "above_mean", "expression": "a <= avg(a) OVER ()"}])
    assert compile_plan(build_plan(Contract.model_validate(windowed))).any_sql is None  # reads other rows
