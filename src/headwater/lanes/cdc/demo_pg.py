"""The CDC demo against a real PostgreSQL: load most rows, snapshot them through a replication
slot, then insert the rest and update some rows in real transactions and stream them."""

from __future__ import annotations

import pyarrow as pa

from headwater.errors import HeadwaterError

SCHEMA = "headwater_demo"


def _pg_type(t: pa.DataType) -> str:
    if pa.types.is_int64(t):
        return "bigint"
    if pa.types.is_integer(t):
        return "integer"
    if pa.types.is_floating(t):
        return "double precision"
    if pa.types.is_decimal(t):
        return f"numeric({t.precision},{t.scale})"
    if pa.types.is_timestamp(t):
        return "timestamptz" if t.tz else "timestamp"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_boolean(t):
        return "boolean"
    return "text"


def _last_per_key(table: pa.Table, key: str) -> list[dict]:
    rows: dict = {}
    for row in table.to_pylist():
        rows[row[key]] = row  # planted duplicate keys: the database keeps the last write
    return [rows[k] for k in sorted(rows)]


def run_postgres(platform, url: str, products) -> dict:
    import psycopg

    from headwater.spec.product import CdcSourceSpec

    results = {}
    try:
        conn = psycopg.connect(url, autocommit=True)
    except psycopg.Error as exc:
        raise HeadwaterError(f"cannot reach the demo PostgreSQL at HEADWATER_DEMO_PG_URL: {exc}",
                             fix="unset HEADWATER_DEMO_PG_URL to replay the generated Debezium logs") from exc
    with conn:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        for name, raw, key in products:
            table = platform.query(f"SELECT * FROM {raw}")
            rows = _last_per_key(table, key)
            cols = table.column_names
            target = f"{SCHEMA}.{raw.removeprefix('raw_')}"
            slot = f"headwater_demo_{name}"
            conn.execute(f"DROP TABLE IF EXISTS {target}")
            conn.execute(f"CREATE TABLE {target} ("
                         + ", ".join(f'"{f.name}" {_pg_type(f.type)}' for f in table.schema)
                         + f', PRIMARY KEY ("{key}"))')
            split = int(len(rows) * 0.7)
            with conn.cursor() as cur, cur.copy(f"COPY {target} ({', '.join(cols)}) FROM STDIN") as copy:
                for row in rows[:split]:
                    copy.write_row([row[c] for c in cols])
            spec = CdcSourceSpec(kind="postgres", url=url, table=target, slot=slot)
            first = platform.cdc.run(name, until_idle=0, source=spec, resnapshot=True)
            placeholders = ", ".join(["%s"] * len(cols))
            status_col = "status" in cols
            for start in range(split, len(rows), 25):
                with conn.transaction():
                    for row in rows[start:start + 25]:
                        early = dict(row)
                        if status_col:
                            early["status"] = "pending"
                        conn.execute(f"INSERT INTO {target} ({', '.join(cols)}) VALUES ({placeholders})",
                                     [early[c] for c in cols])
                        if status_col:
                            conn.execute(f'UPDATE {target} SET status = %s WHERE "{key}" = %s',
                                         (row["status"], row[key]))
            streamed = platform.cdc.run(name, until_idle=0, source=spec)
            streamed.changes += first.changes
            streamed.batches += first.batches
            streamed.upserts += first.upserts
            results[name] = streamed
    return results
