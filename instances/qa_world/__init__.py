"""qa_world: a bundled, seeded synthetic multi-hop QA world for retrieval-centric MAS.

Everything is generated in code (no network, no data files): made-up entities and
relations, passages in a deliberately incomplete local corpus and a separate offline
"web" pool, 1- to 3-hop questions with gold answers and supporting passages, BM25 search
over both pools, SQuAD-style scoring, and a lookup that lets simulated-model policies ask
"is the gold answer in this context?".

Typical use::

    from maestro.instances.qa_world import load_tasks, retrieve, web_search
    from maestro.instances.qa_world.scoring import judge
"""

from __future__ import annotations

from .lookup import KnownQuestion, find_question, lookup_question, register_user_question
from .retriever import BM25Index, add_user_passages, index_for, retrieve, tokenize, web_search
from .scoring import contains_span, exact_match, judge, normalize_answer, token_f1
from .tasks import load_tasks, question_task, read_jsonl_tasks, stratified_sample
from .world import (
    DEFAULT_QUESTIONS_PER_HOP,
    DEFAULT_SEED,
    ENTITY_TYPES,
    HOP_KINDS,
    Entity,
    Fact,
    HopKind,
    Passage,
    Question,
    World,
    build_world,
    built_worlds,
)

__all__ = [
    "DEFAULT_QUESTIONS_PER_HOP",
    "DEFAULT_SEED",
    "ENTITY_TYPES",
    "HOP_KINDS",
    "Entity",
    "Fact",
    "HopKind",
    "Passage",
    "Question",
    "World",
    "build_world",
    "built_worlds",
    "load_tasks",
    "question_task",
    "read_jsonl_tasks",
    "stratified_sample",
    "BM25Index",
    "tokenize",
    "index_for",
    "retrieve",
    "web_search",
    "add_user_passages",
    "KnownQuestion",
    "lookup_question",
    "find_question",
    "register_user_question",
    "normalize_answer",
    "exact_match",
    "token_f1",
    "contains_span",
    "judge",
]
