"""The names columns have inside the Parquet files of an Iceberg table.

pyiceberg writes a column whose name is not a valid Avro name under a sanitised one (``order id``
as ``order_x20id``, ``a-b`` as ``a_x2Db``) and finds it again by field id. An engine that reads
the files by name must look for that spelling, or it reads the column as missing: NULL in
every row.
"""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=4096)
def physical_name(column: str) -> str:
    """The name pyiceberg gives ``column`` in the Parquet files it writes."""
    from pyiceberg.schema import make_compatible_name

    return make_compatible_name(column)
