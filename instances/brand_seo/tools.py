"""Brand SEO's tools: ``get_product_details_for_brand`` (SQL over the run's SQLite product
table) and six browser tools over the run's :class:`.browser.BrowserSession`.

:func:`make_tools` builds them per run as ADK ``FunctionTool``s. The model sees each tool's
docstring (the same whichever browser backend runs, so the simulated replies do not depend
on the machine); :func:`label_browser_tools` writes the backend that actually drives the
pages into the browser tools' ``description``, which the ADK adapter records on every
``execute_tool`` span as ``gen_ai.tool.description`` (``... [browser: playwright-chromium]``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .browser import BrowserSession
from .catalog import product_details

__all__ = ["make_product_tool", "make_browser_tools", "label_browser_tools", "BROWSER_LABEL"]

BROWSER_LABEL = "[browser: {kind}]"
"""Appended to each browser tool's recorded description."""


def make_product_tool(db_path: str | Path) -> Any:
    """The keyword finder's tool over the SQLite file ``db_path``."""
    from google.adk.tools import FunctionTool

    def get_product_details_for_brand(brand: str) -> dict:
        """Look up a brand's products in the product database.

        Args:
            brand: the brand's name, e.g. "Trailmark".

        Returns:
            The brand's products (title, description, attributes), or an empty list for an unknown brand.
        """
        rows = product_details(db_path, brand)
        return {"brand": brand, "products": rows, "count": len(rows)}

    return FunctionTool(get_product_details_for_brand)


def make_browser_tools(session: BrowserSession) -> list[Any]:
    """The six browser tools (as ``FunctionTool``s) driving ``session``."""
    from google.adk.tools import FunctionTool

    async def go_to_url(url: str) -> str:
        """Navigate the browser to a URL.

        Args:
            url: the address to open, e.g. "http://shop.test/".
        """
        return await session.go_to_url(url)

    async def get_page_source() -> str:
        """Return the current page's HTML source (cut after a few thousand characters)."""
        return await session.get_page_source()

    async def enter_text_into_element(text_to_enter: str, element_id: str) -> str:
        """Type text into the input element with the given id.

        Args:
            text_to_enter: the text to type.
            element_id: the id attribute of the input element.
        """
        return await session.enter_text_into_element(text_to_enter, element_id)

    async def click_element_with_text(text: str) -> str:
        """Click the link or button whose text is exactly the given text.

        Args:
            text: the element's visible text.
        """
        return await session.click_element_with_text(text)

    async def find_element_with_text(text: str) -> str:
        """Check whether an element with the given text is on the page.

        Args:
            text: the text to look for.
        """
        return await session.find_element_with_text(text)

    async def scroll_down_screen() -> str:
        """Scroll the page down by a screen's part."""
        return await session.scroll_down_screen()

    return [FunctionTool(f) for f in (go_to_url, get_page_source, enter_text_into_element, click_element_with_text,
                                      find_element_with_text, scroll_down_screen)]


def label_browser_tools(tools: list[Any], kind: str) -> None:
    """Record ``kind`` (the backend driving the pages) in each browser tool's description."""
    for t in tools:
        base = (t.description or "").split(" [browser: ")[0]
        t.description = f"{base} {BROWSER_LABEL.format(kind=kind)}"
