"""Sources: the raw inputs products read. Files first; brokers and databases come with their lanes."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from headwater.spec.config import Strict
from headwater.spec.product import Owner
from headwater.spec.types import Identifier


class FileSource(Strict):
    """CSV, Parquet or JSON lines files on the local file system (a glob is allowed)."""

    kind: Literal["file"] = "file"
    name: Identifier = Field(description="The name SQL uses to read this source.")
    description: str = ""
    owner: Owner | None = None
    format: Literal["csv", "parquet", "jsonl"] = Field(description="File format.")
    path: str = Field(description="Path or glob relative to the project folder.", examples=["data/orders/*.parquet"])
    options: dict[str, str | int | bool] = Field(
        default_factory=dict,
        description="Reader options passed to the engine (csv: delim, header, dateformat...).",
    )
    expected_arrival: str | None = Field(
        default=None, description="When the source normally lands each day, HH:MM UTC (for diagnosis)."
    )
    tags: list[str] = Field(default_factory=list)


# One kind so far; when a second arrives this becomes a union discriminated on ``kind``.
Source = FileSource
SOURCE_KINDS = ("file",)
