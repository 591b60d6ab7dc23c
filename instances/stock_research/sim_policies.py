"""Simulated-model behaviour for Stock Research's four roles.

Each policy recognises its role by the marker sentence opening the role's system prompt and
reads only the request: the question (for the ticker), the tools it is offered, the tool
results and teammates' notes in its context. None of them reads the market data set: a
simulated model knows what its context shows. Randomness comes only from ``ctx.rng``.
Replies that hand over carry the handoff as a ``transfer_to_<agent>`` call (with any text
alongside, which AutoGen passes on as the handoff's context).

* **Planner**: first a one-line plan, then it hands off to the analysts one at a time (the
  order drawn by the seed), then to the writer, and once the writer has had its turn it
  says ``TERMINATE``. A weaker planner sometimes hands to the writer after one analyst only
  (probability ``(1 - accuracy) / 2`` at each decision once an analyst has reported).
* **Analysts**: with their tool offered and no result of it in context yet, they call it
  for the question's ticker; with the result in context they write a note stating what it
  shows (last close and 5-day change; latest headline) and hand back to the planner. With
  no tool and no data in context (tools off) they answer "from what they know", which for a
  fictional ticker is the profile's failure signature (``ctx.failure_mix``): ``wrong``
  (confidently invented figures and headline), ``underspecified`` (no figures) or ``empty``.
* **Writer**: compiles the report from its context, preferring raw tool results
  (``get_stock_data`` / ``get_news`` JSON) over teammates' notes (read with
  ``report.read_facts``), then hands back to the planner on its next call. With probability
  ``accuracy`` the report states what the context shows; otherwise it fails as the failure
  mix draws: ``underspecified`` (no figures), ``wrong`` (reads the rows one session too
  early: the previous close, the change to it, the second-newest headline) or ``empty``.
  Without facts in context it can only write a report without them.

Length follows the profile's ``verbosity`` (filler sentences).
"""

from __future__ import annotations

import json
from abc import abstractmethod
from dataclasses import dataclass
from typing import Any

from maestro.instances.sim_kit import MarkerPolicy, clamp, padding_count, register_policies
from maestro.sim.policy import PolicyContext, SimReply, SimRequest, SimToolCall

from .prompts import (
    AGENT_NAMES,
    ANALYSTS,
    FINANCIAL,
    FINANCIAL_MARKER,
    NEWS,
    NEWS_MARKER,
    PLANNER,
    PLANNER_MARKER,
    TERMINATE,
    WRITER,
    WRITER_MARKER,
    parse_ticker,
)
from .report import format_report, read_facts

__all__ = ["PlannerPolicy", "FinancialAnalystPolicy", "NewsAnalystPolicy", "WriterPolicy", "POLICIES",
           "register_sim_policies", "ticker_of", "stock_payload", "news_payload", "handed_to", "ContextFacts",
           "context_facts"]

WINDOW = 5
"""Trading days of the "5-day change" (as the prompts ask)."""

_PADDING = (
    "Volumes were in line with the recent average.", "The figures come from the latest trading session.",
    "Sector peers moved in a similar range.", "No unusual trading halts were reported.",
    "The picture may change with the next earnings release.", "Liquidity looked normal throughout the period.",
)
_INVENTED_EVENTS = ("an upbeat analyst note", "a new supply agreement", "softer guidance", "a management change",
                    "record quarterly revenue", "a product delay")


def _pad(ctx: PolicyContext) -> str:
    n = padding_count(ctx.verbosity, cap=6, per_unit=2)
    return (" " + " ".join(ctx.rng.choice(_PADDING) for _ in range(n))) if n else ""


def _handoff(target: str, request: SimRequest) -> tuple[SimToolCall, ...]:
    """A call of ``transfer_to_<target>`` when the request offers it (else none: the reply is text only)."""
    name = f"transfer_to_{target}"
    return (SimToolCall(name=name, arguments={}),) if any(t.name == name for t in request.tools) else ()


def ticker_of(request: SimRequest) -> str | None:
    """The ticker of the question: the first user message that names one."""
    for m in request.messages:
        if m.role == "user":
            t = parse_ticker(m.content)
            if t:
                return t
    return None


def _json_objects(request: SimRequest) -> list[dict[str, Any]]:
    out = []
    for m in request.messages:
        text = (m.content or "").strip()
        if m.role == "system" or not text.startswith("{"):
            continue
        try:
            value = json.loads(text)
        except ValueError:
            continue
        if isinstance(value, dict):
            out.append(value)
    return out


def stock_payload(request: SimRequest, ticker: str | None) -> dict[str, Any] | None:
    """The last ``get_stock_data`` result for ``ticker`` in context (own tool message or a
    teammate's relayed result), or None."""
    found = None
    for obj in _json_objects(request):
        if isinstance(obj.get("sessions"), list) and obj["sessions"] and (ticker is None or obj.get("ticker") == ticker):
            found = obj
    return found


def news_payload(request: SimRequest, ticker: str | None) -> dict[str, Any] | None:
    """The last ``get_news`` result for ``ticker`` in context, or None."""
    found = None
    for obj in _json_objects(request):
        if isinstance(obj.get("articles"), list) and obj["articles"] and (ticker is None or obj.get("ticker") == ticker):
            found = obj
    return found


def _tool_error(request: SimRequest) -> str | None:
    last = request.messages[-1] if request.messages else None
    if last is not None and last.role == "tool":
        try:
            value = json.loads(last.content)
        except ValueError:
            return None
        if isinstance(value, dict) and value.get("error"):
            return str(value["error"])
    return None


def handed_to(request: SimRequest) -> set[str]:
    """Agents already in the conversation: the targets of the model's own ``transfer_to_*``
    calls and every teammate with a message in context."""
    seen = {m.name for m in request.messages if m.role == "user" and m.name in AGENT_NAMES}
    for m in request.messages:
        if m.role == "assistant":
            for call in m.tool_calls:
                if call.name.startswith("transfer_to_"):
                    seen.add(call.name[len("transfer_to_"):])
    return seen


@dataclass(frozen=True)
class ContextFacts:
    """The facts a writer can see, from raw tool results or from teammates' notes."""

    company: str | None = None
    close: float | None = None
    as_of: str | None = None
    change_pct: float | None = None
    headline: str | None = None
    headline_date: str | None = None
    raw: bool = False
    """Read from tool results (rows a reader may misread), not from notes."""


def _rows_facts(stock: dict[str, Any] | None, articles: list[dict[str, Any]] | None, shift: int) -> dict[str, Any]:
    """Facts of raw rows, read ``shift`` sessions (and headlines) too early."""
    out: dict[str, Any] = {}
    if stock:
        rows = stock["sessions"]
        closes = [float(r["close"]) for r in rows]
        last = len(closes) - 1 - shift
        if last >= 0:
            out.update(company=stock.get("company"), close=closes[last], as_of=rows[last].get("date"))
        if last - WINDOW >= 0:
            out["change_pct"] = round((closes[last] / closes[last - WINDOW] - 1) * 100, 2)
    if articles:
        ordered = sorted(articles, key=lambda a: str(a.get("date", "")), reverse=True)
        pick = ordered[min(shift, len(ordered) - 1)]
        out.update(headline=pick.get("headline"), headline_date=pick.get("date"))
    return out


def context_facts(request: SimRequest, ticker: str | None, *, shift: int = 0) -> ContextFacts:
    """What the writer's context shows about ``ticker``: tool results first, notes for what
    they lack (the latest note stating a fact wins)."""
    stock, news = stock_payload(request, ticker), news_payload(request, ticker)
    facts = _rows_facts(stock, news["articles"] if news else None, shift)
    raw = bool(facts)
    if stock and news:
        return ContextFacts(raw=raw, **facts)
    for m in request.messages:
        if m.role == "system" or m.name == "user" or (m.content or "").lstrip().startswith("{"):
            continue
        stated = read_facts(m.content)
        if not stock:
            if stated.close is not None:
                facts["close"] = stated.close
            if stated.change_pct is not None:
                facts["change_pct"] = stated.change_pct
        if not news and stated.headline:
            facts["headline"] = stated.headline
    return ContextFacts(raw=raw, **facts)


@dataclass(frozen=True)
class PlannerPolicy(MarkerPolicy):
    """Plans, delegates one agent at a time, ends with TERMINATE after the writer."""

    name: str = "stock_research.planner"
    marker: str = PLANNER_MARKER

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        ticker = ticker_of(request) or "the stock"
        seen = handed_to(request)
        rng = ctx.rng
        if WRITER in seen:
            return SimReply(text=f"The research on {ticker} is complete: the writer's report is above. {TERMINATE}")
        pending = [a for a in ANALYSTS if a not in seen]
        early = bool(pending) and len(pending) < len(ANALYSTS) and rng.random() < clamp((1 - ctx.accuracy) / 2)
        if not pending or early:
            return SimReply(text="The analysts have reported; the writer compiles the report.",
                            tool_calls=_handoff(WRITER, request))
        target = rng.choice(pending)
        if not seen & set(ANALYSTS):
            text = (f"Plan for {ticker}: 1) the financial analyst reviews the price data, 2) the news analyst "
                    "reviews the latest headlines, 3) the writer compiles the report. Starting with the "
                    f"{target.replace('_', ' ')}.")
        else:
            text = f"Next, the {target.replace('_', ' ')}."
        return SimReply(text=text, tool_calls=_handoff(target, request))


def _invented(ticker: str, rng: Any) -> tuple[float, float, str]:
    """Figures a model makes up for a ticker it has no data on: a close, a 5-day change, a headline."""
    close = round(rng.uniform(15, 250), 2)
    change = round(rng.choice((-1, 1)) * rng.uniform(0.5, 6.0), 2)
    verb = "rally" if change > 0 else "slide"
    return close, change, f"{ticker} shares {verb} after {rng.choice(_INVENTED_EVENTS)}"


@dataclass(frozen=True)
class _AnalystPolicy(MarkerPolicy):
    """Calls its tool when it has one and no result yet; then reports and hands back."""

    agent: str = FINANCIAL
    tool: str = "get_stock_data"

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        ticker = ticker_of(request)
        offered = any(t.name == self.tool for t in request.tools)
        have = self._payload(request, ticker)
        own_result = any(m.role == "tool" and m.name == self.tool for m in request.messages)
        if offered and have is None and not own_result:
            return SimReply(tool_calls=(SimToolCall(name=self.tool, arguments={"ticker": ticker or ""}),))
        back = _handoff(PLANNER, request)
        if have is not None:
            return SimReply(text=self._note(have, ctx), tool_calls=back)
        error = _tool_error(request)
        if error:
            return SimReply(text=f"The data service answered: {error}. I have nothing to report.{_pad(ctx)}",
                            tool_calls=back)
        return SimReply(text=self._from_memory(ticker or "the stock", ctx), tool_calls=back)

    @abstractmethod
    def _payload(self, request: SimRequest, ticker: str | None) -> dict[str, Any] | None:
        """Implemented by each analyst."""

    @abstractmethod
    def _note(self, payload: dict[str, Any], ctx: PolicyContext) -> str:
        """Implemented by each analyst."""

    def _from_memory(self, ticker: str, ctx: PolicyContext) -> str:
        mode = ctx.failure_mix.draw(ctx.rng)
        if mode == "empty":
            return ""
        if mode == "underspecified":
            return (f"I do not have reliable current data on {ticker}; it is best to check a market data source "
                    f"before drawing conclusions.{_pad(ctx)}")
        close, change, headline = _invented(ticker, ctx.rng)
        return self._invented_note(ticker, close, change, headline, ctx)

    @abstractmethod
    def _invented_note(self, ticker: str, close: float, change: float, headline: str, ctx: PolicyContext) -> str:
        """Implemented by each analyst."""


@dataclass(frozen=True)
class FinancialAnalystPolicy(_AnalystPolicy):
    name: str = "stock_research.financial_analyst"
    marker: str = FINANCIAL_MARKER
    agent: str = FINANCIAL
    tool: str = "get_stock_data"

    def _payload(self, request: SimRequest, ticker: str | None) -> dict[str, Any] | None:
        return stock_payload(request, ticker)

    def _note(self, payload: dict[str, Any], ctx: PolicyContext) -> str:
        f = _rows_facts(payload, None, 0)
        rows = payload["sessions"]
        lo, hi = min(float(r["close"]) for r in rows), max(float(r["close"]) for r in rows)
        text = f"{payload.get('ticker')} ({payload.get('company')}) last closed at ${f['close']:,.2f} on {f['as_of']}."
        if "change_pct" in f:
            c = f["change_pct"]
            text += (f" Over the last five trading days it {'rose' if c > 0 else 'fell'} {abs(c):.2f}% "
                     f"(5-day change {c:+.2f}%).")
        return text + f" Its closes ranged from ${lo:,.2f} to ${hi:,.2f} over {len(rows)} sessions.{_pad(ctx)}"

    def _invented_note(self, ticker: str, close: float, change: float, headline: str, ctx: PolicyContext) -> str:
        return (f"From what I know, {ticker} last closed at about ${close:,.2f}. Over the last five trading days it "
                f"{'rose' if change > 0 else 'fell'} about {abs(change):.1f}% (5-day change {change:+.1f}%).{_pad(ctx)}")


@dataclass(frozen=True)
class NewsAnalystPolicy(_AnalystPolicy):
    name: str = "stock_research.news_analyst"
    marker: str = NEWS_MARKER
    agent: str = NEWS
    tool: str = "get_news"

    def _payload(self, request: SimRequest, ticker: str | None) -> dict[str, Any] | None:
        return news_payload(request, ticker)

    def _note(self, payload: dict[str, Any], ctx: PolicyContext) -> str:
        items = sorted(payload["articles"], key=lambda a: str(a.get("date", "")), reverse=True)
        top = items[0]
        text = (f"The latest headline on {payload.get('ticker')} ({payload.get('company')}) is \"{top['headline']}\" "
                f"({top.get('date')}, {top.get('source')}).")
        if len(items) > 1:
            text += f" Earlier: \"{items[1]['headline']}\" ({items[1].get('date')})."
        return text + _pad(ctx)

    def _invented_note(self, ticker: str, close: float, change: float, headline: str, ctx: PolicyContext) -> str:
        return f"The latest headline I know of is \"{headline}\". Sentiment looks {'positive' if change > 0 else 'mixed'}.{_pad(ctx)}"


@dataclass(frozen=True)
class WriterPolicy(MarkerPolicy):
    """Writes the report from its context, then hands back on its next call."""

    name: str = "stock_research.writer"
    marker: str = WRITER_MARKER

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        last = request.messages[-1] if request.messages else None
        if last is not None and last.role == "assistant" and not last.tool_calls:
            # its own report was the last word: the writing is complete
            return SimReply(tool_calls=_handoff(PLANNER, request)) if _handoff(PLANNER, request) else SimReply(text="")
        ticker = ticker_of(request) or "the stock"
        rng = ctx.rng
        mode = "complete" if rng.random() < ctx.accuracy else ctx.failure_mix.draw(rng)
        if mode == "empty":
            return SimReply(text="")
        facts = context_facts(request, ticker, shift=1 if mode == "wrong" else 0)
        if mode == "wrong" and not facts.raw:
            facts = context_facts(request, ticker)  # notes leave nothing to misread: relayed as they are
        notes = tuple(rng.choice(_PADDING) for _ in range(padding_count(ctx.verbosity, cap=6, per_unit=2)))
        if mode == "underspecified" or not any((facts.close, facts.change_pct, facts.headline)):
            body = (f"Stock report: {ticker}\nThe stock has seen some movement recently and news flow has been "
                    "active; investors should follow the next sessions closely.")
            return SimReply(text="\n".join((body, *notes)))
        return SimReply(text=format_report(ticker, facts.company, facts.close, facts.as_of, facts.change_pct,
                                           facts.headline, facts.headline_date, notes))


POLICIES = (PlannerPolicy(), FinancialAnalystPolicy(), NewsAnalystPolicy(), WriterPolicy())
"""The four role policies."""


def register_sim_policies() -> None:
    """Register the four policies with the simulated service (idempotent)."""
    register_policies(POLICIES)
