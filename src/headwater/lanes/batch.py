"""The batch lane: bind inputs, run the transform once, gate, and commit one Iceberg snapshot."""

from __future__ import annotations

import importlib.util
import json
import time
from datetime import date, datetime, timedelta, timezone
from datetime import time as dtime
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from headwater.contracts.conservation import conservation, written_rows
from headwater.errors import HeadwaterError, RunFailed, SpecError
from headwater.lanes.base import StepContext, StepRequest, StepResult, StepStatus
from headwater.lanes.gate import PassThroughGate
from headwater.lanes.inputs import bind_inputs, dataset_for
from headwater.ledger.openlineage import JobRef, run_event
from headwater.ledger.store import StepMetrics

if TYPE_CHECKING:
    from headwater.spec.product import BatchProduct


class BatchLane:
    KIND = "batch"

    def run_step(self, ctx: StepContext, product: BatchProduct, request: StepRequest) -> StepResult:
        timings: dict[str, float] = {}
        started = ctx.ledger.start_step(ctx.step_id)
        job = _job(ctx, product)
        ctx.emit(run_event("START", started, ctx.step_id, job, parent=_parent(ctx)))
        ctx.meter.begin(ctx.step_id)
        session = ctx.engine.session()
        bound = None
        try:
            t = time.perf_counter()
            bound = bind_inputs(ctx, session, product.inputs)
            timings["bind"] = time.perf_counter() - t
            t = time.perf_counter()
            output = _transform(ctx, session, product, request)
            timings["transform"] = time.perf_counter() - t
            t = time.perf_counter()
            gate = ctx.gate or PassThroughGate()
            transform_out = output.num_rows
            position = (f"{product.partitioning.column}={request.partition}"
                        if request.partition and product.partitioning else None)
            outcome = gate.apply(product, output, run_id=ctx.run_id, step_id=ctx.step_id,
                                 source_position=position)
            timings["gate"] = time.perf_counter() - t
            if outcome.blocked:
                blocked = RunFailed(f"the contract blocked this batch: {outcome.message}",
                                    fix=f"see 'headwater contract check {product.name}'; nothing was committed")
                blocked.details = {**outcome.details, "conservation": conservation(
                    bound.rows, transform_out, 0, 0, 0) | {"blocked": transform_out, "balanced": True,
                                                           "gate_balanced": True}}  # all rows stay at the source
                raise blocked
            transformed, output = output, outcome.passed
            t = time.perf_counter()
            mode, value = _write_mode(product, request, output)
            snapshot = ctx.lakehouse.write(
                product.name, output, mode=mode,
                partition_column=product.partitioning.column if product.partitioning else None,
                partition_value=value, allow_breaking=request.full_refresh,
                # every partition the transform produced is replaced, even one the gate emptied
                replaced_partitions=(transformed.column(product.partitioning.column).unique().to_pylist()
                                     if mode == "partitions" and transformed.num_rows else None),
                properties={"run-id": ctx.run_id, "step-id": ctx.step_id,
                            "partition": request.partition or "", "mode": mode,
                            "inputs": json.dumps(bound.snapshots, sort_keys=True)})
            timings["commit"] = time.perf_counter() - t
        except HeadwaterError as exc:
            return self._fail(ctx, product, request, job, exc, bound, timings)
        finally:
            session.close()
        usage = ctx.meter.end(ctx.step_id)
        data_time = _data_time(ctx, product, request, output, bound)
        bytes_written = int(snapshot.summary.get("added-files-size", 0) or 0)
        metrics = StepMetrics(rows_read=bound.rows, rows_written=output.num_rows,
                              bytes_read=bound.bytes, bytes_written=bytes_written,
                              cpu_seconds=round(usage.cpu_seconds, 4),
                              peak_memory_bytes=usage.peak_memory_bytes,
                              input_snapshots=bound.snapshots, output_snapshot_id=snapshot.snapshot_id,
                              data_time=data_time, details={
                                  "mode": mode, "timings": timings, **outcome.details,
                                  "conservation": conservation(
                                      bound.rows, transform_out, output.num_rows,
                                      outcome.quarantined.num_rows if outcome.quarantined is not None else 0,
                                      written_rows(snapshot, output.num_rows))})
        t = time.perf_counter()
        finished = ctx.ledger.finish_step(ctx.step_id, "success", metrics)
        out = dataset_for(ctx, product.name, rows=output.num_rows, size=bytes_written,
                          files=int(snapshot.summary.get("added-data-files", 0) or 0), schema=output.schema)
        ctx.emit(run_event("COMPLETE", finished, ctx.step_id, job, inputs=bound.datasets, outputs=[out],
                           parent=_parent(ctx)))
        timings["ledger"] = time.perf_counter() - t
        return StepResult(product.name, StepStatus.SUCCESS, ctx.step_id, request.partition,
                          rows_read=bound.rows, rows_written=output.num_rows,
                          bytes_written=bytes_written, snapshot_id=snapshot.snapshot_id,
                          seconds=(finished - started).total_seconds(), data_time=data_time,
                          timings=timings)

    def _fail(self, ctx, product, request, job, exc: HeadwaterError, bound, timings) -> StepResult:
        usage = ctx.meter.end(ctx.step_id)
        message = exc.message if not isinstance(exc, SpecError) else str(exc)
        metrics = StepMetrics(cpu_seconds=round(usage.cpu_seconds, 4),
                              peak_memory_bytes=usage.peak_memory_bytes,
                              rows_read=bound.rows if bound else None,
                              bytes_read=bound.bytes if bound else None,
                              input_snapshots=bound.snapshots if bound else None,
                              details={"fix": exc.fix, "error_kind": type(exc).__name__,
                                       **getattr(exc, "details", {})})
        finished = ctx.ledger.finish_step(ctx.step_id, "failed", metrics, error=message)
        ctx.emit(run_event("FAIL", finished, ctx.step_id, job,
                           inputs=bound.datasets if bound else [], parent=_parent(ctx), error=message))
        return StepResult(product.name, StepStatus.FAILED, ctx.step_id, request.partition,
                          error=message, fix=exc.fix, timings=timings)


def _job(ctx: StepContext, product) -> JobRef:
    owners = [f"team:{product.owner.team}"] + [f"user:{p}" for p in product.owner.people]
    return JobRef(f"headwater://{ctx.project.name}", product.name, owners=owners,
                  sql=ctx.project.sql.get(product.name), description=product.description or None)


def _parent(ctx: StepContext) -> tuple[str, str, str]:
    return (ctx.run_id, f"headwater://{ctx.project.name}", "run")


def _transform(ctx: StepContext, session, product, request: StepRequest) -> pa.Table:
    if product.transform.sql is not None:
        sql = ctx.project.sql[product.name]
        if request.partition is not None and product.partitioning is not None:
            column = product.partitioning.column.replace('"', '""')
            sql = (f'SELECT * FROM ({sql.rstrip().rstrip(";")}) AS headwater_output '
                   f'WHERE "{column}" = CAST(\'{_partition_date(request.partition)}\' AS DATE)')
        return session.query(sql)
    return _python_transform(ctx, session, product)


def _python_transform(ctx: StepContext, session, product) -> pa.Table:
    path, _, func = product.transform.python.rpartition(":")
    spec = importlib.util.spec_from_file_location(f"headwater_transform_{product.name}",
                                                  ctx.project.root / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fn = getattr(module, func, None)
    if fn is None:
        raise RunFailed(f"{path} has no function {func!r}", fix="define it, or correct transform.python")
    result = fn(session.con)
    if hasattr(result, "to_arrow_table"):
        result = result.to_arrow_table()
    if not isinstance(result, pa.Table):
        raise RunFailed(f"{path}:{func} returned {type(result).__name__}, not an Arrow table",
                        fix="return a pyarrow.Table or a DuckDB relation")
    return result


def _partition_date(value: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise RunFailed(f"partition {value!r} is not a date",
                        fix="give --partition as YYYY-MM-DD") from None


def _write_mode(product, request: StepRequest, output: pa.Table):
    if product.partitioning is not None:
        column = product.partitioning.column
        if column not in output.column_names:
            raise RunFailed(f"the output of {product.name!r} has no partition column {column!r}",
                            fix=f"select a DATE column named {column!r}, or change partitioning.column")
        if not pa.types.is_date(output.schema.field(column).type):
            raise RunFailed(f"partition column {column!r} is {output.schema.field(column).type}, not a date",
                            fix=f"cast it in the SQL: CAST(... AS DATE) AS {column}")
        if request.full_refresh:
            return "replace", None
        if request.partition is not None:
            return "partition", date.fromisoformat(_partition_date(request.partition))
        return "partitions", None
    if request.partition is not None:
        raise RunFailed(f"{product.name!r} is not partitioned, so --partition does not apply",
                        fix="drop --partition, or declare 'partitioning: {column: <date column>}'")
    return "replace", None


def _data_time(ctx: StepContext, product, request: StepRequest, output: pa.Table, bound) -> datetime | None:
    """Up to when the product's data is complete: the end of its newest partition, else its inputs'."""
    now = ctx.clock.now()
    if product.partitioning is not None and output.num_rows:
        newest = pc.max(output.column(product.partitioning.column)).as_py()
        if newest is not None:
            end = min(datetime.combine(newest, dtime(0), tzinfo=timezone.utc) + timedelta(days=1), now)
            previous = ctx.ledger.latest(product.name, status="success")
            if previous is not None and previous.data_time is not None and not request.full_refresh:
                end = max(end, previous.data_time)  # re-running an old partition keeps freshness
            return end
    return min(bound.data_time, now) if bound and bound.data_time else now
