"""Game-of-24-style puzzles: exact search, a seeded generator and a safe verifier.

A puzzle is four whole numbers and a target (24 by default). A solution combines all four
with ``+ - * /`` and parentheses, each number used exactly once. Everything here uses exact
rational arithmetic (``fractions.Fraction``), so ``8 / (3 - 8 / 3)`` is exactly 24.

Difficulty is a property of the search tree, computed by exhaustive search: the share of
the distinct first steps (pick two numbers and an operation) after which the target can
still be reached. ``easy`` puzzles forgive most first steps, ``hard`` ones almost none.

The verifier parses the answer text with a small recursive-descent parser of our own; model
text is never passed to ``eval``.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

__all__ = [
    "DEFAULT_TARGET",
    "DIFFICULTIES",
    "OPS",
    "Move",
    "Puzzle",
    "Verdict",
    "apply_op",
    "format_number",
    "parse_number",
    "moves",
    "solvable",
    "solve",
    "difficulty_of",
    "stratum",
    "build_table",
    "table_text",
    "make_puzzle",
    "generate_puzzles",
    "load_puzzles",
    "verify",
    "parse_expression",
    "ExpressionError",
]

DEFAULT_TARGET = 24
"""The classic Game of 24 target."""
DIFFICULTIES = ("easy", "medium", "hard")
"""Strata, from most to least forgiving."""
OPS = ("+", "-", "*", "/")
"""The four operations, in the order moves are enumerated."""

_EASY_MIN = 0.26
"""A puzzle is ``easy`` when at least this share of its first steps keeps it solvable."""
_MEDIUM_MIN = 0.14
"""... ``medium`` when at least this share does; ``hard`` below."""


def apply_op(a: Fraction, op: str, b: Fraction) -> Fraction | None:
    """``a op b`` exactly; None for a division by zero."""
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return None if b == 0 else a / b
    raise ValueError(f"unknown operation {op!r}")


def format_number(x: Fraction | int) -> str:
    """``24``, ``-3`` or ``8/3`` (a reduced fraction, no spaces)."""
    x = Fraction(x)
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"


_NUMBER = re.compile(r"^-?\d+(?:/\d+)?$")


def parse_number(text: str) -> Fraction:
    """Inverse of :func:`format_number`; ValueError naming the text otherwise."""
    t = text.strip()
    if not _NUMBER.match(t):
        raise ValueError(f"not a number: {text!r}")
    try:
        return Fraction(t)
    except ZeroDivisionError:
        raise ValueError(f"not a number: {text!r} (zero denominator)") from None


@dataclass(frozen=True)
class Move:
    """One step: combine two of the remaining numbers."""

    a: Fraction
    """Left operand."""
    op: str
    """One of ``+ - * /``."""
    b: Fraction
    """Right operand."""
    result: Fraction
    """``a op b``, exact."""
    left: tuple[Fraction, ...]
    """The numbers remaining after the step (sorted, the result included)."""

    def text(self) -> str:
        """The step as a proposer writes it: ``4 * 6 = 24 (left: 1 1 24)``."""
        left = " ".join(format_number(x) for x in self.left)
        return f"{format_number(self.a)} {self.op} {format_number(self.b)} = {format_number(self.result)} (left: {left})"


def _key(numbers: Iterable[Fraction | int]) -> tuple[Fraction, ...]:
    return tuple(sorted(Fraction(x) for x in numbers))


def moves(numbers: Iterable[Fraction | int]) -> list[Move]:
    """Every distinct step from ``numbers``, in a fixed order.

    Both orders of ``-`` and ``/`` are steps; ``+`` and ``*`` only once per pair; divisions
    by zero are skipped. Steps giving the same remaining multiset through the same operands
    and operation are listed once.
    """
    nums = _key(numbers)
    out: list[Move] = []
    seen: set[tuple] = set()
    for i in range(len(nums)):
        for j in range(len(nums)):
            if i == j:
                continue
            a, b = nums[i], nums[j]
            rest = [nums[k] for k in range(len(nums)) if k not in (i, j)]
            for op in OPS:
                if op in "+*" and i > j:
                    continue  # commutative: one order is enough
                r = apply_op(a, op, b)
                if r is None:
                    continue
                left = _key(rest + [r])
                sig = (a, op, b, left)
                if sig in seen:
                    continue
                seen.add(sig)
                out.append(Move(a, op, b, r, left))
    return out


def _solve_exprs(items: tuple[tuple[Fraction, str], ...], target: Fraction, memo: dict) -> str | None:
    """A fully parenthesised expression over ``items`` equal to ``target``, or None."""
    if len(items) == 1:
        return items[0][1] if items[0][0] == target else None
    key = tuple(sorted(v for v, _ in items))
    if memo.get(key) is False:
        return None
    for i in range(len(items)):
        for j in range(len(items)):
            if i == j:
                continue
            (a, ta), (b, tb) = items[i], items[j]
            rest = tuple(items[k] for k in range(len(items)) if k not in (i, j))
            for op in OPS:
                if op in "+*" and i > j:
                    continue
                r = apply_op(a, op, b)
                if r is None:
                    continue
                text = f"({ta} {op} {tb})"
                found = _solve_exprs(rest + ((r, text),), target, memo)
                if found is not None:
                    return found
    memo[key] = False
    return None


def solve(numbers: Iterable[Fraction | int], target: Fraction | int = DEFAULT_TARGET) -> str | None:
    """One expression using every number once that equals ``target`` (outer parentheses
    dropped), or None when the puzzle has no solution."""
    nums = _key(numbers)
    items = tuple((x, format_number(x) if x >= 0 else f"({format_number(x)})") for x in nums)
    found = _solve_exprs(items, Fraction(target), {})
    if found is None:
        return None
    return found[1:-1] if len(nums) > 1 else found


def _results(a: Fraction, b: Fraction) -> set[Fraction]:
    """Every value one step can make from ``a`` and ``b`` (both orders of - and /)."""
    out = {a + b, a - b, b - a, a * b}
    if b:
        out.add(a / b)
    if a:
        out.add(b / a)
    return out


@lru_cache(maxsize=1 << 18)
def _solvable(nums: tuple[Fraction, ...], target: Fraction) -> bool:
    # A tight search (no Move objects): this runs for every drawn puzzle and every state a
    # simulated evaluator or proposer looks at, in each run's process.
    n = len(nums)
    if n == 1:
        return nums[0] == target
    if n == 2:
        return target in _results(nums[0], nums[1])
    for i in range(n):
        for j in range(i + 1, n):
            rest = nums[:i] + nums[i + 1:j] + nums[j + 1:]
            for r in _results(nums[i], nums[j]):
                if _solvable(tuple(sorted(rest + (r,))), target):
                    return True
    return False


def solvable(numbers: Iterable[Fraction | int], target: Fraction | int = DEFAULT_TARGET) -> bool:
    """Whether ``target`` can be reached from ``numbers`` (each used exactly once)."""
    return _solvable(_key(numbers), Fraction(target))


def _first_step_counts(nums: tuple[Fraction, ...], target: Fraction) -> tuple[int, int]:
    """``(solvable, all)`` distinct states after one step (the share's numerator and denominator)."""
    states = {m.left for m in moves(nums)}
    return sum(_solvable(st, target) for st in states), len(states)


def stratum(share: float) -> str:
    """``easy``, ``medium`` or ``hard`` for a share of good first steps."""
    if share >= _EASY_MIN:
        return "easy"
    if share >= _MEDIUM_MIN:
        return "medium"
    return "hard"


def difficulty_of(numbers: Iterable[Fraction | int], target: Fraction | int = DEFAULT_TARGET) -> tuple[str, float]:
    """``(stratum, share of first steps that keep the puzzle solvable)``, by exhaustive search.

    Raises ValueError for an unsolvable puzzle (it has no difficulty).
    """
    nums = _key(numbers)
    t = Fraction(target)
    if not _solvable(nums, t):
        raise ValueError(f"puzzle {[format_number(x) for x in nums]} -> {format_number(t)} has no solution")
    good, total = _first_step_counts(nums, t)
    return stratum(good / total), good / total


# -- the classic setting, precomputed ---------------------------------------------------------

_TABLE_SETTING = (DEFAULT_TARGET, 1, 13, 4)
"""(target, lo, hi, size) that the table (``table_text``) covers."""
_TABLE: dict[tuple[int, ...], tuple[int, int]] | None = None


def build_table() -> str:
    """The text of the table (``table_text``): every solvable puzzle of the classic setting as
    ``a.b.c.d:good/all`` (first-step counts), by exhaustive search (about 10 s)."""
    import itertools

    target, lo, hi, size = _TABLE_SETTING
    out = []
    for nums in itertools.combinations_with_replacement(range(lo, hi + 1), size):
        key = _key(nums)
        if _solvable(key, Fraction(target)):
            good, total = _first_step_counts(key, Fraction(target))
            out.append(".".join(map(str, nums)) + f":{good}/{total}")
    return " ".join(out)


def table_text() -> str:
    """The precomputed table of the classic setting, package data ``g24_table.txt``: every
    solvable Game-of-24 puzzle (four numbers from 1 to 13, target 24; 1,362 of the 1,820
    multisets) as whitespace-separated ``a.b.c.d:good/all`` items = how many of its distinct
    first steps keep it solvable, of how many. Regenerate it with
    ``python -m maestro.instances.tot.puzzles > instances/tot/g24_table.txt``
    (:func:`build_table`); the tests re-derive a sample of entries by search."""
    from importlib.resources import files

    return files(__package__).joinpath("g24_table.txt").read_text(encoding="utf-8")


def _table() -> dict[tuple[int, ...], tuple[int, int]]:
    global _TABLE
    if _TABLE is None:
        parsed = {}
        for item in table_text().split():
            nums, counts = item.split(":")
            good, total = counts.split("/")
            parsed[tuple(int(x) for x in nums.split("."))] = (int(good), int(total))
        _TABLE = parsed
    return _TABLE


def _share(nums: tuple[int, ...], target: int) -> float | None:
    """Share of good first steps, None when unsolvable: from the table in the classic
    setting (searching every draw costs each run's process about a second), else by search."""
    target_, lo, hi, size = _TABLE_SETTING
    if target == target_ and len(nums) == size and all(lo <= x <= hi for x in nums):
        counts = _table().get(tuple(sorted(nums)))
        return None if counts is None else counts[0] / counts[1]
    key, t = _key(nums), Fraction(target)
    if not _solvable(key, t):
        return None
    good, total = _first_step_counts(key, t)
    return good / total


@dataclass(frozen=True)
class Puzzle:
    """One solvable puzzle with a known solution."""

    numbers: tuple[int, ...]
    """The four numbers, sorted."""
    target: int
    """The value to reach."""
    solution: str
    """One correct expression (the gold)."""
    difficulty: str
    """``easy``, ``medium`` or ``hard``."""
    solvable_share: float
    """Share of distinct first steps that keep the puzzle solvable."""
    puzzle_id: str
    """Stable id, e.g. ``g24-1-3-4-6``."""

    def question(self) -> str:
        """The task text given to the MAS."""
        nums = " ".join(str(n) for n in self.numbers)
        return (f"Use the numbers {nums} and the operations + - * / to make {self.target}. "
                "Use each number exactly once.")


def make_puzzle(numbers: Iterable[int], target: int = DEFAULT_TARGET, puzzle_id: str | None = None) -> Puzzle:
    """A :class:`Puzzle` for ``numbers``; ValueError when it has no solution."""
    nums = tuple(sorted(int(n) for n in numbers))
    share = _share(nums, int(target))
    if share is None:
        raise ValueError(f"puzzle {list(nums)} -> {target} has no solution")
    solution = solve(nums, target)
    assert solution is not None  # the share exists only for solvable puzzles
    pid = puzzle_id or ("g24-" if target == DEFAULT_TARGET else f"g{target}-") + "-".join(map(str, nums))
    return Puzzle(nums, int(target), solution, stratum(share), round(share, 4), pid)


def _draws(rng: random.Random, lo: int, hi: int, size: int) -> Iterator[tuple[int, ...]]:
    while True:
        yield tuple(sorted(rng.randint(lo, hi) for _ in range(size)))


def generate_puzzles(n: int, seed: int = 0, *, target: int = DEFAULT_TARGET, lo: int = 1, hi: int = 13,
                     size: int = 4, max_draws: int = 200_000) -> list[Puzzle]:
    """``n`` distinct solvable puzzles, stratified by difficulty (easy, medium, hard in turn).

    Deterministic for a given ``seed``. Numbers are drawn uniformly from ``lo..hi``; draws
    without a solution are discarded. When a stratum runs dry (tiny ranges) the others fill in.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if not 1 <= lo <= hi:
        raise ValueError(f"need 1 <= lo <= hi, got lo={lo} hi={hi}")
    rng = random.Random(f"tot-puzzles|{seed}|{target}|{lo}|{hi}|{size}")
    quota = {d: n // 3 + (1 if i < n % 3 else 0) for i, d in enumerate(DIFFICULTIES)}
    picked: dict[str, list[Puzzle]] = {d: [] for d in DIFFICULTIES}
    spare: list[Puzzle] = []
    seen: set[tuple[int, ...]] = set()
    for k, nums in enumerate(_draws(rng, lo, hi, size)):
        if k >= max_draws or all(len(picked[d]) >= quota[d] for d in DIFFICULTIES):
            break
        if nums in seen:
            continue
        seen.add(nums)
        share = _share(nums, target)
        if share is None:
            continue
        if len(picked[stratum(share)]) >= quota[stratum(share)] and len(spare) >= n:
            continue  # neither needed nor a possible filler: skip the solution search
        p = make_puzzle(nums, target)
        if len(picked[p.difficulty]) < quota[p.difficulty]:
            picked[p.difficulty].append(p)
        else:
            spare.append(p)
    # Interleave the strata so that any prefix of the list is balanced too.
    out: list[Puzzle] = []
    for i in range(max(quota.values(), default=0)):
        out += [picked[d][i] for d in DIFFICULTIES if i < len(picked[d])]
    out += spare[: n - len(out)]
    if len(out) < n:
        raise ValueError(f"only {len(out)} solvable puzzles exist for target {target} in {lo}..{hi}; asked for {n}")
    return out


def load_puzzles(path: str | Path) -> list[Puzzle]:
    """Puzzles from a JSONL file: ``{"numbers": [4, 7, 8, 8], "target": 24, "id": "p1"}``
    per line (``target`` and ``id`` optional). Unsolvable lines are an error naming the line."""
    out: list[Puzzle] = []
    p = Path(path)
    for lineno, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            if not isinstance(rec, dict):
                raise ValueError("not a JSON object")
            nums = rec["numbers"]
            if not isinstance(nums, list) or len(nums) < 2 or not all(isinstance(x, int) and x > 0 for x in nums):
                raise ValueError("'numbers' must be a list of at least two positive integers")
            target = rec.get("target", DEFAULT_TARGET)
            if isinstance(target, bool) or not isinstance(target, int):
                raise ValueError("'target' must be an integer")
            out.append(make_puzzle(nums, target, rec.get("id")))
        except json.JSONDecodeError:
            raise ValueError(f"{p}:{lineno}: bad puzzle: not JSON") from None
        except KeyError as e:
            raise ValueError(f"{p}:{lineno}: bad puzzle: missing {e}") from None
        except (ValueError, TypeError) as e:
            raise ValueError(f"{p}:{lineno}: bad puzzle: {e}") from None
    return out


# -- the verifier ---------------------------------------------------------------------------

class ExpressionError(ValueError):
    """The answer text is not an arithmetic expression over whole numbers."""


_TOKEN = re.compile(r"\s*(?:(\d+)|([-+*/()]))")
_SYNONYMS = {"×": "*", "x": "*", "X": "*", "·": "*", "÷": "/", "−": "-", "–": "-", "[": "(", "]": ")"}


@dataclass(frozen=True)
class _Num:
    value: int


@dataclass(frozen=True)
class _Bin:
    op: str
    left: object
    right: object


def _tokens(text: str) -> list[str]:
    t = "".join(_SYNONYMS.get(c, c) for c in text)
    out: list[str] = []
    pos = 0
    while pos < len(t):
        if t[pos:].strip() == "":
            break
        m = _TOKEN.match(t, pos)
        if m is None:
            raise ExpressionError(f"unexpected character {t[pos:].lstrip()[:1]!r} at position {pos}")
        out.append(m.group(1) or m.group(2))
        pos = m.end()
    return out


class _Parser:
    """expr := term (('+'|'-') term)*; term := atom (('*'|'/') atom)*; atom := INT | '(' expr ')'."""

    def __init__(self, tokens: list[str]):
        self.toks = tokens
        self.i = 0

    def peek(self) -> str | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> str:
        tok = self.peek()
        if tok is None:
            raise ExpressionError("the expression ends too early")
        self.i += 1
        return tok

    def expr(self):
        node = self.term()
        while self.peek() in ("+", "-"):
            op = self.take()
            node = _Bin(op, node, self.term())
        return node

    def term(self):
        node = self.atom()
        while self.peek() in ("*", "/"):
            op = self.take()
            node = _Bin(op, node, self.atom())
        return node

    def atom(self):
        tok = self.take()
        if tok == "(":
            node = self.expr()
            if self.take() != ")":
                raise ExpressionError("unbalanced parentheses")
            return node
        if tok.isdigit():
            return _Num(int(tok))
        if tok == "-":
            raise ExpressionError("unary minus is not allowed (each number is used as given)")
        raise ExpressionError(f"unexpected {tok!r}")


def parse_expression(text: str):
    """Parse ``text`` into a tiny AST; :class:`ExpressionError` when it is not an expression."""
    toks = _tokens(text)
    if not toks:
        raise ExpressionError("no expression")
    parser = _Parser(toks)
    node = parser.expr()
    if parser.peek() is not None:
        raise ExpressionError(f"unexpected {parser.peek()!r} after the expression")
    return node


def _literals(node) -> list[int]:
    if isinstance(node, _Num):
        return [node.value]
    return _literals(node.left) + _literals(node.right)


def _evaluate(node) -> Fraction:
    if isinstance(node, _Num):
        return Fraction(node.value)
    a, b = _evaluate(node.left), _evaluate(node.right)
    r = apply_op(a, node.op, b)
    if r is None:
        raise ZeroDivisionError("division by zero")
    return r


@dataclass(frozen=True)
class Verdict:
    """The verifier's decision on one answer."""

    kind: str
    """``correct``, ``incorrect`` or ``empty``."""
    reason: str
    """Why, in words (names the offending numbers or value)."""
    value: Fraction | None = None
    """The expression's exact value, when it has one."""

    @property
    def correct(self) -> bool:
        return self.kind == "correct"


_LHS = re.compile(r"^(.*?)=")


def _strip_answer(text: str) -> str:
    """The expression part of an answer: drops an ``Answer:`` label and anything from the
    first ``=`` on (``(4+8)*2 = 24`` claims a value; the verifier computes its own)."""
    t = text.strip().strip("`*_ ").strip()
    t = re.sub(r"^(?:final\s+)?answer\s*[:\-]\s*", "", t, flags=re.IGNORECASE)
    m = _LHS.match(t)
    if m:
        t = m.group(1)
    return t.strip().rstrip(".").strip()


def verify(answer: str | None, numbers: Iterable[int], target: int | Fraction = DEFAULT_TARGET) -> Verdict:
    """Check ``answer`` exactly: it must be an expression using each of ``numbers`` exactly
    once with ``+ - * /`` and parentheses, and equal ``target``."""
    if answer is None or not answer.strip():
        return Verdict("empty", "empty answer")
    expr = _strip_answer(answer)
    if not expr:
        return Verdict("empty", "empty answer (no expression before '=')")
    try:
        tree = parse_expression(expr)
    except ExpressionError as e:
        return Verdict("incorrect", f"not an arithmetic expression: {e}")
    used, want = sorted(_literals(tree)), sorted(int(n) for n in numbers)
    if used != want:
        extra = list(want)
        over: list[int] = []
        for u in used:
            if u in extra:
                extra.remove(u)
            else:
                over.append(u)
        parts = []
        if over:
            parts.append(f"uses {' '.join(map(str, over))} beyond the puzzle's numbers")
        if extra:
            parts.append(f"does not use {' '.join(map(str, extra))}")
        return Verdict("incorrect", f"numbers {used} != puzzle {want}: " + "; ".join(parts))
    try:
        value = _evaluate(tree)
    except ZeroDivisionError:
        return Verdict("incorrect", "division by zero")
    if value != Fraction(target):
        return Verdict("incorrect", f"evaluates to {format_number(value)}, not {format_number(Fraction(target))}", value)
    return Verdict("correct", f"evaluates to {format_number(value)} using each number once", value)


if __name__ == "__main__":  # regenerate the table: python -m maestro.instances.tot.puzzles
    print(build_table())
