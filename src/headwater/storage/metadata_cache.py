"""pyiceberg's SQL catalog, with each table metadata file parsed once per process.

Every ``load_table`` reads the catalog row, then reads and validates the whole metadata JSON,
which grows with every snapshot (470 KB after 360 commits of a CDC mirror, tens of milliseconds
to parse). A metadata file never changes once written (a commit writes a new one and moves the
catalog pointer), so the parsed metadata is cached by its location: a load still asks the
catalog where the current metadata is, and only parses a file it has not seen.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from functools import cache

CACHED_FILES = 64


@cache
def caching_catalog_class():
    from pyiceberg.catalog import Catalog
    from pyiceberg.catalog.sql import SqlCatalog
    from pyiceberg.exceptions import NoSuchTableError
    from pyiceberg.io import load_file_io
    from pyiceberg.serializers import FromInputFile
    from pyiceberg.table import Table

    class CachingSqlCatalog(SqlCatalog):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self._parsed: OrderedDict[str, object] = OrderedDict()
            self._parsed_lock = threading.Lock()

        def _metadata(self, location: str):
            with self._parsed_lock:
                if location in self._parsed:
                    self._parsed.move_to_end(location)
                    return self._parsed[location]
            io = load_file_io(properties=self.properties, location=location)
            metadata = FromInputFile.table_metadata(io.new_input(location))
            with self._parsed_lock:
                self._parsed[location] = metadata
                while len(self._parsed) > CACHED_FILES:
                    self._parsed.popitem(last=False)
            return metadata

        def _convert_orm_to_iceberg(self, orm_table) -> Table:
            if not (location := orm_table.metadata_location):
                raise NoSuchTableError("Table property metadata_location is missing")
            if not orm_table.table_namespace or not orm_table.table_name:
                raise NoSuchTableError("Table namespace or name is missing")
            metadata = self._metadata(location)
            return Table(identifier=Catalog.identifier_to_tuple(orm_table.table_namespace) + (orm_table.table_name,),
                         metadata=metadata, metadata_location=location,
                         io=self._load_file_io(metadata.properties, location), catalog=self)

    return CachingSqlCatalog
