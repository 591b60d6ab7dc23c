"""Call graphs of runs and their similarity (the paper's section 4.3).

* :func:`call_graph`: a ``networkx.DiGraph`` of one run: agents, tools and model endpoints
  as nodes (``kind`` attribute), edges weighted by ``count``, ``bytes`` and ``tokens``.
* :func:`edge_sequence`: the run's ordered agent-to-agent hand-overs ``(source, target)``
  from its message records (``__start__``/``__end__`` are the run's input and output).
* Jaccard over edge sets and normalised LCS over edge sequences, exactly as section 4.3
  defines them:

  - ``J(E_i, E_j) = |E_i ∩ E_j| / |E_i ∪ E_j|``, and 0 when the union is empty;
  - ``LCS(S_i, S_j) = LCSlen(S_i, S_j) / max(|S_i|, |S_j|)``, 1 for two empty sequences
    and 0 when exactly one is empty;
  - a group's pairwise average is the mean over its unordered pairs ``i < j``, and 0 for a
    group of fewer than two runs.

:func:`pairwise_matrices` computes all pairs at once: edge sets become rows of a 0/1
incidence matrix (intersections are one matrix product), and edge sequences become strings
of one code point per distinct edge so rapidfuzz's native bit-parallel LCS
(``rapidfuzz.distance.LCSseq`` through ``rapidfuzz.process.cdist``, multi-threaded)
computes every ``LCSlen``.
"""

from __future__ import annotations

import functools
from collections.abc import Hashable, Iterable, Sequence
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

__all__ = [
    "call_graph",
    "edge_sequence",
    "edge_sequences",
    "edge_set",
    "jaccard",
    "lcs_length",
    "lcs_similarity",
    "pairwise_matrices",
    "cross_matrices",
    "similarity_within",
    "similarity_between",
]

Edge = tuple[str, str]


def _val(v: Any, default: Any = 0) -> Any:
    try:
        return default if v is None or pd.isna(v) else v
    except (TypeError, ValueError):
        return v


def _sorted_spans(spans: pd.DataFrame) -> pd.DataFrame:
    if spans["run_id"].nunique() > 1 if "run_id" in spans.columns else False:
        raise ValueError(f"expected the spans of one run, got {spans['run_id'].nunique()} runs; group by run_id first")
    return spans.sort_values("start_time_ns", kind="stable") if "start_time_ns" in spans.columns else spans


def call_graph(spans: pd.DataFrame) -> nx.DiGraph:
    """The call graph of one run from its spans (``spans_df`` rows or ``Study.spans`` rows).

    Nodes: agents (``kind="agent"``; ``__start__``/``__end__`` have ``kind="io"``), tools
    (``"tool:<name>"``, ``kind="tool"``) and model endpoints (``"model:<model>"``,
    ``kind="model"``). Edges: agent -> agent per message record, agent -> tool per tool
    span, agent -> model per LLM span; each edge has ``count``, ``bytes`` and ``tokens``
    (tokens only on agent -> model edges).
    """
    s = _sorted_spans(spans)
    g = nx.DiGraph()

    def node(name: str, kind: str) -> str:
        if name not in g:
            g.add_node(name, kind=kind)
        return name

    def add(a: str, b: str, nbytes: float, tokens: float = 0) -> None:
        if g.has_edge(a, b):
            d = g.edges[a, b]
            d["count"] += 1
            d["bytes"] += nbytes
            d["tokens"] += tokens
        else:
            g.add_edge(a, b, count=1, bytes=nbytes, tokens=tokens)

    def agent(name: Any) -> str:
        name = "(no agent)" if name is None or (isinstance(name, float) and np.isnan(name)) else str(name)
        return node(name, "io" if name in ("__start__", "__end__") else "agent")

    for r in s.to_dict("records"):
        t = r.get("span_type")
        if t == "agent":
            agent(r.get("agent_name"))
        elif t == "message":
            src, tgt = agent(r.get("message_source")), agent(r.get("message_target"))
            add(src, tgt, int(_val(r.get("input_bytes"), _val(r.get("total_bytes")))))
        elif t == "tool":
            a = agent(r.get("agent_name"))
            add(a, node(f"tool:{r.get('tool_name')}", "tool"),
                int(_val(r.get("input_bytes")) + _val(r.get("output_bytes"))))
        elif t == "llm":
            a = agent(r.get("agent_name"))
            model = _val(r.get("response_model"), None) or _val(r.get("request_model"), None) or r.get("model")
            add(a, node(f"model:{model}", "model"), int(_val(r.get("input_bytes")) + _val(r.get("output_bytes"))),
                int(_val(r.get("input_tokens")) + _val(r.get("output_tokens"))))
    return g


def edge_sequence(spans: pd.DataFrame) -> list[Edge]:
    """Ordered agent-to-agent message edges of one run.

    Accepts span rows (``span_type == "message"``, ordered by start time) or ``edges_df``
    rows (ordered by ``order``); both have ``message_source``/``message_target``.
    """
    if "order" in spans.columns:
        s = spans.sort_values("order", kind="stable")
    else:
        s = _sorted_spans(spans[spans["span_type"] == "message"])
    return list(zip(s["message_source"].astype(str), s["message_target"].astype(str)))


def edge_sequences(edges: pd.DataFrame, keys: Sequence[Hashable] | None = None, *,
                   multi: bool | None = None) -> dict[Any, list[Edge]]:
    """Run key -> ordered edge sequence from an ``edges_df`` frame.

    The key is ``run_id``, or ``(study_id, run_id)`` when several studies are present
    (``multi``: force one or the other, e.g. to match the keys of a runs frame spanning
    studies whose messages come from one). Runs listed in ``keys`` without message
    records get an empty sequence.
    """
    if multi is None:
        multi = "study_id" in edges.columns and edges["study_id"].nunique() > 1
    cols = ["study_id", "run_id"] if multi else ["run_id"]
    e = edges.sort_values(cols + ["order"], kind="stable")
    out: dict[Any, list[Edge]] = {}
    for key, g in e.groupby(cols if multi else "run_id", sort=False):
        out[key] = list(zip(g["message_source"].astype(str), g["message_target"].astype(str)))
    for k in keys or ():
        out.setdefault(k, [])
    return out


def edge_set(seq: Iterable[Edge]) -> frozenset[Edge]:
    """The unweighted edge set of a sequence."""
    return frozenset(seq)


def jaccard(a: Iterable[Hashable], b: Iterable[Hashable]) -> float:
    """|A ∩ B| / |A ∪ B| of two edge sets (sequences are turned into sets); 0 when the union is empty."""
    a, b = set(a), set(b)
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def lcs_length(a: Sequence[Hashable], b: Sequence[Hashable]) -> int:
    """Length of the longest common subsequence (rapidfuzz, on lists of hashable items)."""
    from rapidfuzz.distance import LCSseq

    return int(LCSseq.similarity(list(a), list(b)))


def lcs_similarity(a: Sequence[Hashable], b: Sequence[Hashable]) -> float:
    """LCSlen(a, b) / max(|a|, |b|); 1 for two empty sequences, 0 when one is empty."""
    if not a and not b:
        return 1.0
    if not a or not b:
        return 0.0
    return lcs_length(a, b) / max(len(a), len(b))


# --- all pairs -----------------------------------------------------------------------------

def _code_char(k: int) -> str:
    # one code point per distinct edge; skip the surrogate block, which str cannot hold alone
    k += 1
    return chr(k if k < 0xD800 else k + 0x800)


class _Encoded:
    """Sequences as code-point strings and edge sets as a 0/1 incidence matrix."""

    def __init__(self, sequences: Sequence[Sequence[Hashable]], codebook: dict[Hashable, int]):
        rows: list[int] = []
        cols: list[int] = []
        strings: list[str] = []
        for i, seq in enumerate(sequences):
            codes = [codebook.setdefault(e, len(codebook)) for e in seq]
            strings.append("".join(map(_code_char, codes)))
            uniq = set(codes)
            rows.extend([i] * len(uniq))
            cols.extend(uniq)
        self.strings = strings
        self.lengths = np.fromiter((len(s) for s in strings), dtype=np.int64, count=len(strings))
        self.rows, self.cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
        self.n = len(sequences)

    @classmethod
    def from_codes(cls, codes: Sequence[np.ndarray]) -> _Encoded:
        """Sequences already coded as integer arrays (:func:`_edge_codes`): the strings are
        made in C (UTF-32 bytes), not edge by edge."""
        obj = cls.__new__(cls)
        strings = []
        for c in codes:
            k = c.astype(np.int64) + 1
            k = np.where(k < 0xD800, k, k + 0x800)  # as _code_char: no lone surrogates
            strings.append(k.astype("<u4").tobytes().decode("utf-32-le"))
        obj.strings = strings
        obj.lengths = np.fromiter((len(c) for c in codes), dtype=np.int64, count=len(codes))
        uniq = [np.unique(c) for c in codes]
        obj.rows = np.repeat(np.arange(len(codes), dtype=np.int64), [len(u) for u in uniq])
        obj.cols = np.concatenate(uniq).astype(np.int64) if uniq else np.zeros(0, dtype=np.int64)
        obj.n = len(codes)
        return obj

    def incidence(self, width: int) -> np.ndarray:
        x = np.zeros((self.n, width), dtype=np.float32)
        x[self.rows, self.cols] = 1.0
        return x


@functools.cache
def _threadpools():
    """The process's threadpoolctl controller (made once: it scans the loaded libraries)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _one_blas_thread():
    """BLAS on one thread for the block's small product: idle BLAS threads spin-wait after a
    product and took a core from rapidfuzz's LCS threads (10,000 runs: 10.2 s -> 7.5 s)."""
    return _threadpools().limit(limits=1, user_api="blas")


def _blocks(a: _Encoded, b: _Encoded, width: int, workers: int) -> tuple[np.ndarray, np.ndarray]:
    from rapidfuzz import process
    from rapidfuzz.distance import LCSseq

    if a.n == 0 or b.n == 0:
        z = np.zeros((a.n, b.n))
        return z, z.copy()
    xa, xb = a.incidence(width), b.incidence(width)
    # float32 products of 0/1 rows are exact integers well past any realistic edge count
    # (the ratio in float64: a float32 quotient would differ from jaccard() in the 8th digit)
    with _one_blas_thread():
        inter = (xa @ xb.T).astype(np.float64)
    union = xa.sum(1, dtype=np.float64)[:, None] + xb.sum(1, dtype=np.float64)[None, :] - inter
    jac = np.divide(inter, union, out=np.zeros(inter.shape, dtype=np.float64), where=union > 0)
    lcs_len = process.cdist(a.strings, b.strings, scorer=LCSseq.similarity, dtype=np.int32, workers=workers)
    longest = np.maximum(a.lengths[:, None], b.lengths[None, :])
    lcs = np.divide(lcs_len, longest, out=np.ones(lcs_len.shape, dtype=np.float64), where=longest > 0)
    return jac.astype(np.float64), lcs


def pairwise_matrices(sequences: Sequence[Sequence[Hashable]], *, workers: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """All-pairs ``(jaccard_matrix, lcs_matrix)`` (n x n float arrays) of edge sequences.

    Entry ``[i, j]`` equals ``jaccard(seq_i, seq_j)`` and ``lcs_similarity(seq_i, seq_j)``
    (the diagonal included: 1, or 0 for an empty run's Jaccard). ``workers``: threads for
    the LCS (-1 = all cores).
    """
    codebook: dict[Hashable, int] = {}
    enc = _Encoded(sequences, codebook)
    return _blocks(enc, enc, max(len(codebook), 1), workers)


def cross_matrices(seqs_a: Sequence[Sequence[Hashable]], seqs_b: Sequence[Sequence[Hashable]], *,
                   workers: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """``(jaccard, lcs)`` of every sequence in ``seqs_a`` against every one in ``seqs_b``."""
    codebook: dict[Hashable, int] = {}
    a, b = _Encoded(seqs_a, codebook), _Encoded(seqs_b, codebook)
    return _blocks(a, b, max(len(codebook), 1), workers)


# --- blockwise statistics ---------------------------------------------------------------------

BLOCK_CELLS = 2_000_000
"""Pairs computed at once by the blockwise statistics (bounds their memory: ~30 MB)."""


class _ValueCounts:
    """Exact distribution of similarity values as (sorted distinct value, count): a run pair's
    Jaccard is |A∩B|/|A∪B| and its LCS similarity len/longest, so the values are few and
    their counts give the exact mean and median of any number of pairs in bounded memory."""

    def __init__(self) -> None:
        self.values: list[np.ndarray] = []
        self.counts: list[np.ndarray] = []

    def add(self, vals: np.ndarray) -> None:
        if vals.size:
            u, c = np.unique(vals, return_counts=True)
            self.values.append(u)
            self.counts.append(c)
            if len(self.values) > 64:
                self._merge()

    def _merge(self) -> None:
        v, inv = np.unique(np.concatenate(self.values), return_inverse=True)
        c = np.bincount(inv, weights=np.concatenate(self.counts)).astype(np.int64)
        self.values, self.counts = [v], [c]

    def stats(self) -> tuple[int, float, float]:
        """(pairs, mean, median) as ``np.mean`` / ``np.median`` of all the values would give."""
        if not self.values:
            return 0, 0.0, 0.0
        self._merge()
        v, c = self.values[0], self.counts[0]
        n = int(c.sum())
        cum = np.cumsum(c)
        at = lambda k: float(v[np.searchsorted(cum, k, side="right")])  # noqa: E731 - the k-th smallest (0-based)
        median = at((n - 1) // 2) if n % 2 else float(np.mean([at(n // 2 - 1), at(n // 2)]))
        return n, float((v * c).sum() / n), median


_TRIANGLES: dict[bytes, tuple[_ValueCounts, _ValueCounts]] = {}
"""A group's own-pair statistics by the digest of its sequences: the report asks for the
same groups twice (within-group figure, and the diagonal of the between-group heatmap)."""


def _pair_stats(a: _Encoded, b: _Encoded | None, width: int, workers: int) -> tuple[_ValueCounts, _ValueCounts]:
    """Jaccard and LCS value counts over the pairs of ``a`` x ``b`` (``b`` None: the unordered
    pairs i < j of ``a``), computed in blocks of rows: memory stays bounded by
    :data:`BLOCK_CELLS` whatever the number of runs, and a group's own pairs are computed
    once (the upper triangle), not twice."""
    if b is None:
        import hashlib

        key = hashlib.blake2b("\x00".join(a.strings).encode("utf-8", "surrogatepass"), digest_size=20).digest()
        hit = _TRIANGLES.get(key)
        if hit is None:
            hit = _pair_stats_blocks(a, None, width, workers)
            if len(_TRIANGLES) >= 256:
                _TRIANGLES.pop(next(iter(_TRIANGLES)))
            _TRIANGLES[key] = hit
        return hit
    return _pair_stats_blocks(a, b, width, workers)


def _pair_stats_blocks(a: _Encoded, b: _Encoded | None, width: int,
                       workers: int) -> tuple[_ValueCounts, _ValueCounts]:
    jac, lcs = _ValueCounts(), _ValueCounts()
    other = a if b is None else b
    if a.n == 0 or other.n == 0:
        return jac, lcs
    rows = max(1, BLOCK_CELLS // max(other.n, 1))
    if b is None:
        rows = min(rows, max(32, a.n // 16))  # thin blocks: little computed below the diagonal
    for i0 in range(0, a.n, rows):
        i1 = min(a.n, i0 + rows)
        j0 = i0 if b is None else 0  # the triangle: columns from the block's first row on
        blk_a, blk_b = _Slice(a, i0, i1), _Slice(other, j0, other.n)
        if blk_b.n == 0:
            continue
        j, lc = _blocks(blk_a, blk_b, width, workers)
        if b is None:
            keep = np.arange(j0, other.n)[None, :] > np.arange(i0, i1)[:, None]
            j, lc = j[keep], lc[keep]
        jac.add(j.ravel())
        lcs.add(lc.ravel())
    return jac, lcs


class _Slice(_Encoded):
    """Rows ``i0:i1`` of an encoded set (no copy of the strings beyond the slice)."""

    def __init__(self, enc: _Encoded, i0: int, i1: int):  # noqa: D107 - deliberately not calling super
        self.strings = enc.strings[i0:i1]
        self.lengths = enc.lengths[i0:i1]
        sel = (enc.rows >= i0) & (enc.rows < i1)
        self.rows, self.cols = enc.rows[sel] - i0, enc.cols[sel]
        self.n = i1 - i0


# --- groups ----------------------------------------------------------------------------------

def _as_tuple(by: str | Sequence[str]) -> tuple[str, ...]:
    return (by,) if isinstance(by, str) else tuple(by)


def _edge_codes(runs: pd.DataFrame, edges: pd.DataFrame) -> tuple[dict[Any, np.ndarray], int]:
    """Row label of ``runs`` -> that run's ordered edge sequence as integer codes (one code per
    distinct (source, target) pair), and the number of codes: the same sequences as
    :func:`edge_sequences`, computed column-wise (no Python object per edge)."""
    multi = "study_id" in runs.columns and runs["study_id"].nunique() > 1
    empty = np.zeros(0, dtype=np.int64)
    if edges.empty:
        return {i: empty for i in runs.index}, 1
    cols = ["study_id", "run_id"] if multi else ["run_id"]
    e = edges.sort_values(cols + ["order"], kind="stable")
    pair = e["message_source"].astype(str) + "\x1f" + e["message_target"].astype(str)
    codes, uniques = pd.factorize(pair)
    if multi:
        ekey = (e["study_id"].astype(str) + "\x1f" + e["run_id"].astype(str)).to_numpy()
        rkeys = (runs["study_id"].astype(str) + "\x1f" + runs["run_id"].astype(str)).tolist()
    else:
        ekey = e["run_id"].astype(str).to_numpy()
        rkeys = runs["run_id"].astype(str).tolist()
    kcodes, kuniq = pd.factorize(ekey)  # sorted by key: each run's edges are contiguous
    bounds = np.flatnonzero(np.diff(kcodes)) + 1
    by_key = dict(zip(kuniq, np.split(codes.astype(np.int64), bounds)))
    return {i: by_key.get(k, empty) for i, k in zip(runs.index, rkeys)}, max(len(uniques), 1)


def _groups(runs: pd.DataFrame, cols: tuple[str, ...]):
    missing = [c for c in cols if c not in runs.columns]
    if missing:
        raise ValueError(f"runs frame has no column(s) {missing}; available: {list(runs.columns)}")
    return runs.groupby(list(cols), sort=True, dropna=False)


def similarity_within(runs: pd.DataFrame, edges: pd.DataFrame,
                      by: str | Sequence[str] = ("instance", "model", "tools_enabled"), *,
                      workers: int = -1) -> pd.DataFrame:
    """Pairwise call-graph similarity within each group of runs (figure 7 data).

    One row per group: ``n_runs``, ``n_pairs`` and the mean and median of Jaccard and LCS
    over the group's unordered run pairs (0 for groups of fewer than two runs).
    """
    cols = _as_tuple(by)
    codes, width = _edge_codes(runs, edges)
    rows = []
    for gkey, g in _groups(runs, cols):
        row = dict(zip(cols, gkey if isinstance(gkey, tuple) else (gkey,)))
        n = len(g)
        row.update(n_runs=n, n_pairs=n * (n - 1) // 2)
        if n < 2:
            row.update(jaccard_mean=0.0, jaccard_median=0.0, lcs_mean=0.0, lcs_median=0.0)
        else:
            enc = _Encoded.from_codes([codes[i] for i in g.index])
            jac, lcs = _pair_stats(enc, None, width, workers)
            _, jmean, jmed = jac.stats()
            _, lmean, lmed = lcs.stats()
            row.update(jaccard_mean=jmean, jaccard_median=jmed, lcs_mean=lmean, lcs_median=lmed)
        rows.append(row)
    return pd.DataFrame(rows, columns=[*cols, "n_runs", "n_pairs", "jaccard_mean", "jaccard_median", "lcs_mean",
                                       "lcs_median"])


def similarity_between(runs: pd.DataFrame, edges: pd.DataFrame, by: str | Sequence[str] = "model", *,
                       panel: str | Sequence[str] | None = "instance", workers: int = -1) -> pd.DataFrame:
    """Median pairwise similarity between groups (figure 8 heatmap data).

    Runs are split into panels (default: per instance, one heatmap each) and, inside a
    panel, into groups by ``by``. For every ordered pair of groups ``(a, b)`` the row holds
    the median (and mean) Jaccard and LCS over all run pairs with one run from each group;
    for ``a == b`` the pairs are the group's unordered pairs ``i < j`` (0 when it has fewer
    than two runs). Columns: the panel columns, ``group_a``, ``group_b`` (the ``by`` value,
    or a tuple of values), ``n_pairs``, ``jaccard_median``, ``lcs_median``, ``jaccard_mean``,
    ``lcs_mean``. Pivot with ``df.pivot(index="group_a", columns="group_b", values="lcs_median")``.
    """
    cols = _as_tuple(by)
    pcols = _as_tuple(panel) if panel else ()
    codes, width = _edge_codes(runs, edges)
    rows = []
    panels = _groups(runs, pcols) if pcols else [((), runs)]
    for pkey, p in panels:
        pvals = dict(zip(pcols, pkey if isinstance(pkey, tuple) else (pkey,)))
        groups = [(gk, list(g.index)) for gk, g in _groups(p, cols)]
        # every group's edges encoded once, then compared blockwise
        encoded = {ig: _Encoded.from_codes([codes[i] for i in idx]) for ig, (_, idx) in enumerate(groups)}
        for ia, (ka, _) in enumerate(groups):
            for ib, (kb, _) in enumerate(groups):
                if ib < ia:
                    continue  # symmetric: computed once, written both ways
                ea, eb = encoded[ia], encoded[ib]
                jac, lcs = _pair_stats(ea, None if ia == ib else eb, width, workers)
                npairs, jmean, jmed = jac.stats()
                _, lmean, lmed = lcs.stats()
                stats = dict(n_pairs=npairs, jaccard_median=jmed, lcs_median=lmed, jaccard_mean=jmean, lcs_mean=lmean)
                la = ka[0] if len(cols) == 1 and isinstance(ka, tuple) else ka
                lb = kb[0] if len(cols) == 1 and isinstance(kb, tuple) else kb
                rows.append({**pvals, "group_a": la, "group_b": lb, **stats})
                if ia != ib:
                    rows.append({**pvals, "group_a": lb, "group_b": la, **stats})
    return pd.DataFrame(rows, columns=[*pcols, "group_a", "group_b", "n_pairs", "jaccard_median", "lcs_median",
                                       "jaccard_mean", "lcs_mean"])
