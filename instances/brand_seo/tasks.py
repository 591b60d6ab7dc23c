"""Brand SEO's tasks (one per brand of the catalog) and judge.

Judge (``judge``): three checks against the data, each explained in the reason:

* **keyword**: the report's ``Keywords:`` line names the brand's top keyword (the catalog's
  keyword rule, :func:`.catalog.title_keywords`, over the brand's product table);
* **results**: the report names at least two of the shop's top three results for that
  keyword (:func:`.catalog.search_listings`);
* **titles**: the ``Suggested titles:`` block has a line for every product of the brand,
  each new title containing one of the brand's keywords.

*correct* when all three hold, else *wrong*; ``score`` is the share passed. No report is
wrong; a brand not in the catalog is *unjudged*.
"""

from __future__ import annotations

from maestro.contract import JudgeResult, Task
from maestro.instances._common import seeded_sample, tasks_from_jsonl

from .catalog import BRANDS, products, search_listings, title_keywords
from .prompts import format_question, read_list, suggested_titles

__all__ = ["load_tasks", "task_for", "judge", "facts"]


def facts(brand: str) -> dict:
    """What the judge checks for ``brand``: its keywords, products and the shop's top three."""
    rows = products(brand)
    keywords = title_keywords(rows, brand)
    return {"brand": brand, "keywords": keywords, "products": [p.title for p in rows],
            "top_results": [li.title for li in search_listings(keywords[0], 3)] if keywords else []}


def task_for(task_id: str, brand: str) -> Task:
    """The task for ``brand`` (ValueError naming the known brands when it is not in the catalog)."""
    known = {b.lower(): b for b in BRANDS}
    name = known.get(brand.strip().lower())
    if name is None:
        raise ValueError(f"brand_seo task {task_id!r}: brand {brand!r} is not in the catalog; known: {', '.join(BRANDS)}")
    f = facts(name)
    gold = f"keyword {f['keywords'][0]!r}; top results {f['top_results']}"
    return Task(task_id=task_id, question=format_question(name, BRANDS[name][0]), gold=gold, meta=f)


def load_tasks(*, n: int | None = None, source: str | None = None, seed: int = 0) -> list[Task]:
    """One task per catalog brand, or ``source`` (JSONL: ``id``, ``brand``); a seeded sample of
    ``n`` when given."""
    if source:
        tasks = tasks_from_jsonl(source, "brand_seo", "id, brand", lambda tid, row: task_for(tid, str(row["brand"])))
    else:
        tasks = [task_for(f"seo-{i + 1:02d}", b) for i, b in enumerate(BRANDS)]
    return seeded_sample(tasks, n, seed)


def judge(task: Task, answer: str | None) -> JudgeResult:
    """Keyword, top results and suggested titles against the data (module docstring)."""
    meta = task.meta
    if not meta.get("keywords"):
        return JudgeResult("unjudged", "task has no catalog facts to check")
    text = answer or ""
    if not text.strip():
        return JudgeResult("wrong", "no report", score=0.0)
    low = text.lower()
    top = str(meta["keywords"][0])
    named = [k.lower() for k in read_list(text, "Keywords")]
    checks = [(top in named, f"top keyword {top!r} {'named' if top in named else 'not named'}")]
    hits = [t for t in meta["top_results"] if t.lower() in low]
    checks.append((len(hits) >= 2, f"{len(hits)}/3 of the shop's top results named"))
    pairs = suggested_titles(text)
    keywords = [str(k).lower() for k in meta["keywords"]]
    covered = [p for p in meta["products"] if any(old.lower() == p.lower() and any(k in new.lower() for k in keywords)
                                                  for old, new in pairs)]
    ok = len(covered) == len(meta["products"])
    checks.append((ok, f"{len(covered)}/{len(meta['products'])} products with a keyword title"))
    passed = sum(c for c, _ in checks)
    return JudgeResult("correct" if passed == len(checks) else "wrong", "; ".join(w for _, w in checks),
                       score=passed / len(checks))
