"""OpenLineage events of CDC commits: the source table (or change log) in, the mirror out."""

from __future__ import annotations

from urllib.parse import urlsplit

from headwater.ledger.openlineage import DatasetRef, JobRef, run_event


def job(platform, product) -> JobRef:
    owners = [f"team:{product.owner.team}"]
    return JobRef(f"headwater://{platform.project.name}", product.name, owners=owners,
                  description=product.description or None, processing_type="STREAMING")


def source_dataset(product, source_id: str) -> DatasetRef:
    """The OpenLineage name of the captured table: postgres://host:port + db.schema.table."""
    spec = product.cdc.source
    kind, _, where = source_id.partition(":")
    if kind == "postgres" and spec.url and "://" in spec.url:
        parts = urlsplit(spec.url.replace("postgresql+psycopg://", "postgresql://"))
        db = parts.path.lstrip("/") or "postgres"
        table = spec.table if "." in spec.table else f"public.{spec.table}"
        return DatasetRef(f"postgres://{parts.hostname}:{parts.port or 5432}", f"{db}.{table}")
    if kind == "debezium":
        return DatasetRef("file", where)
    return DatasetRef(f"headwater-cdc://{kind}", where or spec.table)


def output_dataset(platform, product, rows: int | None = None) -> DatasetRef:
    lake = platform.lakehouse
    location = f"{lake.warehouse.rstrip('/')}/{lake.namespace}/{product.name}".removeprefix("file://")
    return DatasetRef("file", location, product=product.name,
                      project_namespace=f"headwater://{platform.project.name}", rows=rows)


def emit(platform, event_type: str, when, step_id: str, run_id: str, product, source_id: str,
         rows: int | None = None, error: str | None = None) -> None:
    event = run_event(event_type, when, step_id, job(platform, product),
                      inputs=[source_dataset(product, source_id)],
                      outputs=[output_dataset(platform, product, rows)],
                      parent=(run_id, f"headwater://{platform.project.name}", "run"), error=error)
    platform.ledger.record_event(event, origin="headwater")
