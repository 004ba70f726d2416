"""Example projects that ``headwater init DIR --example NAME`` writes out, raw data included.

Each example is a package here holding a template project folder (``<example>/project/``) and a
deterministic generator (``<example>/generate.py``) that writes the raw files the project's
sources point at, plus ``data/_planted.json`` listing the bad rows planted for contracts to catch.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from headwater.errors import HeadwaterError

__all__ = ["EXAMPLES", "ScaffoldResult", "scaffold"]

EXAMPLES = ("ecommerce",)
DATA_DIR = "data"


@dataclass(frozen=True)
class ScaffoldResult:
    """What ``scaffold`` wrote: project files, rows per raw file and bad rows planted per kind."""

    example: str
    target: Path
    files: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    planted: dict[str, int] = field(default_factory=dict)
    derived: dict[str, int] = field(default_factory=dict)  # e.g. cdc/orders.jsonl -> its lines
    notes: list[str] = field(default_factory=list)  # what was left out, and how to write it

    def to_dict(self) -> dict:
        return {"example": self.example, "target": str(self.target), "files": self.files,
                "rows": self.rows, "planted": self.planted, "derived": self.derived,
                "notes": self.notes}


def scaffold(example: str, target: str | os.PathLike, scale: float = 1.0, seed: int = 7,
             end_date: date | None = None) -> ScaffoldResult:
    """Copy the example's template project into ``target`` and generate its raw data (and the
    files derived from it, such as the CDC products' Debezium change logs).

    ``target`` must not exist or be an empty folder. The data is the same for the same
    (scale, seed, end_date); ``end_date`` defaults to today (UTC) and the data covers the 90 days
    ending on it.
    """
    if example not in EXAMPLES:
        raise HeadwaterError(f"unknown example {example!r}",
                             fix=f"use one of: {', '.join(EXAMPLES)} (e.g. --example ecommerce)")
    target = Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise HeadwaterError(
            f"{target} already exists and is not an empty folder",
            fix=f"choose a new folder, e.g. 'headwater init {target.name}-{example} --example "
                f"{example}', or empty {target} first")
    created = not target.exists()
    template = Path(__file__).parent / example / "project"
    try:
        shutil.copytree(template, target, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        generator = importlib.import_module(f"headwater.examples.{example}.generate")
        rows = generator.generate(target / DATA_DIR, scale=scale, seed=seed, end_date=end_date)
        # files the project reads outside data/ (the CDC products' change logs), when it has any
        derive = getattr(generator, "write_derived", None)
        derived, notes = derive(target, rows, seed=seed) if derive is not None else ({}, [])
    except BaseException:
        # Leave nothing half-written behind: a second attempt should find the folder as it was.
        _undo(target, created)
        raise
    truth = json.loads((target / DATA_DIR / generator.PLANTED_FILE).read_text(encoding="utf-8"))
    files = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    return ScaffoldResult(
        example=example, target=target, files=files, rows=rows,
        planted={kind: section["count"] for kind, section in truth["planted"].items()},
        derived=derived, notes=notes,
    )


def _undo(target: Path, created: bool) -> None:
    if created:
        shutil.rmtree(target, ignore_errors=True)
        return
    for child in target.iterdir():
        if child.is_dir():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
