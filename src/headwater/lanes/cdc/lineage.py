"""OpenLineage events of CDC commits: the source table (or change log) in, the mirror out."""

from __future__ import annotations

from urllib.parse import urlsplit

from headwater.lanes.inputs import table_dataset
from headwater.ledger.openlineage import DatasetRef, JobRef, run_event
from headwater.lineage.naming import normalise_namespace


def job(platform, product) -> JobRef:
    owners = [f"team:{product.owner.team}"]
    return JobRef(f"headwater://{platform.project.name}", product.name, owners=owners,
                  description=product.description or None, processing_type="STREAMING")


def source_dataset(product, source_id: str) -> DatasetRef:
    """The OpenLineage name of the captured table: postgres://host:port + db.schema.table."""
    spec = product.cdc.source
    kind, _, where = source_id.partition(":")
    if kind == "postgres" and spec.url and "://" in spec.url:
        parts = urlsplit(spec.url)
        db = parts.path.lstrip("/") or "postgres"
        table = spec.table if "." in spec.table else f"public.{spec.table}"
        # the spec's spelling: postgres://host:port, the host folded, credentials and driver dropped
        return DatasetRef(normalise_namespace(f"{parts.scheme}://{parts.netloc}"), f"{db}.{table}")
    if kind == "debezium":
        return DatasetRef("file", where)
    return DatasetRef(f"headwater-cdc://{kind}", where or spec.table)


def output_dataset(platform, product, rows: int | None = None) -> DatasetRef:
    return table_dataset(platform.lakehouse, platform.project.name, product.name, rows=rows)


def emit(platform, event_type: str, when, step_id: str, run_id: str, product, source_id: str,
         rows: int | None = None, error: str | None = None) -> None:
    event = run_event(event_type, when, step_id, job(platform, product),
                      inputs=[source_dataset(product, source_id)],
                      outputs=[output_dataset(platform, product, rows)],
                      parent=(run_id, f"headwater://{platform.project.name}", "run"), error=error)
    platform.ledger.record_event(event, origin="headwater")
