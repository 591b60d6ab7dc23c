"""Simulated-model behaviour for Brand SEO's five agents.

Each policy recognises its agent by the marker sentence of its instruction and reads the
conversation as a model would: the task's ``Brand:`` line, the other agents' labelled lines
(relayed by ADK as quoted context) and its own tool calls and their results. Randomness
comes only from ``ctx.rng``; nothing reads the task's gold or the catalog behind the tools.

* Root: transfers to the first of keyword finder, search results and comparison generator
  it has not handed over to yet; then writes the report from the team's lines.
* Keyword finder: with the tool, looks the brand up and reads its keywords off the product
  titles (the two-word phrases most frequent in them); without it, guesses from the
  category. A failure (probability ``(1 - accuracy) / 2``) answers ``empty``, vaguely or
  with the keywords out of order (``wrong``).
* Search results: with the browser, goes to the shop, reads the page for the search box's id
  and the button's text, types the first keyword, clicks, reads the results and reports the
  first three (sometimes checking the first one is on the page before reporting); without a
  browser it cannot know them: it abstains, hedges or invents titles as the profile's
  failure mix draws. A failure of the report leaves it empty, vague or shifted by one result.
* Comparison generator: one suggestion per product listed on the ``Products:`` line (each
  kept with probability ``accuracy`` in a first draft), adding the keyword that shares a word
  with the title (else the first); a revision fixes what the critic named.
* Comparison critic: asks for a revision naming the products without a suggestion and the
  suggestions without a keyword; a complete draft is approved, except that the first one is
  sent back with probability ``strictness / 3`` (a nitpick: the keyword first); after three
  revisions it approves.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from maestro.instances.sim_kit import MarkerPolicy, register_policies
from maestro.sim.policy import PolicyContext, SimReply, SimRequest, SimToolCall

from .catalog import title_keywords
from .prompts import (
    APPROVED,
    CRITIC,
    CRITIC_MARKER,
    GENERATOR,
    GENERATOR_MARKER,
    KEYWORDS_MARKER,
    PRODUCT_TOOL,
    REPORT_HEADING,
    REVISE,
    ROOT,
    ROOT_MARKER,
    SEARCH_MARKER,
    SPECIALISTS,
    TRANSFER,
    parse_question,
    read_list,
    suggested_titles,
    top_results,
)

__all__ = ["RootPolicy", "KeywordPolicy", "SearchPolicy", "GeneratorPolicy", "CriticPolicy", "POLICIES",
           "register_sim_policies", "context_text"]

_INVENTED = ("Northwind", "Brightmoor", "Saltmarsh", "Hollowpine", "Greyfield")


def _fails(ctx: PolicyContext) -> str | None:
    if ctx.rng.random() < (1.0 - ctx.accuracy) / 2.0:
        return ctx.failure_mix.draw(ctx.rng)
    return None


def context_text(request: SimRequest) -> str:
    """Every non-system message's text, ADK's quote markers turned into line breaks (what
    the agents said, never their instructions' templates)."""
    text = "\n".join(m.content for m in request.messages if m.role != "system")
    return re.sub(r"<<<[A-Z_]+>>>", "\n", text)


def _offers(request: SimRequest, name: str) -> bool:
    return any(t.name == name for t in request.tools)


def _transfer(agent: str, request: SimRequest) -> tuple[SimToolCall, ...]:
    return (SimToolCall(TRANSFER, {"agent_name": agent}),) if _offers(request, TRANSFER) else ()


def _brand(request: SimRequest) -> tuple[str, str]:
    for m in request.messages:
        if m.role == "user" and "Brand:" in m.content:
            return parse_question(m.content)
    return "", ""


def _own_calls(request: SimRequest) -> list[SimToolCall]:
    return [tc for m in request.messages if m.role == "assistant" for tc in m.tool_calls]


def _last_result(request: SimRequest) -> tuple[str | None, Any]:
    """``(tool name, result)`` when the last message is a tool result (the result's ``result``
    field when it is wrapped in one), else ``(None, None)``."""
    if not request.messages or request.messages[-1].role != "tool":
        return None, None
    m = request.messages[-1]
    try:
        value: Any = json.loads(m.content)
    except (TypeError, ValueError):
        value = m.content
    if isinstance(value, dict) and "result" in value and len(value) == 1:
        value = value["result"]
    return m.name, value


@dataclass(frozen=True)
class RootPolicy(MarkerPolicy):
    """Routes to the next specialist, then writes the report."""

    name: str = "brand_seo.root"
    marker: str = ROOT_MARKER

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        text = context_text(request)
        visited = {str(tc.arguments.get("agent_name")) for tc in _own_calls(request) if tc.name == TRANSFER}
        visited |= {a for a in SPECIALISTS if f"[{a}]" in text}
        if _offers(request, TRANSFER):
            for agent in SPECIALISTS:
                if agent not in visited:
                    return SimReply(tool_calls=(SimToolCall(TRANSFER, {"agent_name": agent}),))
        brand, _ = _brand(request)
        mode = _fails(ctx)
        if mode == "empty":
            return SimReply(text="")
        parts = [f"{REPORT_HEADING} {brand}"]
        if mode == "underspecified":
            return SimReply(text=parts[0] + "\n\nThe team found useful keywords and better titles for the products.")
        keywords = read_list(text, "Keywords")
        if keywords:
            parts.append(f"Keywords: {'; '.join(keywords)}")
        keyword, titles = top_results(text)
        if titles:
            parts.append(f'Top results for "{keyword}":\n' + "\n".join(f"{i}. {t}" for i, t in enumerate(titles, 1)))
        pairs = suggested_titles(text)
        if pairs and mode != "wrong":  # a wrong report forgets the suggestions
            parts.append("Suggested titles:\n" + "\n".join(f"- {old} -> {new}" for old, new in pairs))
        return SimReply(text="\n\n".join(parts))


def _products_from(result: Any) -> list[str]:
    rows = result.get("products") if isinstance(result, dict) else None
    return [str(r.get("title")) for r in rows or [] if isinstance(r, dict) and r.get("title")]


@dataclass(frozen=True)
class KeywordPolicy(MarkerPolicy):
    """Looks the brand up and reads its keywords off the titles."""

    name: str = "brand_seo.keyword_finder"
    marker: str = KEYWORDS_MARKER

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        brand, category = _brand(request)
        back = _transfer(ROOT, request)
        tool, result = _last_result(request)
        if tool is None and _offers(request, PRODUCT_TOOL):
            return SimReply(tool_calls=(SimToolCall(PRODUCT_TOOL, {"brand": brand}),))
        titles = _products_from(result) if tool == PRODUCT_TOOL else []
        if titles:
            keywords = title_keywords([{"title": t} for t in titles], brand)
        else:  # no data: what the category suggests
            keywords = [f"{category} deals", f"best {category}", f"{category} online"]
        mode = _fails(ctx)
        if mode == "empty":
            return SimReply(text="", tool_calls=back)
        if mode == "underspecified":
            return SimReply(text="Keywords: popular products; quality items", tool_calls=back)
        if mode == "wrong" and len(keywords) > 1:
            keywords = [keywords[1], keywords[0], *keywords[2:]]
        lines = [f"Keywords: {'; '.join(keywords)}", f"Products: {'; '.join(titles) if titles else 'unknown'}"]
        return SimReply(text="\n".join(lines), tool_calls=back)


_INPUT_RE = re.compile(r"<input[^>]*\bid=['\"]([^'\"]+)['\"]")
_BUTTON_RE = re.compile(r"<button[^>]*>([^<]+)</button>")
_RESULT_RE = re.compile(r"class=['\"]result['\"]>\s*<a[^>]*>([^<]+)</a>")


@dataclass(frozen=True)
class SearchPolicy(MarkerPolicy):
    """Browses the shop step by step (module docstring)."""

    name: str = "brand_seo.search_results"
    marker: str = SEARCH_MARKER

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        text = context_text(request)
        keywords = read_list(text, "Keywords")
        keyword = keywords[0] if keywords else _brand(request)[1]
        back = _transfer(ROOT, request)
        if not _offers(request, "go_to_url"):
            return self._without_browser(keyword, ctx, back)
        calls = [tc.name for tc in _own_calls(request)]
        tool, result = _last_result(request)
        page = result if isinstance(result, str) else ""
        if not calls:
            shop = re.search(r"Shop:[ \t]*(\S+)", text)
            return SimReply(tool_calls=(SimToolCall("go_to_url", {"url": shop.group(1) if shop else "http://shop.test/"}),))
        if tool != "get_page_source":
            if calls[-1] == "find_element_with_text":
                return self._report(keyword, self._last_results(request), ctx, back)
            return SimReply(tool_calls=(SimToolCall("get_page_source", {}),))
        results = _RESULT_RE.findall(page)
        if results or "No products found" in page:
            if "find_element_with_text" not in calls and results and ctx.rng.random() < 0.3:
                return SimReply(tool_calls=(SimToolCall("find_element_with_text", {"text": results[0]}),))
            return self._report(keyword, results, ctx, back)
        box, button = _INPUT_RE.search(page), _BUTTON_RE.search(page)
        if "enter_text_into_element" not in calls and box:
            return SimReply(tool_calls=(SimToolCall("enter_text_into_element",
                                                    {"text_to_enter": keyword, "element_id": box.group(1)}),))
        if button and calls.count("click_element_with_text") < 2:
            return SimReply(tool_calls=(SimToolCall("click_element_with_text", {"text": button.group(1).strip()}),))
        return self._report(keyword, [], ctx, back)

    @staticmethod
    def _last_results(request: SimRequest) -> list[str]:
        for m in reversed(request.messages):
            if m.role == "tool":
                try:
                    value = json.loads(m.content)
                except (TypeError, ValueError):
                    value = m.content
                page = value.get("result", "") if isinstance(value, dict) else str(value)
                found = _RESULT_RE.findall(str(page))
                if found:
                    return found
        return []

    @staticmethod
    def _report(keyword: str, results: list[str], ctx: PolicyContext, back: tuple[SimToolCall, ...]) -> SimReply:
        mode = _fails(ctx)
        if mode == "empty" or (mode is None and not results):
            text = "" if mode == "empty" else f'The shop shows no results for "{keyword}".'
            return SimReply(text=text, tool_calls=back)
        if mode == "underspecified":
            return SimReply(text=f'The shop lists several relevant products for "{keyword}".', tool_calls=back)
        shown = results[1:4] if mode == "wrong" else results[:3]
        lines = [f'Top results for "{keyword}":'] + [f"{i}. {t}" for i, t in enumerate(shown, 1)]
        return SimReply(text="\n".join(lines), tool_calls=back)

    @staticmethod
    def _without_browser(keyword: str, ctx: PolicyContext, back: tuple[SimToolCall, ...]) -> SimReply:
        mode = ctx.failure_mix.draw(ctx.rng)  # the results are not in its context: it cannot be right
        if mode == "empty":
            return SimReply(text="I cannot browse the shop in this session.", tool_calls=back)
        if mode == "underspecified":
            return SimReply(text=f'The shop probably lists a few popular products for "{keyword}".', tool_calls=back)
        titles = [f"{ctx.rng.choice(_INVENTED)} {keyword.title()}" for _ in range(3)]
        return SimReply(text="\n".join([f'Top results for "{keyword}":'] + [f"{i}. {t}" for i, t in enumerate(titles, 1)]),
                        tool_calls=back)


def _keyword_for(title: str, keywords: list[str]) -> str:
    words = set(title.lower().split())
    for k in keywords:
        if words & set(k.lower().split()):
            return k
    return keywords[0] if keywords else "best seller"


def _new_title(title: str, keyword: str, first: bool) -> str:
    if first:
        return f"{keyword.title()} | {title}"
    return title if keyword.lower() in title.lower() else f"{title} | {keyword.title()}"


@dataclass(frozen=True)
class GeneratorPolicy(MarkerPolicy):
    """Writes (or revises) one title suggestion per product."""

    name: str = "brand_seo.comparison_generator"
    marker: str = GENERATOR_MARKER

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        text = context_text(request)
        to_critic = _transfer(CRITIC, request)
        brand, _ = _brand(request)
        products = [p for p in read_list(text, "Products") if p.lower() != "unknown"] or [f"{brand} bestseller"]
        keywords = read_list(text, "Keywords")
        at_revise = text.rfind(REVISE)
        revising = at_revise >= 0 and at_revise > text.rfind("Suggested titles:")
        feedback = text[at_revise:].split("\n", 1)[0] if revising else ""
        before = dict(suggested_titles(text))
        mode = _fails(ctx)
        if mode == "empty":
            return SimReply(text="", tool_calls=to_critic)
        first = "keyword first" in feedback
        lines = []
        for p in products:
            named = revising and (p in feedback or first or "keyword" in feedback)
            if revising and p in before and not named:
                lines.append(f"- {p} -> {before[p]}")  # kept as it was
            elif (revising and named) or ctx.rng.random() < ctx.accuracy:
                keyword = _keyword_for(p, keywords)
                lines.append(f"- {p} -> {_new_title(p, keyword, first)}")
        if mode == "underspecified" or not lines:
            return SimReply(text="Suggested titles: clearer, keyword-rich titles would help every product.",
                            tool_calls=to_critic)
        return SimReply(text="Suggested titles:\n" + "\n".join(lines), tool_calls=to_critic)


@dataclass(frozen=True)
class CriticPolicy(MarkerPolicy):
    """Approves a complete draft or names what to fix."""

    name: str = "brand_seo.comparison_critic"
    marker: str = CRITIC_MARKER

    def respond(self, request: SimRequest, ctx: PolicyContext) -> SimReply:
        text = context_text(request)
        products = [p for p in read_list(text, "Products") if p.lower() != "unknown"]
        keywords = [k.lower() for k in read_list(text, "Keywords")]
        pairs = suggested_titles(text)
        asked = text.count(REVISE)
        missing = [p for p in products if p not in dict(pairs)]
        bare = [old for old, new in pairs if keywords and not any(k in new.lower() for k in keywords)]
        if asked >= 3 or (pairs and not missing and not bare and (asked or ctx.rng.random() >= ctx.strictness / 3)):
            return SimReply(text=APPROVED, tool_calls=_transfer(ROOT, request))
        if not pairs:
            why = "write one suggested title per product"
        elif missing or bare:
            why = "; ".join([f"add a title for {p}" for p in missing] + [f"add a keyword to {p}" for p in bare])
        else:
            why = "put the keyword first in every title"
        back = (SimToolCall(TRANSFER, {"agent_name": GENERATOR}),) if _offers(request, TRANSFER) else ()
        return SimReply(text=f"{REVISE} {why}", tool_calls=back)


POLICIES = (RootPolicy(), KeywordPolicy(), SearchPolicy(), GeneratorPolicy(), CriticPolicy())
"""The five policies, in registration order."""


def register_sim_policies() -> None:
    """Register Brand SEO's policies with the simulated service (idempotent)."""
    register_policies(POLICIES)
