"""Fixed-length ASCII patterns as a DuckDB GLOB (ADR 0008).

DuckDB's GLOB compares bytes with no per-row setup (a tenth of an RE2 call). A pattern that is a
fixed sequence of printable-ASCII character classes ("[A-Z]{3}", "\\d{5}", "[A-Z]{2}-\\d{4}")
means the same as a GLOB: a value with any other character, or another length, fails both.
"""

from __future__ import annotations

import functools

from headwater.contracts.regex_dfa import SRE as _c
from headwater.contracts.regex_dfa import Unsupported, class_intervals, parse, strip_anchors

_GLOB_UNSAFE = set("[]!^-\\*?")


@functools.lru_cache(maxsize=256)
def glob(pattern: str) -> str | None:
    """The GLOB that a value matches exactly when it fully matches ``pattern``, or None."""
    try:
        items = strip_anchors(list(parse(pattern)))
        parts = _glob_seq(items)
    except (Unsupported, _c.error, RecursionError, OverflowError):
        return None
    return "".join(parts)


def _glob_seq(items) -> list[str]:
    out: list[str] = []
    for op, av in items:
        if op is _c.SUBPATTERN and not av[1] and not av[2]:
            out += _glob_seq(list(av[3]))
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT) and av[0] == av[1] and av[0] <= 64:
            sub = list(av[2])
            if len(sub) != 1:
                raise Unsupported("repeat of a sequence")
            out += [_glob_char(*sub[0])] * av[0]
        else:
            out.append(_glob_char(op, av))
    return out


def _glob_char(op, av) -> str:
    if op is _c.LITERAL:
        charset = ((av, av),)
    elif op is _c.IN:
        charset = class_intervals(av)
    else:
        raise Unsupported(f"{op} in a glob")
    if not charset or any(lo < 0x20 or hi > 0x7E for lo, hi in charset):
        raise Unsupported("not printable ASCII")
    if len(charset) == 1 and charset[0][0] == charset[0][1]:
        ch = chr(charset[0][0])
        return f"[{ch}]" if ch in "*?[\\" else ch if ch != "]" else _unsupported("']' in a glob")
    members = []
    for lo, hi in charset:
        if any(chr(c) in _GLOB_UNSAFE for c in range(lo, hi + 1)):
            raise Unsupported("class member that GLOB reads differently")
        members.append(chr(lo) if lo == hi else chr(lo) + ("" if hi == lo + 1 else "-") + chr(hi))
    return "[" + "".join(members) + "]"


def _unsupported(why: str):
    raise Unsupported(why)
