"""A pyiceberg transaction whose ``table_metadata`` is computed once per staged change.

pyiceberg (0.10–0.12) derives ``Transaction.table_metadata`` on every read: it replays the staged
updates on the table's metadata and returns a deep copy of the pydantic model. One commit reads
it ~20–40 times, and the copy grows with the table's snapshot history (a few ms each at ~80
snapshots), so the copies alone were ~40% of a 90-partition commit. The value only changes when
an update is staged or the table's metadata is refreshed (a commit retry), and the model is
frozen, so :func:`memoise` keys it on exactly those two objects. It changes the class of ONE
transaction object, never pyiceberg's class; ``tests/core/test_overwrite.py`` checks that the
memoised value equals pyiceberg's own after each kind of staged change.
"""

from __future__ import annotations

import functools

CHECKED_VERSIONS = ("0.10.", "0.11.", "0.12.")
_SLOT = "_headwater_metadata"


def memoise(txn):
    """Return ``txn`` with a memoised ``table_metadata`` (unchanged on unchecked versions)."""
    import pyiceberg

    if not pyiceberg.__version__.startswith(CHECKED_VERSIONS):
        return txn
    cls = type(txn)
    if not getattr(cls, "_headwater_memoised", False):
        txn.__class__ = _memoised_class(cls)
    return txn


@functools.cache
def _memoised_class(cls: type) -> type:
    compute = cls.table_metadata.fget

    def table_metadata(self):
        base, updates = self._table.metadata, self._updates
        if not updates:  # nothing staged: pyiceberg would return an equal copy of the (frozen) base
            return base
        cached = self.__dict__.get(_SLOT)
        if cached is None or cached[0] is not base or cached[1] is not updates:
            cached = (base, updates, compute(self))
            self.__dict__[_SLOT] = cached
        return cached[2]

    return type(cls.__name__, (cls,), {
        "table_metadata": property(table_metadata, doc=cls.table_metadata.__doc__),
        "_headwater_memoised": True, "__module__": cls.__module__, "__qualname__": cls.__qualname__})
