"""Injected time. Every component that reads the clock takes a Clock, so tests run in simulated time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone


class Clock:
    """The real clock: timezone-aware UTC."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class FrozenClock(Clock):
    """A clock that moves only when told to (for tests and simulations)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FrozenClock needs a timezone-aware datetime")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, when: datetime) -> None:
        self._now = when


SYSTEM_CLOCK = Clock()
