"""LangChain's ChatOpenAI against the simulated service."""

from __future__ import annotations

from typing import Literal

from langchain_openai import ChatOpenAI
from pydantic import BaseModel, Field

from maestro.tokens import END_OF_SEQUENCE_TOKENS as EOS
from maestro.tokens import count_tokens


class Citation(BaseModel):
    title: str
    year: int = Field(ge=1900, le=2030)


class Verdict(BaseModel):
    """A grader's verdict."""

    relevant: Literal["yes", "no"]
    reason: str
    score: float = Field(ge=0, le=1)
    citations: list[Citation]
    extra: str | None = None


def chat(url: str) -> ChatOpenAI:
    return ChatOpenAI(base_url=url, api_key="x", model="m", stream_usage=True, max_retries=0)


def test_invoke_and_stream_usage(oai_url, fresh):
    msg = chat(oai_url("oracle", 4, fresh())).invoke("Who wrote The Hobbit?")
    assert msg.content
    um = msg.usage_metadata
    assert um["output_tokens"] == count_tokens(msg.content) + EOS
    assert um["input_tokens"] > 0 and um["total_tokens"] == um["input_tokens"] + um["output_tokens"]
    chunks = list(chat(oai_url("oracle", 4, fresh())).stream("Who wrote The Hobbit?"))
    total = chunks[0]
    for ch in chunks[1:]:
        total = total + ch
    assert total.content == msg.content
    assert total.usage_metadata["output_tokens"] == um["output_tokens"]
    assert total.usage_metadata["input_tokens"] == um["input_tokens"]


def test_with_structured_output(oai_url, fresh):
    for seed in range(4):
        out = chat(oai_url("strong", seed, fresh())).with_structured_output(Verdict).invoke("Is this document relevant to Tolkien?")
        assert isinstance(out, Verdict)


def test_with_structured_output_function_calling(oai_url, fresh):
    out = chat(oai_url("strong", 1, fresh())).with_structured_output(Verdict, method="function_calling").invoke("grade it")
    assert isinstance(out, Verdict)


def test_bind_tools_forced(oai_url, fresh):
    def lookup(city: str, days: int) -> str:
        """Weather lookup."""
        return "sunny"

    msg = chat(oai_url("strong", 2, fresh())).bind_tools([lookup], tool_choice="lookup").invoke("Weather in Oslo?")
    (call,) = msg.tool_calls
    assert call["name"] == "lookup" and set(call["args"]) == {"city", "days"}
