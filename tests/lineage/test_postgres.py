"""The same ingest, idempotency and diagnosis with the ledger on a real PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parents[1] / "diagnose" / "fixtures"


@pytest.mark.postgres
def test_ingest_and_diagnose_on_postgresql(mini, fresh_pg_database):
    from headwater.platform import Platform
    from headwater.settings import Settings

    platform = Platform(mini, settings=Settings(ledger_url=fresh_pg_database))
    assert platform.ledger.engine.dialect.name == "postgresql"
    first = platform.lineage.ingest_files([str(FIXTURES / "late_supplier.jsonl")])
    again = platform.lineage.ingest_files([str(FIXTURES / "late_supplier.jsonl")])
    assert (first.stored, again.stored, again.duplicates) == (70, 0, 70)
    report = platform.diagnosis.diagnose("airflow://prod/supplier_report").to_dict()
    assert report["findings"][0]["kind"] == "late_upstream"
    assert report["findings"][0]["culprit"] == "s3://raw/suppliers.csv"
