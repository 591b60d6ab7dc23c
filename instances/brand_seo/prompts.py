"""Brand SEO's agent names, prompts, and the labelled lines the agents write.

The system follows the ADK sample "brand-search-optimization": a root agent routes the
work with ``transfer_to_agent`` to a keyword finder (product data from a database), a
search-results agent (browser tools on a shop's website) and a comparison generator and
critic (the sample nests them under a comparison root; here they are the root's
sub-agents and hand over to each other as peers).

Each instruction opens with a marker sentence (``*_MARKER``) no other agent uses, so a
simulated-model policy recognises the role from the system prompt alone. The agents write
labelled lines (``Keywords:``, ``Products:``, ``Top results for``, ``Suggested titles:``,
``APPROVED`` / ``REVISE:``); the readers here are the single definition of that layout
for the policies, the root's report and the judge. Framework-free.
"""

from __future__ import annotations

import re

from .site import SHOP_URL

__all__ = [
    "ROOT", "KEYWORDS", "SEARCH", "GENERATOR", "CRITIC", "AGENT_NAMES", "SPECIALISTS", "TRANSFER",
    "ROOT_MARKER", "KEYWORDS_MARKER", "SEARCH_MARKER", "GENERATOR_MARKER", "CRITIC_MARKER",
    "PRODUCT_TOOL", "BROWSER_TOOLS", "APPROVED", "REVISE", "instructions", "DESCRIPTIONS", "format_question",
    "parse_question", "read_list", "top_results", "suggested_titles", "REPORT_HEADING",
]

ROOT = "brand_seo_coordinator"
KEYWORDS = "keyword_finder"
SEARCH = "search_results"
GENERATOR = "comparison_generator"
CRITIC = "comparison_critic"
AGENT_NAMES = (ROOT, KEYWORDS, SEARCH, GENERATOR, CRITIC)
SPECIALISTS = (KEYWORDS, SEARCH, GENERATOR)
"""The agents the root routes to, in order (the generator works with the critic)."""
TRANSFER = "transfer_to_agent"

PRODUCT_TOOL = "get_product_details_for_brand"
BROWSER_TOOLS = ("go_to_url", "get_page_source", "enter_text_into_element", "click_element_with_text",
                 "find_element_with_text", "scroll_down_screen")

ROOT_MARKER = "You lead a brand search optimisation team for an online shop."
KEYWORDS_MARKER = "You find the search keywords of a brand's products."
SEARCH_MARKER = "You research the shop's search results with a web browser."
GENERATOR_MARKER = "You write product title comparisons and suggestions."
CRITIC_MARKER = "You review product title suggestions."

APPROVED = "APPROVED"
REVISE = "REVISE:"
REPORT_HEADING = "# Brand SEO report for"


def instructions(tools_enabled: bool) -> dict[str, str]:
    """Each agent's instruction (its system prompt in ADK), with or without tools."""
    back = f"Then hand control back with transfer_to_agent(agent_name='{ROOT}')."
    if tools_enabled:
        kw = (f"{KEYWORDS_MARKER} Call {PRODUCT_TOOL} with the brand's name, read its product titles and reply "
              "with two lines: 'Keywords: <phrase>; <phrase>; <phrase>' (the two-word phrases shoppers would search "
              "for, the one most frequent in the titles first) and 'Products: <title>; <title>; ...' (the brand's "
              f"product titles as listed). {back}")
        search = (f"{SEARCH_MARKER} Search the shop at {SHOP_URL} for the first keyword the keyword finder found: "
                  "go_to_url, get_page_source to see the page, enter_text_into_element to type the keyword into the "
                  "search box, click_element_with_text on the search button, then get_page_source to read the "
                  "results. Reply with a line 'Top results for \"<keyword>\":' and the first three result titles, "
                  f"one per line as '1. <title>'. {back}")
    else:
        kw = (f"{KEYWORDS_MARKER} No product database is available: from the brand's category, reply with "
              f"'Keywords: <phrase>; <phrase>; <phrase>' and 'Products: <what you know of them>'. {back}")
        search = (f"{SEARCH_MARKER} No browser is available in this session: say what you expect the shop at "
                  f"{SHOP_URL} to show for the first keyword, as 'Top results for \"<keyword>\":' and up to three "
                  f"lines '1. <title>'. {back}")
    return {
        ROOT: (f"{ROOT_MARKER} The user names a brand. Work through your team one at a time with "
               f"transfer_to_agent: {KEYWORDS} for the brand's keywords, {SEARCH} for the shop's top results for "
               f"the first keyword, {GENERATOR} for title suggestions (it works with {CRITIC}). When the critic has "
               f"approved, reply to the user with the report: a first line '{REPORT_HEADING} <Brand>', then the "
               "'Keywords:' line, the top results and the 'Suggested titles:' block as your team wrote them."),
        KEYWORDS: kw,
        SEARCH: search,
        GENERATOR: (f"{GENERATOR_MARKER} Compare the brand's product titles ('Products:') with the shop's top "
                    "results and write a block 'Suggested titles:' with one line per product of the brand, "
                    "'- <current title> -> <new title>', every new title containing one of the keywords. When the "
                    f"critic asked for a revision ('{REVISE} ...'), fix what it names. Then hand over with "
                    f"transfer_to_agent(agent_name='{CRITIC}')."),
        CRITIC: (f"{CRITIC_MARKER} Check the latest 'Suggested titles:' block: one line per product of the brand, "
                 f"every new title containing one of the keywords. If it passes, reply '{APPROVED}' and hand over "
                 f"with transfer_to_agent(agent_name='{ROOT}'); otherwise reply '{REVISE} <what to fix>' and hand "
                 f"over with transfer_to_agent(agent_name='{GENERATOR}')."),
    }


DESCRIPTIONS = {
    ROOT: "Routes the brand's request through the team and writes the report.",
    KEYWORDS: "Finds the search keywords of a brand from its product data.",
    SEARCH: "Reads the shop's top search results for a keyword with a browser.",
    GENERATOR: "Suggests better product titles from the keywords and the top results.",
    CRITIC: "Reviews the suggested titles and approves them or asks for a revision.",
}


def format_question(brand: str, category: str) -> str:
    """The user message of a task."""
    return (f"Brand: {brand}\nCategory: {category}\nShop: {SHOP_URL}\n\nFind the keywords shoppers use for our "
            "products, check the shop's top search results for the best one and suggest better product titles.")


def parse_question(text: str) -> tuple[str, str]:
    """``(brand, category)`` of a task message ('' when absent)."""
    brand = re.search(r"^Brand:[ \t]*(.+)$", text or "", re.MULTILINE)
    category = re.search(r"^Category:[ \t]*(.+)$", text or "", re.MULTILINE)
    return (brand.group(1).strip() if brand else "", category.group(1).strip() if category else "")


def read_list(text: str, label: str) -> list[str]:
    """Items of the last ``<label>: a; b; c`` line in ``text`` (empty when there is none)."""
    found = re.findall(rf"\b{re.escape(label)}:[ \t]*([^\n]*)", text or "")
    return [x.strip() for x in found[-1].split(";") if x.strip()] if found else []


def top_results(text: str) -> tuple[str, list[str]]:
    """``(keyword, titles)`` of the last ``Top results for "<keyword>":`` block in ``text``."""
    blocks = list(re.finditer(r'Top results for "([^"\n]*)":[ \t]*\n((?:[ \t]*\d+\.[^\n]*\n?)*)', text or ""))
    if not blocks:
        return "", []
    m = blocks[-1]
    return m.group(1).strip(), [re.sub(r"^\s*\d+\.\s*", "", ln).strip() for ln in m.group(2).splitlines() if ln.strip()]


def suggested_titles(text: str) -> list[tuple[str, str]]:
    """``(current, new)`` pairs of the last ``Suggested titles:`` block in ``text``."""
    blocks = list(re.finditer(r"Suggested titles:[ \t]*\n((?:[ \t]*-[^\n]*\n?)*)", text or ""))
    if not blocks:
        return []
    pairs = []
    for ln in blocks[-1].group(1).splitlines():
        body = ln.strip().removeprefix("-").strip()
        if "->" in body:
            old, new = body.split("->", 1)
            pairs.append((old.strip(), new.strip()))
    return pairs
