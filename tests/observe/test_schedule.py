from datetime import datetime, timedelta, timezone

import pytest

from headwater.errors import HeadwaterError
from headwater.observe.schedule import ticks

MON = datetime(2026, 1, 5, tzinfo=timezone.utc)


def test_aliases_ranges_steps_and_weekdays():
    day = MON + timedelta(days=1)
    assert len(list(ticks("@hourly", MON, day))) == 24
    assert list(ticks("@daily", MON, day)) == [MON]
    assert [t.hour for t in ticks("30 9-17/4 * * *", MON, day)] == [9, 13, 17]
    week = list(ticks("0 6 * * 1-5", MON, MON + timedelta(days=7)))
    assert [t.weekday() for t in week] == [0, 1, 2, 3, 4]  # Monday to Friday
    assert [t.weekday() for t in ticks("0 0 * * 7", MON, MON + timedelta(days=7))] == [6]  # 7 is Sunday
    assert list(ticks("15 2 1 * *", MON, MON + timedelta(days=40))) == [datetime(2026, 2, 1, 2, 15, tzinfo=timezone.utc)]


@pytest.mark.parametrize("bad", ["every day", "61 * * * *", "* * *", "0 25 * * *"])
def test_bad_expressions_name_the_fix(bad):
    with pytest.raises(HeadwaterError, match="five fields"):
        list(ticks(bad, MON, MON + timedelta(days=1)))
