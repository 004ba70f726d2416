"""The complement of a pattern rule's regular expression, to search for the rows that break it.

A pattern rule asks RE2 one question per row, and each call costs about as much as reading the
value. Failing rows are rare, so patterns.py asks the opposite question once per block of rows
joined by newlines: "is there a line here that does NOT match?". That needs a regular expression
for the complement, which RE2 cannot negate by itself. This module builds it:

    pattern --parse--> Thompson NFA --subsets--> DFA over character atoms
            --swap accepting states, drop the newline, drop the empty line--> minimal DFA
            --state elimination--> regular expression

The complement must never miss a failing string, so only syntax whose meaning in RE2 is known
exactly is accepted (literals, classes, ``.``, ``\\d \\w \\s`` as RE2's ASCII classes, groups,
alternation, greedy or lazy repeats, ``^``/``$``/``\\A``/``\\z`` at the ends). Anything else
(flags, ``\\b``, POSIX classes, Unicode classes, ``{,n}``) returns ``None`` and the rule keeps
its per-row RE2 check. Surplus matches are harmless: patterns.py re-checks every row of a block
that matched with the original pattern.
"""

from __future__ import annotations

import functools
import re

try:  # Python 3.11+
    from re import _constants as _c
    from re import _parser
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as _c  # type: ignore[no-redef]
    import sre_parse as _parser  # type: ignore[no-redef]

SRE = _c  # the parser's opcodes (regex_glob.py reads the same trees)
NEWLINE = 0x0A
# Every Unicode scalar value; surrogates never occur in valid UTF-8, so no set includes them.
UNIVERSE = ((0, 0xD7FF), (0xE000, 0x10FFFF))
MAX_NFA_STATES = 5000
MAX_DFA_STATES = 500
MAX_REGEX_CHARS = 20000

Intervals = tuple[tuple[int, int], ...]


class Unsupported(Exception):
    """The pattern uses syntax whose complement is not built here."""


@functools.lru_cache(maxsize=256)
def complement(pattern: str) -> tuple[str, bool] | None:
    """``(regex, empty_fails)``: a regex matching every one-line non-empty string that does NOT
    fully match ``pattern``, and whether the empty string fails it. ``None``: not supported."""
    try:
        dfa = _compile(pattern)
        return _to_regex(*_complement(*dfa)), not dfa[1][dfa[2]]
    except (Unsupported, RecursionError, OverflowError, _c.error):
        return None


def full_match(pattern: str, text: str) -> bool | None:
    """Whether ``text`` fully matches ``pattern`` by the DFA built here (for tests); None: unsupported."""
    try:
        trans, accept, start, atoms = _compile(pattern)
    except (Unsupported, OverflowError, _c.error):
        return None
    state = start
    for ch in text:
        state = trans[state][_atom_of(atoms, ord(ch))]
    return accept[state]


# --- character sets as sorted, disjoint, inclusive intervals -------------------------------

def _norm(intervals) -> Intervals:
    out: list[list[int]] = []
    for lo, hi in sorted(intervals):
        if out and lo <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return _clip(tuple((lo, hi) for lo, hi in out))


def _clip(intervals: Intervals) -> Intervals:
    out = []
    for lo, hi in intervals:
        for ulo, uhi in UNIVERSE:
            a, b = max(lo, ulo), min(hi, uhi)
            if a <= b:
                out.append((a, b))
    return tuple(out)


def _negate(intervals: Intervals) -> Intervals:
    out, at = [], 0
    for lo, hi in _norm(intervals):
        if lo > at:
            out.append((at, lo - 1))
        at = hi + 1
    if at <= 0x10FFFF:
        out.append((at, 0x10FFFF))
    return _clip(tuple(out))


DIGIT: Intervals = ((48, 57),)
WORD: Intervals = ((48, 57), (65, 90), (95, 95), (97, 122))
SPACE: Intervals = ((9, 10), (12, 13), (32, 32))  # RE2's \s is [\t\n\f\r ]
_CATEGORIES = {
    _c.CATEGORY_DIGIT: DIGIT, _c.CATEGORY_NOT_DIGIT: _negate(DIGIT),
    _c.CATEGORY_WORD: WORD, _c.CATEGORY_NOT_WORD: _negate(WORD),
    _c.CATEGORY_SPACE: SPACE, _c.CATEGORY_NOT_SPACE: _negate(SPACE),
}


def class_intervals(items) -> Intervals:
    """The code points of a parsed character class (RE2's ASCII \\d \\w \\s)."""
    negate, parts = False, []
    for op, av in items:
        if op is _c.NEGATE:
            negate = True
        elif op is _c.LITERAL:
            parts.append((av, av))
        elif op is _c.RANGE:
            parts.append(av)
        elif op is _c.CATEGORY and av in _CATEGORIES:
            parts.extend(_CATEGORIES[av])
        else:
            raise Unsupported(f"class item {op}")
    return _negate(_norm(parts)) if negate else _norm(parts)


# --- pattern -> NFA ---------------------------------------------------------------------------

class _NFA:
    def __init__(self) -> None:
        self.eps: list[list[int]] = []
        self.edges: list[list[tuple[Intervals, int]]] = []

    def new(self) -> int:
        if len(self.eps) >= MAX_NFA_STATES:
            raise Unsupported("pattern too large")
        self.eps.append([])
        self.edges.append([])
        return len(self.eps) - 1

    def chars(self, charset: Intervals) -> tuple[int, int]:
        s, e = self.new(), self.new()
        self.edges[s].append((charset, e))
        return s, e

    def empty(self) -> tuple[int, int]:
        s = self.new()
        return s, s

    def seq(self, items, top: bool = False) -> tuple[int, int]:
        items = strip_anchors(list(items)) if top else list(items)
        start, end = self.empty()
        for op, av in items:
            s, e = self.node(op, av)
            self.eps[end].append(s)
            end = e
        return start, end

    def node(self, op, av) -> tuple[int, int]:
        if op is _c.LITERAL:
            return self.chars(_clip(((av, av),)))
        if op is _c.NOT_LITERAL:
            return self.chars(_negate(((av, av),)))
        if op is _c.ANY:
            return self.chars(_negate(((NEWLINE, NEWLINE),)))
        if op is _c.IN:
            return self.chars(class_intervals(av))
        if op is _c.BRANCH:
            s, e = self.new(), self.new()
            for branch in av[1]:
                bs, be = self.seq(branch)
                self.eps[s].append(bs)
                self.eps[be].append(e)
            return s, e
        if op is _c.SUBPATTERN:
            _group, add_flags, del_flags, sub = av
            if add_flags or del_flags:
                raise Unsupported("scoped flags")
            return self.seq(sub)
        if op in (_c.MAX_REPEAT, _c.MIN_REPEAT):  # laziness does not change what fully matches
            lo, hi, sub = av
            return self.repeat(lo, hi, sub)
        raise Unsupported(f"{op}")

    def repeat(self, lo: int, hi: int, sub) -> tuple[int, int]:
        start, end = self.empty()
        for _ in range(lo):
            s, e = self.seq(sub)
            self.eps[end].append(s)
            end = e
        if hi is _c.MAXREPEAT:
            s, e = self.seq(sub)
            loop = self.new()
            self.eps[end].append(loop)
            self.eps[loop].append(s)
            self.eps[e].append(loop)
            return start, loop
        tail = self.new()
        for _ in range(hi - lo):
            s, e = self.seq(sub)
            self.eps[end].append(s)
            self.eps[end].append(tail)
            end = e
        self.eps[end].append(tail)
        return start, tail


def parse(pattern: str):
    """Python's parse tree of ``pattern``, read with RE2's meaning; Unsupported where they differ."""
    # Syntax read differently by RE2 and Python's parser: POSIX classes, "{,n}" and counts with a
    # leading zero ("{01}", "{1,02}": literal text in RE2, a count in Python).
    if "[:" in pattern or "{," in pattern or _LEADING_ZERO.search(pattern):
        raise Unsupported("syntax read differently by RE2")
    tree = _parser.parse(pattern)
    flags = tree.state.flags & ~(_c.SRE_FLAG_UNICODE)
    if flags:
        raise Unsupported("flags")
    return tree


def strip_anchors(items):
    """A top-level sequence without ``^``/``\\A`` first and ``$``/``\\z`` last (no-ops in a full match)."""
    if items and items[0][0] is _c.AT and items[0][1] in (_c.AT_BEGINNING, _c.AT_BEGINNING_STRING):
        items = items[1:]
    if items and items[-1][0] is _c.AT and items[-1][1] in (_c.AT_END, _c.AT_END_STRING):
        items = items[:-1]
    return items


_LEADING_ZERO = re.compile(r"\{(?:\d+,)?0\d")


@functools.lru_cache(maxsize=256)
def _compile(pattern: str):
    """(transitions[state][atom], accepting[state], start, atoms): a complete DFA for ``pattern``."""
    tree = parse(pattern)
    nfa = _NFA()
    start, final = nfa.seq(list(tree), top=True)
    bounds = {0, 0x110000, NEWLINE, NEWLINE + 1}
    for edges in nfa.edges:
        for charset, _ in edges:
            for lo, hi in charset:
                bounds.update((lo, hi + 1))
    cuts = sorted(bounds)
    atoms = [(cuts[i], cuts[i + 1] - 1) for i in range(len(cuts) - 1)]
    atoms = [a for a in atoms if _clip((a,))]  # drop the surrogate block
    index = {lo: i for i, (lo, _) in enumerate(atoms)}

    def masks(charset: Intervals) -> int:
        m = 0
        for lo, hi in charset:
            i = index[lo]
            while i < len(atoms) and atoms[i][1] <= hi:
                m |= 1 << i
                i += 1
        return m

    edge_masks = [[(masks(cs), t) for cs, t in edges] for edges in nfa.edges]

    def closure(states) -> frozenset[int]:
        seen, todo = set(states), list(states)
        while todo:
            for t in nfa.eps[todo.pop()]:
                if t not in seen:
                    seen.add(t)
                    todo.append(t)
        return frozenset(seen)

    first = closure([start])
    ids, order, trans = {first: 0}, [first], []
    while len(trans) < len(order):
        current = order[len(trans)]
        row = []
        for a in range(len(atoms)):
            bit = 1 << a
            nxt = closure([t for s in current for m, t in edge_masks[s] if m & bit])
            if nxt not in ids:
                if len(order) >= MAX_DFA_STATES:
                    raise Unsupported("DFA too large")
                ids[nxt] = len(order)
                order.append(nxt)
            row.append(ids[nxt])
        trans.append(row)
    accept = [final in s for s in order]
    return trans, accept, 0, atoms


def _atom_of(atoms, code: int) -> int:
    lo, hi = 0, len(atoms) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if atoms[mid][0] <= code:
            lo = mid
        else:
            hi = mid - 1
    return lo


# --- complement, minimised ----------------------------------------------------------------------

def _complement(trans, accept, start, atoms):
    """The DFA of one-line, non-empty strings the pattern rejects (newline atom removed)."""
    nl = _atom_of(atoms, NEWLINE)
    keep = [a for a in range(len(atoms)) if a != nl]
    n = len(trans)
    rows = [[trans[s][a] for a in keep] for s in range(n)]
    acc = [not x for x in accept]
    rows.append(list(rows[start]))  # a fresh start state that does not accept the empty string
    acc.append(False)
    begin = n
    # keep states reachable from the start that can reach an accepting state
    reach, todo = {begin}, [begin]
    while todo:
        for t in rows[todo.pop()]:
            if t not in reach:
                reach.add(t)
                todo.append(t)
    back: dict[int, set[int]] = {}
    for s in reach:
        for t in rows[s]:
            back.setdefault(t, set()).add(s)
    live = {s for s in reach if acc[s]}
    todo = list(live)
    while todo:
        for p in back.get(todo.pop(), ()):
            if p not in live:
                live.add(p)
                todo.append(p)
    if begin not in live:
        return {}, begin, set(), [atoms[a] for a in keep]
    # Moore's partition refinement on the live states (a missing edge goes to the dead class -1)
    states = sorted(live)
    block = {s: int(acc[s]) for s in states}
    while True:
        sig = {s: (block[s], tuple(block[t] if t in live else -1 for t in rows[s])) for s in states}
        names: dict[tuple, int] = {}
        new = {s: names.setdefault(sig[s], len(names)) for s in states}
        if len(names) == len(set(block.values())):
            break
        block = new
    edges: dict[int, dict[int, int]] = {}
    for s in states:
        b = block[s]
        if b in edges:
            continue
        edges[b] = {a: block[t] for a, t in enumerate(rows[s]) if t in live}
    finals = {block[s] for s in states if acc[s]}
    return edges, block[begin], finals, [atoms[a] for a in keep]


# --- DFA -> regular expression by state elimination ------------------------------------------------
# Nodes: ("set", mask) | ("eps",) | ("alt", (nodes)) | ("cat", (nodes)) | ("star", node)

EPS = ("eps",)


def _alt(a, b):
    if a is None:
        return b
    if b is None:
        return a
    if a == b:
        return a
    if a[0] == "set" and b[0] == "set":
        return ("set", a[1] | b[1])
    parts = (a[1] if a[0] == "alt" else (a,)) + (b[1] if b[0] == "alt" else (b,))
    sets = [p for p in parts if p[0] == "set"]
    rest = tuple(dict.fromkeys(p for p in parts if p[0] != "set"))
    if len(sets) > 1:
        merged = 0
        for s in sets:
            merged |= s[1]
        rest = (("set", merged),) + rest
    elif sets:
        rest = (sets[0],) + rest
    return rest[0] if len(rest) == 1 else ("alt", rest)


def _cat(*nodes):
    parts = []
    for n in nodes:
        if n == EPS:
            continue
        parts.extend(n[1] if n[0] == "cat" else (n,))
    if not parts:
        return EPS
    return parts[0] if len(parts) == 1 else ("cat", tuple(parts))


def _star(n):
    if n == EPS:
        return EPS
    if n[0] == "star":
        return n
    return ("star", n)


def _size(n) -> int:
    if n[0] in ("set", "eps"):
        return 1
    if n[0] == "star":
        return 1 + _size(n[1])
    return sum(_size(p) for p in n[1]) + 1


def _to_regex(edges, begin, finals, atoms) -> str:
    if not finals:
        return "[^\\x{0}-\\x{10FFFF}]"  # matches nothing: every string passes
    init, final = -1, -2
    label: dict[tuple[int, int], tuple] = {(init, begin): EPS}
    for f in finals:
        label[(f, final)] = _alt(label.get((f, final)), EPS)
    for s, row in edges.items():
        by_target: dict[int, int] = {}
        for a, t in row.items():
            by_target[t] = by_target.get(t, 0) | (1 << a)
        for t, mask in by_target.items():
            label[(s, t)] = _alt(label.get((s, t)), ("set", mask))
    todo = set(edges)
    while todo:
        def cost(k):
            ins = sum(1 for (p, q) in label if q == k and p != k)
            outs = sum(1 for (p, q) in label if p == k and q != k)
            return ins * outs
        k = min(todo, key=lambda s: (cost(s), s))
        todo.discard(k)
        loop = label.pop((k, k), None)
        ins = [(p, lab) for (p, q), lab in label.items() if q == k]
        outs = [(q, lab) for (p, q), lab in label.items() if p == k]
        for p, _ in ins:
            del label[(p, k)]
        for q, _ in outs:
            del label[(k, q)]
        middle = _star(loop) if loop is not None else EPS
        for p, a in ins:
            for q, b in outs:
                new = _cat(a, middle, b)
                label[(p, q)] = _alt(label.get((p, q)), new)
                if _size(label[(p, q)]) > MAX_REGEX_CHARS // 4:
                    raise Unsupported("complement too large")
    node = label.get((init, final))
    text = _render(node, atoms) if node is not None else "[^\\x{0}-\\x{10FFFF}]"
    if len(text) > MAX_REGEX_CHARS:
        raise Unsupported("complement too large")
    return text


def _render(n, atoms) -> str:
    kind = n[0]
    if kind == "eps":
        return "(?:)"
    if kind == "set":
        return _render_set(n[1], atoms)
    if kind == "star":
        inner = n[1]
        body = _render(inner, atoms)
        return (body if inner[0] == "set" else f"(?:{body})") + "*"
    if kind == "cat":
        return "".join(f"(?:{_render(p, atoms)})" if p[0] == "alt" else _render(p, atoms) for p in n[1])
    # alternation: an empty branch becomes an optional group
    branches = [p for p in n[1] if p != EPS]
    body = "|".join(_render(p, atoms) for p in branches)
    if len(branches) < len(n[1]):
        return f"(?:{body})?"
    return body


def _render_set(mask: int, atoms) -> str:
    ranges: list[list[int]] = []
    a = 0
    while mask:
        if mask & 1:
            lo, hi = atoms[a]
            if ranges and ranges[-1][1] + 1 == lo:
                ranges[-1][1] = hi
            else:
                ranges.append([lo, hi])
        mask >>= 1
        a += 1
    if len(ranges) == 1 and ranges[0][0] == ranges[0][1]:
        return _char(ranges[0][0])
    return "[" + "".join(_char(lo) if lo == hi else f"{_char(lo)}-{_char(hi)}" for lo, hi in ranges) + "]"


def _char(code: int) -> str:
    ch = chr(code)
    if ch.isascii() and ch.isalnum():
        return ch
    return f"\\x{{{code:x}}}"
