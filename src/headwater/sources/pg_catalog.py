"""What the PostgreSQL CDC source needs to know about a table, checked with clear errors:
wal_level, the table and its columns, and whether its REPLICA IDENTITY identifies the rows."""

from __future__ import annotations

from dataclasses import dataclass

from headwater.errors import HeadwaterError, NotFoundError


@dataclass(frozen=True)
class TableInfo:
    schema: str
    name: str
    columns: list[tuple[str, str]]      # (name, format_type) in table order
    identity: list[str]                 # columns wal2json sends for updates and deletes
    replica_identity: str               # default | index | full | nothing

    @property
    def quoted(self) -> str:
        return '"' + self.schema.replace('"', '""') + '"."' + self.name.replace('"', '""') + '"'

    @property
    def add_tables(self) -> str:
        """wal2json's add-tables filter for exactly this table (commas and dots escaped)."""
        def esc(s: str) -> str:
            return "".join("\\" + ch if ch in ",.\\ *" else ch for ch in s)
        return f"{esc(self.schema)}.{esc(self.name)}"


def split_name(table: str) -> tuple[str, str]:
    schema, _, name = table.rpartition(".")
    return (schema or "public").strip('"'), name.strip('"')


def describe(conn, table: str, primary_key: list[str]) -> TableInfo:
    import psycopg

    from headwater.sources.postgres import _translate

    schema, name = split_name(table)
    try:
        level = conn.execute("SHOW wal_level").fetchone()[0]
        if level != "logical":
            raise HeadwaterError(
                f"the server's wal_level is {level!r}; logical decoding needs 'logical'",
                fix="ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL")
        found = conn.execute(
            "SELECT c.oid, c.relreplident FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = %s AND c.relkind IN ('r', 'p')", (schema, name)).fetchone()
        if found is None:
            raise NotFoundError(f"no table {schema}.{name} in the source database",
                                fix="check cdc.source.table (schema-qualified, e.g. public.orders)")
        oid, ident = found
        columns = conn.execute(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = %s "
            "AND attnum > 0 AND NOT attisdropped ORDER BY attnum", (oid,)).fetchall()
        index_cols = conn.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s AND "
            + ("i.indisprimary" if ident == "d" else "i.indisreplident"), (oid,)).fetchall()
    except psycopg.Error as exc:
        raise _translate(exc, f"describing {schema}.{name}") from exc
    kind = {"d": "default", "i": "index", "f": "full", "n": "nothing"}[ident]
    names = [c for c, _ in columns]
    identity = names if kind == "full" else [r[0] for r in index_cols]
    alter = f'ALTER TABLE {schema}.{name} REPLICA IDENTITY FULL'
    if kind == "nothing" or not identity:
        raise HeadwaterError(
            f"{schema}.{name} has REPLICA IDENTITY {kind.upper()}"
            + (" and no primary key" if kind == "default" else "")
            + ": its updates and deletes do not say which row they change",
            fix=f"add a primary key, or run: {alter}")
    missing = [c for c in primary_key if c not in names]
    if missing:
        raise HeadwaterError(f"primary_key column {missing[0]!r} is not a column of {schema}.{name}",
                             fix=f"set primary_key to the table's key: {identity}")
    if not set(primary_key) <= set(identity):
        raise HeadwaterError(
            f"{schema}.{name}'s replica identity ({', '.join(identity)}) does not include the "
            f"product's primary_key ({', '.join(primary_key)}), so deletes could not be matched",
            fix=f"set primary_key: {identity}, or run: {alter}")
    return TableInfo(schema, name, [(c, t) for c, t in columns], identity, kind)
