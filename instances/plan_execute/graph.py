"""The Plan-and-Execute graph: planner, executor (a ReAct loop over the search tools) and
replanner as LangGraph nodes.

Control flow::

    START -> planner -> executor -> replanner
    replanner -> END        when it answers ("Answer: ...")
              -> executor   when it revises the remaining plan ("Plan: ...")

The replanner decides alone when the work is done, so a replanner that keeps distrusting a
correct intermediate result sends the team round the executor/replanner loop again and
again (the MAESTRO paper's section 5.2 failure). Nothing in the graph caps that loop except
``max_replans`` (None: no cap, as in the paper); the run's time cap ends it as a timeout.

The executor is a ReAct agent: the model sees the step with the tools bound, calls tools,
reads their results and repeats, until it replies without a tool call (at most
``max_tool_rounds`` tool rounds, then it must answer). Tools are the local retriever always
and web search only when tools are enabled: with tools off the web tool is neither bound
nor callable. Every node passes the run's ``config`` to its model and tool calls so
callbacks reach them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypedDict

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from langgraph.graph import END, START, StateGraph

from maestro.instances._common import message_text

from .prompts import (
    EXECUTOR_SYSTEM,
    PLANNER_SYSTEM,
    format_executor_input,
    format_planner_input,
    format_replanner_input,
    parse_plan,
    parse_replan,
    replanner_system,
)

__all__ = ["PLANNER", "EXECUTOR", "REPLANNER", "AGENT_NODES", "PlanExecuteState", "build_graph", "message_text",
           "strip_result"]

PLANNER = "planner"
EXECUTOR = "executor"
REPLANNER = "replanner"
AGENT_NODES = (PLANNER, EXECUTOR, REPLANNER)
"""The three agents (graph nodes)."""


class PlanExecuteState(TypedDict, total=False):
    """The graph's state. Every node returns only the keys it changes."""

    question: str
    """The user question."""
    plan: list[str]
    """The planner's original plan (shown to the executor and replanner)."""
    remaining: list[str]
    """Steps still to do; the executor takes the first."""
    past_steps: list[tuple[str, str]]
    """(step, result) of every executed step, in order."""
    replans: int
    """How many times the replanner revised the plan instead of answering."""
    response: str
    """The final answer (set by the replanner; '' for an explicit empty answer)."""


def strip_result(text: str) -> str:
    """An executor reply without its 'Result:' label (first line kept whole)."""
    t = (text or "").strip()
    return t[len("Result:"):].strip() if t.lower().startswith("result:") else t


def build_graph(
    llm: BaseChatModel,
    tools: Sequence[BaseTool],
    *,
    max_tool_rounds: int = 3,
    max_replans: int | None = None,
    strict_replanner: bool = False,
    name: str = "plan_execute",
) -> Any:
    """Compile the Plan-and-Execute graph around any tool-calling chat model.

    Args:
        llm: the chat model (all three roles share it, as in the paper's setup).
        tools: the executor's tools (the local retriever, plus web search when enabled).
        max_tool_rounds: tool rounds per executed step before the executor must answer.
        max_replans: cap on plan revisions (None: uncapped; the run's time cap ends loops).
        strict_replanner: tell the replanner to demand verification before answering.
    """
    if not tools:
        raise ValueError("the executor needs at least one tool (the local retriever)")
    if max_tool_rounds < 1 or (max_replans is not None and max_replans < 0):
        raise ValueError("max_tool_rounds must be >= 1 and max_replans >= 0 (or None)")
    by_name = {t.name: t for t in tools}
    executor_llm = llm.bind_tools(tools)
    replan_prompt = replanner_system(strict_replanner)

    def planner(state: PlanExecuteState, config: RunnableConfig) -> dict[str, Any]:
        reply = llm.invoke([SystemMessage(content=PLANNER_SYSTEM),
                            HumanMessage(content=format_planner_input(state["question"]))], config=config)
        steps = parse_plan(message_text(reply)) or [state["question"]]
        return {"plan": steps, "remaining": steps, "past_steps": [], "replans": 0}

    def executor(state: PlanExecuteState, config: RunnableConfig) -> dict[str, Any]:
        remaining = list(state.get("remaining") or [state["question"]])
        step = remaining[0]
        past = list(state.get("past_steps") or [])
        messages: list[BaseMessage] = [
            SystemMessage(content=EXECUTOR_SYSTEM),
            HumanMessage(content=format_executor_input(state["question"], state.get("plan") or [], past, step)),
        ]
        reply: AIMessage = executor_llm.invoke(messages, config=config)
        rounds = 0
        while getattr(reply, "tool_calls", None) and rounds < max_tool_rounds:
            messages.append(reply)
            for call in reply.tool_calls:
                tool = by_name.get(call["name"])
                if tool is None:  # a model may name a tool it was not given: tell it so
                    messages.append(ToolMessage(content=f"unknown tool {call['name']!r}", tool_call_id=call["id"]))
                    continue
                messages.append(tool.invoke(call, config=config))
            rounds += 1
            # After the last allowed round the tools are withheld, so the model must answer.
            model = executor_llm if rounds < max_tool_rounds else llm
            reply = model.invoke(messages, config=config)
        result = strip_result(message_text(reply))
        return {"past_steps": past + [(step, result)], "remaining": remaining[1:]}

    def replanner(state: PlanExecuteState, config: RunnableConfig) -> dict[str, Any]:
        reply = llm.invoke([SystemMessage(content=replan_prompt),
                            HumanMessage(content=format_replanner_input(state["question"], state.get("plan") or [],
                                                                        state.get("past_steps") or []))],
                           config=config)
        answer, steps = parse_replan(message_text(reply))
        replans = state.get("replans", 0)
        if answer is None and max_replans is not None and replans >= max_replans:
            # Out of revisions: the last result stands as the answer.
            past = state.get("past_steps") or []
            answer = past[-1][1] if past else ""
        if answer is not None:
            return {"response": answer}
        return {"remaining": steps, "replans": replans + 1}

    def after_replanner(state: PlanExecuteState) -> str:
        return END if state.get("response") is not None else EXECUTOR

    g = StateGraph(PlanExecuteState)
    g.add_node(PLANNER, planner)
    g.add_node(EXECUTOR, executor)
    g.add_node(REPLANNER, replanner)
    g.add_edge(START, PLANNER)
    g.add_edge(PLANNER, EXECUTOR)
    g.add_edge(EXECUTOR, REPLANNER)
    g.add_conditional_edges(REPLANNER, after_replanner, [EXECUTOR, END])
    return g.compile(name=name)
