"""sorted_unique / sorted_union give np.unique's answer (NumPy 2.3+ answers it with a slow hash table)."""

from __future__ import annotations

import numpy as np
import pytest

from headwater.arrays import sorted_union, sorted_unique


@pytest.mark.parametrize("seed", range(5))
def test_the_same_values_as_numpy_in_the_same_order(seed):
    rng = np.random.default_rng(seed)
    values = rng.integers(-50, 50, rng.integers(0, 400)).astype(np.int64)
    assert np.array_equal(sorted_unique(values), np.unique(values))
    parts = [rng.integers(0, 1000, rng.integers(0, 200)) for _ in range(3)]
    assert np.array_equal(sorted_union(*parts), np.unique(np.concatenate(parts)))


def test_edges():
    assert sorted_unique(np.empty(0, np.int64)).tolist() == []
    assert sorted_unique(np.array([7])).tolist() == [7]
    assert sorted_unique(np.array([3, 3, 3])).tolist() == [3]
    assert sorted_union().tolist() == []
    assert sorted_union(np.array([2, 1]), np.array([1, 5])).tolist() == [1, 2, 5]
    original = np.array([5, 1, 5])
    sorted_unique(original)
    assert original.tolist() == [5, 1, 5]  # the input is left as it was
