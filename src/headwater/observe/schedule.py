"""When a product is due: the ticks of its ``schedule`` (five-field cron or @hourly/@daily/@weekly)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from headwater.errors import HeadwaterError

ALIASES = {"@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
           "@weekly": "0 0 * * 0"}
_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))


def _field(text: str, lo: int, hi: int) -> set[int]:
    values: set[int] = set()
    for part in text.split(","):
        body, _, step = part.partition("/")
        if body == "*":
            a, b = lo, hi
        elif "-" in body:
            a, b = (int(x) for x in body.split("-", 1))
        else:
            a = b = int(body)
        if not (lo <= a <= b <= hi):
            raise ValueError(part)
        values.update(range(a, b + 1, int(step) if step else 1))
    return values


def parse(expr: str) -> tuple[set[int], ...]:
    """The five fields of a cron expression as sets (minute, hour, day, month, weekday 0=Sunday)."""
    text = ALIASES.get(expr.strip(), expr.strip())
    parts = text.split()
    try:
        if len(parts) != 5:
            raise ValueError(text)
        fields = tuple(_field(p, lo, hi) for p, (lo, hi) in zip(parts, _RANGES))
    except ValueError:
        raise HeadwaterError(f"schedule {expr!r} is not a cron expression this reader understands",
                             fix="use five fields 'M H DOM MON DOW' (numbers, *, a-b, lists, /step) "
                                 "or @hourly, @daily, @weekly") from None
    if 7 in fields[4]:
        fields[4].add(0)
    return fields


def ticks(expr: str, start: datetime, end: datetime) -> Iterator[datetime]:
    """Every tick in [start, end), in order (times are UTC)."""
    minutes, hours, days, months, weekdays = parse(expr)
    day = start.replace(hour=0, minute=0, second=0, microsecond=0)
    while day < end:
        if day.month in months and day.day in days and (day.weekday() + 1) % 7 in weekdays:
            for h in sorted(hours):
                for m in sorted(minutes):
                    tick = day.replace(hour=h, minute=m)
                    if start <= tick < end:
                        yield tick
        day += timedelta(days=1)
