"""Seeded runs on the simulated service are deterministic even when the MAS sends its model
calls concurrently: a reply depends on (run seed, request content, how many times that same
content was already sent in the run) only, never on the arrival order of different requests.

The MAS under test is a small custom one written against the plain OpenAI client: six role
agents answer one task concurrently (threads, or asyncio with ``AsyncOpenAI``), one of them
asks its question twice in a row, and an aggregator combines the six answers in agent order.
Every repetition shuffles the order the agents start in and jitters when they send.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import threading
import time
from collections import Counter

import openai
import pytest

from maestro.sim import SimServer, openai_base_url

TASK = "Which city is the capital of Australia, and why was it chosen over Sydney and Melbourne?"
ROLES = ("planner", "researcher", "critic", "historian", "geographer", "writer")
REPEATS = 10
MAX_ATTEMPTS = 8  # the agents' own retry loop (the client's is off, so every attempt is seen)

_nonces = itertools.count()


@pytest.fixture(scope="module")
def sim():
    with SimServer(time_factor=0) as server:
        yield server


def _messages(role: str, content: str = TASK) -> list[dict[str, str]]:
    return [{"role": "system", "content": f"You are the {role} of a research team. Answer briefly."},
            {"role": "user", "content": content}]


def _call(client: openai.OpenAI, messages) -> list[str]:
    """One logical model call with a deterministic retry loop; the outcome of every attempt."""
    outcomes = []
    for _ in range(MAX_ATTEMPTS):
        try:
            reply = client.chat.completions.create(model="sim", messages=messages)
        except openai.RateLimitError:
            outcomes.append("error:429")
            continue
        except openai.InternalServerError:
            outcomes.append("error:500")
            continue
        outcomes.append("ok:" + (reply.choices[0].message.content or ""))
        break
    return outcomes


def _final(outcomes: list[str]) -> str:
    return outcomes[-1][3:] if outcomes and outcomes[-1].startswith("ok:") else "(no answer)"


def run_threaded_mas(sim: SimServer, profile: str, seed: int, order_seed: int, *, client_retries: int = 0):
    """One run of the MAS: the six agents concurrently on threads, then the aggregator.

    Returns ({request key: outcomes}, HTTP requests the run made)."""
    client = openai.OpenAI(base_url=openai_base_url(sim.url, profile, seed, f"run{next(_nonces)}"),
                           api_key="sim", max_retries=client_retries)
    rng = random.Random(order_seed)
    order = list(ROLES)
    rng.shuffle(order)
    delays = {role: rng.uniform(0, 0.004) for role in ROLES}
    barrier = threading.Barrier(len(ROLES))
    results: dict[str, list[str]] = {}
    lock = threading.Lock()

    def agent(role: str) -> None:
        barrier.wait()
        time.sleep(delays[role])
        got = {role: _call(client, _messages(role))}
        if role == "researcher":  # the same content again: its second occurrence in the run
            got[f"{role}#2"] = _call(client, _messages(role))
        with lock:
            results.update(got)

    before = sim.request_count
    threads = [threading.Thread(target=agent, args=(role,)) for role in order]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    notes = "\n".join(f"{role}: {_final(results[role])}" for role in ROLES)
    results["aggregator"] = _call(client, _messages("aggregator", f"{TASK}\n\nTeam notes:\n{notes}"))
    client.close()
    return results, sim.request_count - before


async def _run_async_mas(url: str, order_seed: int) -> dict[str, str]:
    rng = random.Random(order_seed)
    order = list(ROLES)
    rng.shuffle(order)
    async with openai.AsyncOpenAI(base_url=url, api_key="sim", max_retries=0) as client:
        async def agent(role: str) -> tuple[str, str]:
            await asyncio.sleep(rng.uniform(0, 0.004))
            reply = await client.chat.completions.create(model="sim", messages=_messages(role))
            return role, reply.choices[0].message.content or ""

        answers = dict(await asyncio.gather(*(agent(role) for role in order)))
        notes = "\n".join(f"{role}: {answers[role]}" for role in ROLES)
        final = await client.chat.completions.create(model="sim", messages=_messages("aggregator", f"{TASK}\n\n{notes}"))
        answers["aggregator"] = final.choices[0].message.content or ""
    return answers


@pytest.mark.parametrize("profile", [pytest.param("strong", id="strong"), pytest.param("verbose", id="verbose")])
def test_concurrent_calls_replies_identical_across_runs(sim, profile):
    first, n_first = run_threaded_mas(sim, profile, seed=11, order_seed=0)
    assert set(first) == {*ROLES, "researcher#2", "aggregator"}
    assert all(o[-1].startswith("ok:") for o in first.values())
    # Same content twice in one run: two different draws, each fixed by its occurrence index.
    assert first["researcher"] != first["researcher#2"]
    assert n_first == len(ROLES) + 2
    for order_seed in range(1, REPEATS):
        again, n_again = run_threaded_mas(sim, profile, seed=11, order_seed=order_seed)
        assert again == first, f"order {order_seed}: replies changed with the send order"
        assert n_again == n_first

    other, _ = run_threaded_mas(sim, profile, seed=12, order_seed=0)
    differ = [k for k in first if other[k] != first[k]]
    assert len(differ) >= len(first) - 1 and "aggregator" in differ  # another seed, other replies


def _flaky_seed(sim) -> int:
    """The first seed whose run meets injected errors (the scan is itself deterministic)."""
    for seed in range(100):
        results, _ = run_threaded_mas(sim, "flaky", seed, order_seed=0)
        if any(o.startswith("error") for outcomes in results.values() for o in outcomes):
            return seed
    raise AssertionError("no seed in 0..99 met an injected error on the flaky profile")


def test_flaky_errors_deterministic_under_concurrency(sim):
    seed = _flaky_seed(sim)
    first, n_first = run_threaded_mas(sim, "flaky", seed, order_seed=0)
    errors = Counter(o for outcomes in first.values() for o in outcomes if o.startswith("error"))
    assert errors, "the scan promised errors"
    assert n_first == sum(len(o) for o in first.values())  # every attempt reached the service
    for order_seed in range(1, REPEATS):
        again, n_again = run_threaded_mas(sim, "flaky", seed, order_seed=order_seed)
        assert again == first, f"order {order_seed}: errors or replies changed with the send order"
        assert n_again == n_first, "the number of model calls changed between identical runs"


def test_flaky_client_retries_same_call_count(sim):
    """The openai client's own retries (the usual setup): same final replies, same number of
    HTTP requests in every repetition."""
    seed = _flaky_seed(sim)
    first, n_first = run_threaded_mas(sim, "flaky", seed, order_seed=0, client_retries=5)
    finals = {k: _final(v) for k, v in first.items()}
    for order_seed in range(1, REPEATS):
        again, n_again = run_threaded_mas(sim, "flaky", seed, order_seed=order_seed, client_retries=5)
        assert {k: _final(v) for k, v in again.items()} == finals
        assert n_again == n_first


def test_asyncio_gather_identical_across_runs(sim):
    def run(seed: int, order_seed: int) -> dict[str, str]:
        return asyncio.run(_run_async_mas(openai_base_url(sim.url, "strong", seed, f"async{next(_nonces)}"), order_seed))

    first = run(5, 0)
    for order_seed in range(1, REPEATS):
        assert run(5, order_seed) == first
    other = run(6, 0)
    assert other["aggregator"] != first["aggregator"]
    assert sum(other[r] != first[r] for r in ROLES) >= len(ROLES) - 1


def test_other_runs_traffic_does_not_shift_replies(sim):
    """Another run of the same seed (its own nonce) sending the very same contents at the same
    time leaves this run's replies as they are alone."""
    alone, _ = run_threaded_mas(sim, "flaky", 3, order_seed=0)
    box: dict[str, object] = {}
    noise = threading.Thread(target=lambda: box.update(r=run_threaded_mas(sim, "flaky", 3, order_seed=99)))
    noise.start()
    together, _ = run_threaded_mas(sim, "flaky", 3, order_seed=1)
    noise.join(60)
    assert together == alone
    assert box["r"][0] == alone


def test_identical_concurrent_requests_get_a_fixed_set_of_replies(sim):
    """Identical requests in flight together are interchangeable: which caller gets which
    occurrence follows arrival order, but the set of replies the run gets is fixed."""
    def run(order_seed: int) -> Counter:
        client = openai.OpenAI(base_url=openai_base_url(sim.url, "strong", 21, f"dup{next(_nonces)}"),
                               api_key="sim", max_retries=0)
        rng = random.Random(order_seed)
        barrier = threading.Barrier(4)
        replies: list[str] = []
        lock = threading.Lock()

        def ask() -> None:
            barrier.wait()
            time.sleep(rng.uniform(0, 0.004))
            text = client.chat.completions.create(model="sim", messages=_messages("twin")).choices[0].message.content
            with lock:
                replies.append(text or "")

        threads = [threading.Thread(target=ask) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        client.close()
        return Counter(replies)

    first = run(0)
    assert len(first) == 4  # four occurrences, four draws
    for order_seed in range(1, 5):
        assert run(order_seed) == first


def test_runs_sharing_a_runkey_share_occurrences_so_each_run_needs_its_own_nonce(sim):
    """Why the runner must give every run its own nonce: two runs on one runkey share the
    occurrence counts, so a request both send gets a different reply in whichever sends it
    second (a run's replies would depend on its neighbour's progress). With
    ``run_nonce(run_id, attempt)`` each run gets occurrence 0, as when it runs alone."""
    from maestro.sim.seeding import run_nonce
    from maestro.sim.urls import NONCE_RE

    def ask(nonce: str) -> str:
        client = openai.OpenAI(base_url=openai_base_url(sim.url, "strong", 31, nonce), api_key="sim", max_retries=0)
        return client.chat.completions.create(model="sim", messages=_messages("grader")).choices[0].message.content or ""

    shared = f"shared{next(_nonces)}"
    alone = ask(f"alone{next(_nonces)}")
    assert ask(shared) == alone  # the first run to send it
    assert ask(shared) != alone  # the neighbour on the same runkey: occurrence 1, another reply

    study = f"s{next(_nonces)}"
    ids = [f"{study}.crag.sim-strong.tools.t1.r000", f"{study}.crag.sim-strong.notools.t1.r000"]
    nonces = {run_nonce(i, 1) for i in ids} | {run_nonce(ids[0], 2)}
    assert len(nonces) == 3 and all(NONCE_RE.match(n) for n in nonces)
    assert run_nonce(ids[0], 1) == run_nonce(ids[0], 1)
    assert all(ask(n) == alone for n in nonces)
