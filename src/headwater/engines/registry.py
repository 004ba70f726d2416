"""Engines by kind. Add an engine by adding a module with the same shape and one line here."""

from __future__ import annotations

from headwater.errors import HeadwaterError

ENGINES = {"duckdb": "headwater.engines.duckdb:DuckDBEngine"}


def make_engine(kind: str, **options):
    if kind not in ENGINES:
        raise HeadwaterError(f"unknown engine {kind!r}", fix=f"use one of: {', '.join(ENGINES)}")
    module, _, cls = ENGINES[kind].partition(":")
    import importlib

    return getattr(importlib.import_module(module), cls)(**options)
