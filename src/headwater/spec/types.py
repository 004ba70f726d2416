"""Small value types shared by the spec models: durations, identifiers."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")


def parse_duration(value: Any) -> timedelta:
    """'90s', '15m', '2h', '30d', '1w' (or a number of seconds) as a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])
    raise ValueError(f"{value!r} is not a duration: write a number and a unit, e.g. 90s, 15m, 2h, 30d")


def format_duration(value: timedelta) -> str:
    seconds = value.total_seconds()
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
]

_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")


def check_identifier(value: str) -> str:
    if not isinstance(value, str) or not _IDENT.match(value) or "__" in value:
        raise ValueError(
            f"{value!r} is not a valid name: use lower case letters, digits and single underscores, "
            "starting with a letter (e.g. daily_revenue)"
        )
    return value


Identifier = Annotated[str, BeforeValidator(check_identifier)]
