"""Debezium change logs of the shop's orders, payments and returns, derived from the raw files.

The checkout database is not available in the embedded demo, so its change stream is generated
instead, deterministically from the raw exports and the seed: a snapshot (``op: r``) of most rows,
then transactions (BEGIN/END metadata, ``transaction.id``) that create the rest, update some rows
from an earlier version to their exported one, and create and delete a few test rows. Replaying a
log yields exactly the raw file's rows. Rows carry the Kafka Connect schema (decimals as scaled
bytes, timestamps as ``ZonedTimestamp``), as the Debezium PostgreSQL connector writes them.

    python -m headwater.examples.ecommerce._cdc DATA_DIR OUT_DIR
"""

from __future__ import annotations

import base64
import json
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa

TABLES = (("orders", "orders.parquet", "order_id"), ("payments", "payments.parquet", "payment_id"),
          ("returns", "returns.csv", "return_id"))
EARLY_STATUS = {"orders": "pending", "payments": "authorized"}
T0_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z: change times are synthetic, one second apart


def _read(path: Path) -> pa.Table:
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path)
    import pyarrow.csv as pcsv

    return pcsv.read_csv(path)


def _field(f: pa.Field) -> dict:
    t = f.type
    if pa.types.is_decimal(t):
        return {"type": "bytes", "optional": True, "name": "org.apache.kafka.connect.data.Decimal",
                "version": 1, "parameters": {"scale": str(t.scale), "connect.decimal.precision": str(t.precision)},
                "field": f.name}
    if pa.types.is_timestamp(t):
        return {"type": "string", "optional": True, "name": "io.debezium.time.ZonedTimestamp",
                "version": 1, "field": f.name}
    if pa.types.is_date(t):
        return {"type": "int32", "optional": True, "name": "io.debezium.time.Date", "version": 1,
                "field": f.name}
    kind = {pa.int64(): "int64", pa.int32(): "int32", pa.float64(): "double", pa.bool_(): "boolean"}
    return {"type": kind.get(t, "string"), "optional": True, "field": f.name}


def _encoder(t: pa.DataType):
    """How a value of type ``t`` is written in Connect JSON (None: as it is)."""
    if pa.types.is_decimal(t):
        def decimal(v):
            unscaled = int(v.scaleb(t.scale))
            size = max(1, (unscaled.bit_length() + 8) // 8)
            return base64.b64encode(unscaled.to_bytes(size, "big", signed=True)).decode()
        return decimal
    if pa.types.is_timestamp(t):
        return lambda v: v.isoformat().replace("+00:00", "Z")
    if pa.types.is_date(t):
        epoch = date(1970, 1, 1)
        return lambda v: (v - epoch).days
    return None


class _Lines:
    """A sink for the log's lines: written to ``fh`` as they come (a large log is never held)."""

    def __init__(self, fh) -> None:
        self.fh, self.count = fh, 0

    def append(self, line: str) -> None:
        self.fh.write(line + "\n")
        self.count += 1


class _Log:
    def __init__(self, name: str, schema: pa.Schema, lines: list[str] | _Lines | None = None) -> None:
        self.name = name
        self.encoders = {f.name: _encoder(f.type) for f in schema}
        row = {"type": "struct", "optional": True, "fields": [_field(f) for f in schema],
               "name": f"shop.public.{name}.Value"}
        self.schema = {"type": "struct", "name": f"shop.public.{name}.Envelope", "optional": False,
                       "fields": [{**row, "field": "before"}, {**row, "field": "after"},
                                  {"type": "struct", "optional": False, "field": "source",
                                   "fields": [], "name": "io.debezium.connector.postgresql.Source"},
                                  {"type": "string", "optional": False, "field": "op"},
                                  {"type": "int64", "optional": True, "field": "ts_ms"}]}
        # the Connect converter repeats the schema on every line: serialise it once
        self.prefix = '{"schema":' + json.dumps(self.schema, separators=(",", ":")) + ',"payload":'
        self.lines = [] if lines is None else lines
        self.lsn = 100_000_000
        self.tx = 5000
        self.clock = 0

    def _encode(self, row: dict | None) -> dict | None:
        if row is None:
            return None
        enc = self.encoders
        return {k: v if v is None or enc[k] is None else enc[k](v) for k, v in row.items()}

    def event(self, op: str, before: dict | None, after: dict | None, tx: dict | None) -> None:
        self.lsn += 64
        self.clock += 1000
        source = {"version": "2.7.0.Final", "connector": "postgresql", "name": "shop",
                  "ts_ms": T0_MS + self.clock, "snapshot": "true" if op == "r" else "false", "db": "shop",
                  "schema": "public", "table": self.name, "txId": tx["txid"] if tx else self.tx,
                  "lsn": self.lsn}
        payload = {"before": self._encode(before), "after": self._encode(after), "source": source,
                   "op": op, "ts_ms": T0_MS + self.clock,
                   "transaction": None if tx is None else {"id": tx["id"], "total_order": tx["n"],
                                                           "data_collection_order": tx["n"]}}
        if tx is not None:
            tx["n"] += 1
        self.lines.append(self.prefix + json.dumps(payload, separators=(",", ":")) + "}")

    def transaction(self, events: list[tuple[str, dict | None, dict | None]]) -> None:
        self.tx += 1
        tx = {"txid": self.tx, "id": f"{self.tx}:{self.lsn + 64}", "n": 1}
        self.lines.append(json.dumps({"status": "BEGIN", "id": tx["id"], "event_count": None,
                                      "data_collections": None}))
        for op, before, after in events:
            self.event(op, before, after, tx)
        self.lines.append(json.dumps({"status": "END", "id": tx["id"], "event_count": len(events),
                                      "data_collections": [{"data_collection": f"public.{self.name}",
                                                            "event_count": len(events)}]}))


def change_log(name: str, table: pa.Table, key: str, seed: int, lines=None) -> list[str]:
    """The Debezium events whose replay gives exactly ``table`` (appended to ``lines``, a list
    or a file sink, and returned)."""
    rng = np.random.default_rng([seed, len(name)])
    rows = sorted(table.to_pylist(), key=lambda r: r[key])
    log = _Log(name, table.schema, lines)
    split = int(len(rows) * 0.6)
    for row in rows[:split]:
        log.event("r", None, row, None)
    rest = rows[split:]
    early = {i for i in range(len(rest)) if rng.random() < 0.3}
    status = EARLY_STATUS.get(name)
    top = max((r[key] for r in rows), default=0)
    pending: list[dict] = []
    i = 0
    while i < len(rest):
        size = int(rng.integers(1, 6))
        events = []
        for j in range(i, min(i + size, len(rest))):
            row = rest[j]
            if j in early:
                first = dict(row)
                if status and "status" in first:
                    first["status"] = status
                events.append(("c", None, first))
                pending.append(row)
            else:
                events.append(("c", None, row))
        if rng.random() < 0.05:  # a test row created and removed again
            top += 1
            ghost = {**rest[i], key: top}
            events.append(("c", None, ghost))
            pending.append({"__delete__": ghost})
        log.transaction(events)
        i += size
        if pending and rng.random() < 0.5:  # later transactions settle earlier rows
            batch, pending = pending[:3], pending[3:]
            log.transaction([("d", p["__delete__"], None) if "__delete__" in p else ("u", p, p)
                             for p in batch])
    while pending:
        batch, pending = pending[:3], pending[3:]
        log.transaction([("d", p["__delete__"], None) if "__delete__" in p else ("u", p, p) for p in batch])
    return log.lines


def write_change_logs(data_dir: Path, out_dir: Path, seed: int = 7) -> dict[str, int]:
    """Write ``<out_dir>/{orders,payments,returns}.jsonl``; returns the events per file."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name, file, key in TABLES:
        with open(out_dir / f"{name}.jsonl", "w", encoding="utf-8") as fh:
            sink = change_log(name, _read(Path(data_dir) / file), key, seed, lines=_Lines(fh))
        counts[f"{name}.jsonl"] = sink.count
    return counts


if __name__ == "__main__":  # pragma: no cover
    import sys

    print(write_change_logs(Path(sys.argv[1]), Path(sys.argv[2])))
