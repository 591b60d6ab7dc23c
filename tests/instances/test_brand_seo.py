"""Brand SEO (ADK transfers): the catalog and its SQLite table, the loopback shop and the two
browser backends (process hygiene when a run is killed included), the judge by hand, the
simulated policies as units, and whole runs through the study runner (tools on and off)."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
import urllib.request

import psutil
import pytest

import maestro
from maestro.contract import Task
from maestro.instances.brand_seo import (
    AGENT_NAMES,
    BROWSER_TOOLS,
    FETCH,
    OPTIONS,
    PLAYWRIGHT,
    PRODUCT_TOOL,
    SHOP_URL,
    BrowserSession,
    ShopSite,
    choose_backend,
    facts,
    judge,
    load_tasks,
    product_details,
    products,
    search_listings,
    suggested_titles,
    title_keywords,
    top_results,
    write_database,
)
from maestro.instances.brand_seo.prompts import CRITIC, GENERATOR, KEYWORDS, ROOT, SEARCH, instructions
from maestro.instances.brand_seo.sim_policies import POLICIES, CriticPolicy, RootPolicy, SearchPolicy
from maestro.instances.brand_seo.site import render_page
from maestro.sim.policy import FailureMix, PolicyContext, SimMessage, SimRequest, SimTool, SimToolCall

CHROMIUM = "/usr/bin/chromium"
needs_chromium = pytest.mark.skipif(choose_backend("auto", CHROMIUM) != PLAYWRIGHT,
                                    reason="Playwright or the system Chromium is not available")

# --- data ----------------------------------------------------------------------------------------


def test_keywords_are_the_titles_most_frequent_phrases():
    # Trailmark's titles after brand and model: "trail running shoes", "trail running shoes for women",
    # "waterproof hiking boots": "running shoes" and "trail running" twice (alphabetical), then once each.
    assert title_keywords(products("Trailmark"), "Trailmark") == ["running shoes", "trail running", "hiking boots"]
    assert title_keywords(products("kettle & crumb"), "Kettle & Crumb")[0] == "cast iron"


def test_database_is_real_sqlite_read_with_sql(tmp_path):
    path = write_database(tmp_path / "p.sqlite")
    rows = product_details(path, "lumora")
    assert [r["title"] for r in rows] == [p.title for p in products("Lumora")] and rows[0]["brand"] == "Lumora"
    assert product_details(path, "Unknown Brand") == []
    assert len(load_tasks()) == 6 and facts("Lumora")["top_results"][0] == search_listings("desk lamp", 1)[0].title


def test_shop_serves_over_loopback_as_a_proxy_and_refuses_other_hosts():
    with ShopSite() as site:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": site.proxy}))
        home = opener.open(SHOP_URL, timeout=5).read().decode()
        assert "id='search_box'" in home and ">Search</button>" in home
        page = opener.open(SHOP_URL + "search?q=dog+bed", timeout=5).read().decode()
        assert page.count("class='result'") == 10 and search_listings("dog bed", 1)[0].title in page
        with pytest.raises(urllib.error.HTTPError) as e:
            opener.open("http://example.com/", timeout=5)
        assert e.value.code == 404 and site.served == 3
        proxy = site.proxy
    with pytest.raises(OSError):
        urllib.request.urlopen(proxy, timeout=2)  # stopped: the port is closed
    assert render_page("/product/999999", "")[0] == 404


def test_backend_choice():
    assert choose_backend("fetch") == FETCH
    assert choose_backend("auto", "/nonexistent/chromium") == FETCH
    with pytest.raises(ValueError, match="needs the playwright package and an executable Chromium"):
        choose_backend("playwright", "/nonexistent/chromium")
    with pytest.raises(ValueError, match="option 'browser': expected one of auto, playwright, fetch"):
        choose_backend("firefox")


async def _search(session):
    said = [await session.go_to_url(SHOP_URL), await session.enter_text_into_element("dog bed", "search_box"),
            await session.enter_text_into_element("x", "no_such_box"), await session.click_element_with_text("Search"),
            await session.find_element_with_text(search_listings("dog bed", 1)[0].title),
            await session.scroll_down_screen()]
    return said, await session.get_page_source()


@pytest.mark.parametrize("backend", [FETCH, pytest.param(PLAYWRIGHT, marks=[needs_chromium, pytest.mark.slow])])
def test_both_browsers_search_the_shop(backend):
    with ShopSite() as site:
        session = BrowserSession(backend, site.proxy, CHROMIUM)

        async def go():
            try:
                return await _search(session)
            finally:
                await session.aclose()

        said, source = asyncio.run(go())
    assert said[0].startswith("Navigated to http://shop.test/") and said[2] == "Element with given ID not found."
    assert "search?q=dog+bed" in said[3] and said[4] == "Element found." and session.kind == backend
    top = [li.title for li in search_listings("dog bed", 3)]
    assert all(t in source for t in top)


def test_a_failed_launch_falls_back_to_fetch(tmp_path):
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    seen = []
    with ShopSite() as site:
        session = BrowserSession(PLAYWRIGHT, site.proxy, str(fake))
        session.on_fallback = seen.append

        async def go():
            try:
                return await session.go_to_url(SHOP_URL)
            finally:
                await session.aclose()

        said = asyncio.run(go())
    assert said == "Navigated to http://shop.test/ (HTTP 200)." and session.kind == FETCH and seen == [FETCH]
    assert session.fallback


@needs_chromium
@pytest.mark.slow
def test_killing_a_run_leaves_no_browser_behind():
    # A run process (a session leader, as the runner's workers are) with a live browser is
    # SIGKILLed as a group: Chromium (which Playwright starts in its own process group) must
    # still go, because its control pipe to the dead driver closes.
    code = textwrap.dedent(f"""
        import asyncio, psutil, sys, time
        from maestro.instances.brand_seo import BrowserSession, ShopSite, PLAYWRIGHT, SHOP_URL
        async def main():
            site = ShopSite().start()
            b = BrowserSession(PLAYWRIGHT, site.proxy, {CHROMIUM!r})
            await b.go_to_url(SHOP_URL)
            kids = [p.pid for p in psutil.Process().children(recursive=True) if "chrom" in p.name()]
            print(" ".join(map(str, kids)), flush=True)
            await asyncio.sleep(120)
        asyncio.run(main())
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        line = proc.stdout.readline()
        pids = [int(x) for x in line.split()]
        assert pids, "no browser process was started"
        assert any(os.getpgid(p) != proc.pid for p in pids)  # Chromium left the run's group
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    deadline = time.monotonic() + 15
    alive = pids
    while alive and time.monotonic() < deadline:
        alive = [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
        time.sleep(0.2)
    assert not alive, f"browser processes outlived the killed run: {alive}"


# --- the judge -----------------------------------------------------------------------------------

TASK = load_tasks()[3]  # Pawsitive
F = TASK.meta


def _report(keywords=None, results=None, pairs=None):
    parts = ["# Brand SEO report for Pawsitive", f"Keywords: {'; '.join(keywords or F['keywords'])}"]
    parts.append('Top results for "dog bed":\n' + "\n".join(f"{i}. {t}" for i, t in enumerate(results or F["top_results"], 1)))
    pairs = pairs if pairs is not None else [(p, f"{p} | Dog Bed") for p in F["products"]]
    parts.append("Suggested titles:\n" + "\n".join(f"- {a} -> {b}" for a, b in pairs))
    return "\n\n".join(parts)


def test_judge_checks_keyword_results_and_titles():
    assert F["keywords"][0] == "dog bed" and len(F["products"]) == 3
    good = judge(TASK, _report())
    assert good.judgement == "correct" and good.score == 1.0, good.reason
    swapped = judge(TASK, _report(keywords=["bed large", "dog toy"]))
    assert swapped.judgement == "wrong" and "top keyword 'dog bed' not named" in swapped.reason
    invented = judge(TASK, _report(results=["Northwind Dog Bed", F["top_results"][0]]))
    assert "1/3 of the shop's top results named" in invented.reason and invented.score == pytest.approx(2 / 3)
    partial = judge(TASK, _report(pairs=[(F["products"][0], "Pawsitive Rest Bed")]))
    assert "0/3 products with a keyword title" in partial.reason
    assert judge(TASK, "").judgement == "wrong" and judge(Task("t", "q"), "x").judgement == "unjudged"


def test_report_readers():
    text = 'x [search_results] said: Top results for "dog bed":\n1. A\n2. B\n\nSuggested titles:\n- a -> b\n- c -> d\n'
    assert top_results(text) == ("dog bed", ["A", "B"]) and suggested_titles(text) == [("a", "b"), ("c", "d")]


# --- policies -------------------------------------------------------------------------------------


def _ctx(seed=0, accuracy=1.0, strictness=0.0, mix=FailureMix()):
    return PolicyContext(rng=random.Random(seed), profile_name="t", accuracy=accuracy, failure_mix=mix,
                         verbosity=1.0, strictness=strictness)


def _req(agent, messages=(), tools=True):
    offered = ["transfer_to_agent"]
    if tools and agent == KEYWORDS:
        offered.append(PRODUCT_TOOL)
    if tools and agent == SEARCH:
        offered += list(BROWSER_TOOLS)
    return SimRequest("gemini", "m", (SimMessage("system", instructions(tools)[agent]),
                                      SimMessage("user", TASK.question), *messages),
                      tools=tuple(SimTool(n, "", {"type": "object"}) for n in offered))


def test_every_agent_has_exactly_one_policy():
    for agent in AGENT_NAMES:
        for tools in (True, False):
            assert len([p for p in POLICIES if p.matches(_req(agent, tools=tools))]) == 1


def test_root_routes_in_order_then_reports():
    first = RootPolicy().respond(_req(ROOT), _ctx())
    assert first.tool_calls == (SimToolCall("transfer_to_agent", {"agent_name": KEYWORDS}),)
    seen = (SimMessage("user", f"[{KEYWORDS}] said: Keywords: dog bed; dog toy\nProducts: a; b"),
            SimMessage("user", f'[{SEARCH}] said: Top results for "dog bed":\n1. X\n2. Y\n3. Z'))
    assert RootPolicy().respond(_req(ROOT, seen), _ctx()).tool_calls[0].arguments == {"agent_name": GENERATOR}
    done = seen + (SimMessage("user", f"[{GENERATOR}] said: Suggested titles:\n- a -> a | Dog Bed"),
                   SimMessage("user", f"[{CRITIC}] said: APPROVED"))
    report = RootPolicy().respond(_req(ROOT, done), _ctx())
    assert not report.tool_calls and report.text.startswith("# Brand SEO report for Pawsitive")
    assert top_results(report.text) == ("dog bed", ["X", "Y", "Z"]) and suggested_titles(report.text) == [("a", "a | Dog Bed")]


def test_search_agent_reads_each_page_for_its_next_step():
    kw = (SimMessage("user", f"[{KEYWORDS}] said: Keywords: dog bed; dog toy"),)
    history = list(kw)
    steps = []
    with ShopSite() as site:
        session = BrowserSession(FETCH, site.proxy)
        for _ in range(8):
            reply = SearchPolicy().respond(_req(SEARCH, tuple(history)), _ctx(seed=1))
            if not reply.tool_calls or reply.tool_calls[0].name == "transfer_to_agent":
                break
            call = reply.tool_calls[0]
            steps.append(call.name)
            out = asyncio.run(getattr(session, call.name)(**call.arguments))
            history += [SimMessage("assistant", "", (call,)), SimMessage("tool", json.dumps({"result": out}), name=call.name)]
    assert steps[:6] == ["go_to_url", "get_page_source", "enter_text_into_element", "get_page_source",
                         "click_element_with_text", "get_page_source"]
    assert top_results(reply.text) == ("dog bed", [li.title for li in search_listings("dog bed", 3)])
    assert reply.tool_calls == (SimToolCall("transfer_to_agent", {"agent_name": ROOT}),)
    blind = SearchPolicy().respond(_req(SEARCH, kw, tools=False), _ctx(mix=FailureMix(0, 1, 0)))
    assert not set(top_results(blind.text)[1]) & set(F["top_results"])  # without a browser it cannot know


def test_critic_names_gaps_and_approves_complete_work():
    ctxt = (SimMessage("user", "[keyword_finder] said: Keywords: dog bed; dog toy\nProducts: A Bed; B Toy"),)
    gap = ctxt + (SimMessage("user", "[comparison_generator] said: Suggested titles:\n- A Bed -> A Bed"),)
    reply = CriticPolicy().respond(_req(CRITIC, gap), _ctx())
    assert reply.text == "REVISE: add a title for B Toy; add a keyword to A Bed"
    assert reply.tool_calls[0].arguments == {"agent_name": GENERATOR}
    full = ctxt + (SimMessage("user", "Suggested titles:\n- A Bed -> A Dog Bed\n- B Toy -> B Dog Toy"),)
    assert CriticPolicy().respond(_req(CRITIC, full), _ctx()).text == "APPROVED"
    assert CriticPolicy().respond(_req(CRITIC, full), _ctx(strictness=3.0)).text.startswith("REVISE:")  # a nitpick


# --- the instance ---------------------------------------------------------------------------------


def test_instance_row_and_options():
    from maestro.contract import resolve_options
    from maestro.instances import get_instance

    inst = get_instance("brand_seo")
    i = inst.info
    assert (i.app_field, i.framework, i.interaction, i.n_agents, i.n_tools, i.data_out) == (
        "Marketing", "adk", "Coordination", 5, 7, "Open-End")
    assert inst.options == OPTIONS and resolve_options(OPTIONS, {})["browser"] == "auto"


# --- whole runs through the runner ------------------------------------------------------------------


def _sequences(st):
    s = st.spans
    out = {}
    for r in st.runs.itertuples():
        m = s[(s.run_id == r.run_id) & (s.span_type == "message")].sort_values("start_time_ns")
        out[r.run_id] = tuple(zip(m.message_source, m.message_target, strict=True))
    return out


def _our_browsers():
    return [p for p in psutil.process_iter(["name", "cmdline"])
            if "chrom" in (p.info["name"] or "") and any("--proxy-server=http://127.0.0.1:" in a
                                                          for a in p.info["cmdline"] or [])]


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    out = tmp_path_factory.mktemp("seo")
    result = maestro.run_study(maestro.StudyConfig(
        study_id="seo-t", instances=["brand_seo"], backends=["sim/strong"], tools=(True, False), repeats=1,
        tasks=2, out=str(out), store_answers=True, time_factor=0))
    return maestro.load_study(result.path)


@pytest.mark.slow
def test_runs_have_transfers_database_and_browser_tool_spans(study):
    runs, spans = study.runs, study.spans
    assert len(runs) == 4 and (runs.status == "success").all() and runs.clean.all(), runs[["status", "error"]]
    expected = PLAYWRIGHT if choose_backend("auto", CHROMIUM) == PLAYWRIGHT else FETCH
    for r in runs.itertuples():
        s = spans[spans.run_id == r.run_id]
        assert s.trace_id.nunique() == 1 and s.parent_span_id.isna().sum() == 1
        assert set(s[s.span_type == "agent"].agent_name) == set(AGENT_NAMES)
        tools = s[s.span_type == "tool"]
        seq = _sequences(study)[r.run_id]
        assert seq[0] == ("__start__", ROOT) and seq[-1] == (ROOT, "__end__")
        assert [e for e in seq if e[0] == ROOT and e[1] != "__end__"] == [(ROOT, KEYWORDS), (ROOT, SEARCH), (ROOT, GENERATOR)]
        assert (GENERATOR, CRITIC) in seq and (CRITIC, ROOT) in seq
        if r.tools_enabled:
            assert PRODUCT_TOOL in set(tools.tool_name) and {"go_to_url", "click_element_with_text"} <= set(tools.tool_name)
            browsing = tools[tools.tool_name.isin(BROWSER_TOOLS)]
            labels = browsing.attributes_json.map(lambda a: json.loads(a)["gen_ai.tool.description"].rsplit("[", 1)[-1])
            assert (labels == f"browser: {expected}]").all()  # the backend chosen at run time, on every span
        else:
            assert tools.empty
    assert not _our_browsers()


@pytest.mark.slow
def test_tools_on_reports_are_right_and_tools_off_are_not(study):
    runs = study.runs
    on, off = runs[runs.tools_enabled], runs[~runs.tools_enabled]
    assert (on.judgement == "correct").sum() >= 1, on[["judgement", "judgement_reason"]]
    assert (off.judgement == "wrong").all(), off[["judgement", "judgement_reason"]]


@pytest.mark.slow
def test_critic_rounds_vary_with_the_seed(tmp_path):
    # Ten seeds: the critic's revisions (gaps in a draft, or a nitpick on the first one) change
    # the edge sequence. Measured (2026-11-30, sim/strong, fetch backend): 2 distinct sequences.
    result = maestro.run_study(maestro.StudyConfig(
        study_id="seo-var", instances=["brand_seo"], backends=["sim/strong"], tools=(True,), repeats=10, tasks=1,
        out=str(tmp_path), time_factor=0, instance_options={"brand_seo": {"browser": "fetch"}}))
    st = maestro.load_study(result.path)
    assert len(st.runs) == 10 and (st.runs.status == "success").all()
    assert len(set(_sequences(st).values())) >= 2
