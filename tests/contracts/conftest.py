import datetime as dt

import pytest

from headwater.clock import FrozenClock


@pytest.fixture
def clock():
    return FrozenClock(dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.timezone.utc))


@pytest.fixture
def shop_root(tmp_path):
    from tests.contracts.helpers import shop

    return shop(tmp_path / "shop")


@pytest.fixture
def shop_platform(shop_root, clock):
    from headwater.platform import Platform

    return Platform(shop_root, clock=clock)
