"""Conservation of rows per batch: rows in = written + quarantined + filtered by the transform.

``written`` is read back from the committed snapshot (not assumed from the gate), so a lane that
lost or duplicated rows between the gate and the commit shows up as unbalanced.
"""

from __future__ import annotations

from typing import Any


def conservation(rows_in: int | None, transform_out: int, passed: int, quarantined: int,
                 written: int) -> dict[str, Any]:
    """The balance of one batch; ``balanced`` is false when any row is unaccounted for."""
    filtered = None if rows_in is None else rows_in - transform_out
    gate_ok = transform_out == passed + quarantined
    commit_ok = written == passed
    return {"rows_in": rows_in, "transform_out": transform_out, "filtered_by_transform": filtered,
            "quarantined": quarantined, "written": written,
            "balanced": bool(gate_ok and commit_ok and
                             (rows_in is None or rows_in == written + quarantined + filtered)),
            "gate_balanced": gate_ok, "commit_balanced": commit_ok}


def written_rows(snapshot, rows: int) -> int:
    """Rows the commit added, from its snapshot summary (0 when the batch was empty)."""
    if rows == 0:
        return 0
    return int(snapshot.summary.get("added-records", 0) or 0)
