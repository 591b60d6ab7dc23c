"""Magentic-One's agents: names, system prompts, descriptions and the task marker.

Each model-backed agent's system prompt opens with a marker sentence (``*_MARKER``) no
other role uses, so a simulated-model policy recognises the role from the system prompt
alone. The orchestrator has no system prompt of its own (AutoGen's ledger prompts arrive as
user messages named ``MagenticOneOrchestrator``); its simulated final answer is recognised
by AutoGen's final-answer prompt together with :data:`TASK_MARKER`, the sentence every
task of this instance ends with.
"""

from __future__ import annotations

__all__ = [
    "ORCHESTRATOR",
    "CODER",
    "TERMINAL",
    "FILE_SURFER",
    "AGENT_NAMES",
    "PARTICIPANTS",
    "CODER_MARKER",
    "FILE_SURFER_MARKER",
    "TASK_MARKER",
    "SYSTEM_PROMPTS",
    "DESCRIPTIONS",
    "FINAL_ANSWER_MARKER",
    "PROGRESS_LEDGER_MARKER",
]

ORCHESTRATOR = "MagenticOneOrchestrator"
"""The team's manager (AutoGen's fixed name): task and progress ledgers, final answer."""
CODER = "coder"
TERMINAL = "computer_terminal"
FILE_SURFER = "file_surfer"

PARTICIPANTS = (CODER, TERMINAL, FILE_SURFER)
"""The orchestrated agents, in the order they are given to the team."""
AGENT_NAMES = (ORCHESTRATOR, *PARTICIPANTS)
"""All four agents, orchestrator first."""

CODER_MARKER = "You are the coder of a Magentic-One team."
FILE_SURFER_MARKER = "You are the file surfer of a Magentic-One team."

TASK_MARKER = "Answer with a single number computed from the files in the team's document folder."
"""Closing sentence of every task (bundled or from a task file): the instance's requests
carry it, so its simulated orchestrator answers only this instance's teams."""

FINAL_ANSWER_MARKER = "Based on the information gathered, provide the final answer to the original request."
"""A sentence of AutoGen's ``ORCHESTRATOR_FINAL_ANSWER_PROMPT`` (agentchat 0.7)."""

PROGRESS_LEDGER_MARKER = "Please output an answer in pure JSON format according to the following schema."
"""A sentence of AutoGen's ``ORCHESTRATOR_PROGRESS_LEDGER_PROMPT`` (agentchat 0.7)."""

SYSTEM_PROMPTS = {
    CODER: (
        f"{CODER_MARKER} You solve data questions by writing Python. Work only from the file "
        "contents your teammates have shown in the conversation: put the data you need into the "
        "script, compute the answer and print it. Reply with exactly one ```python code block; the "
        "computer terminal runs it and reports what it printed. The terminal has no network and no "
        "access to the document folder. When the terminal has already printed the result, state it "
        "in one sentence without code."
    ),
    FILE_SURFER: (
        f"{FILE_SURFER_MARKER} You can list the files of the team's document folder and read them "
        "with your tools. Read the files the request names (list the folder first when it names "
        "none) so your teammates can see their contents. Never guess a file's contents."
    ),
}
"""System prompt of each model-backed participant (the terminal runs code and has none)."""

DESCRIPTIONS = {
    CODER: "A helpful assistant that writes Python code in a ```python block to compute answers from data "
           "shown in the conversation.",
    TERMINAL: "A computer terminal that runs the Python code blocks the coder writes and reports their output. "
              "It has no network and cannot see the document folder.",
    FILE_SURFER: "An agent that lists and reads the files of the team's document folder (CSV and text files) "
                 "and shows their contents.",
}
"""Agent descriptions (what the orchestrator's team description lists)."""
