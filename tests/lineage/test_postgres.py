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


@pytest.mark.postgres
def test_concurrent_ingest_on_postgresql_stores_each_event_once(mini, fresh_pg_database):
    from concurrent.futures import ThreadPoolExecutor

    from headwater.platform import Platform
    from headwater.settings import Settings
    from tests.lineage.helpers import base_event

    platform = Platform(mini, settings=Settings(ledger_url=fresh_pg_database))
    events = [base_event(when=f"2026-01-01T00:00:{i:02d}Z") for i in range(50)]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: platform.lineage.ingest(events), range(4)))
    assert sum(r.stored for r in results) == 50
    assert len(platform.ledger.events()) == 50
