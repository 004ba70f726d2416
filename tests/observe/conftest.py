from datetime import datetime, timezone

import pytest

T0 = datetime(2026, 1, 5, 1, 0, tzinfo=timezone.utc)  # a Monday


@pytest.fixture
def sim(mini):
    """The mini project on a Platform whose clock only moves when the test says so."""
    from headwater.clock import FrozenClock
    from headwater.platform import Platform

    clock = FrozenClock(T0)
    return Platform(mini, clock=clock), clock
