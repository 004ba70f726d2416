"""Bind a step's inputs in the engine: sources as file views, products as snapshot scans."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from headwater.errors import NotFoundError
from headwater.ledger.openlineage import DatasetRef
from headwater.lineage.naming import normalise

if TYPE_CHECKING:
    from headwater.engines.base import EngineSession
    from headwater.lanes.base import StepContext


@dataclass
class BoundInputs:
    rows: int
    bytes: int
    snapshots: dict[str, str]
    data_time: datetime | None
    datasets: list[DatasetRef]


def bind_inputs(ctx: StepContext, session: EngineSession, names: list[str]) -> BoundInputs:
    project = ctx.project
    rows = size = 0
    snapshots: dict[str, str] = {}
    datasets: list[DatasetRef] = []
    data_times: list[datetime] = []
    for name in names:
        if name in project.sources:
            source = project.sources[name]
            stats = session.register_source(name, source, project.root)
            path = (project.root / source.path).resolve()
            datasets.append(DatasetRef("file", str(path), rows=stats.rows, bytes=stats.bytes))
            mtime = _source_time(project.root, source.path)
            if mtime:
                data_times.append(mtime)
        else:
            if not ctx.lakehouse.exists(name):
                raise NotFoundError(f"input {name!r} has no table yet",
                                    fix=f"run it first (headwater run {name}) or add --upstream")
            plan = ctx.lakehouse.plan(name)
            stats = session.register_plan(name, plan)
            datasets.append(dataset_for(ctx, name, rows=plan.record_count, size=plan.bytes,
                                        files=len(plan.files)))
            last = ctx.ledger.latest(name, status="success")
            if last is not None and last.data_time is not None:
                data_times.append(last.data_time)
        snapshots[name] = stats.version
        rows += stats.rows or 0
        size += stats.bytes
    return BoundInputs(rows, size, snapshots, min(data_times) if data_times else None, datasets)


def dataset_for(ctx: StepContext, product: str, **stats) -> DatasetRef:
    """The OpenLineage identity of a product's table (its location), with the product as symlink."""
    return table_dataset(ctx.lakehouse, ctx.project.name, product, **stats)


def table_dataset(lakehouse, project: str, product: str, **stats) -> DatasetRef:
    """A product's table as every lane names it: its location in the naming spec's spelling
    (``file`` + ``/wh/ns/t`` on a local warehouse, ``s3://bucket`` + ``wh/ns/t`` on S3), with the
    product as its symlink. ``stats``: rows, size, files, schema."""
    location = f"{lakehouse.warehouse.rstrip('/')}/{lakehouse.namespace}/{product}"
    namespace, name = normalise("file", location)
    return DatasetRef(namespace, name, product=product, project_namespace=f"headwater://{project}",
                      rows=stats.get("rows"), bytes=stats.get("size"), files=stats.get("files"),
                      schema=stats.get("schema"))


def _source_time(root, pattern: str) -> datetime | None:
    import glob
    import os

    files = glob.glob(str(root / pattern))
    if not files:
        return None
    return datetime.fromtimestamp(max(os.stat(f).st_mtime for f in files), tz=timezone.utc)
