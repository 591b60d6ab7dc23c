"""Brand SEO (ADK samples "brand-search-optimization") as an ADK MAS instance.

Paper Table 2: Marketing, ADK, Coordination, Artifacts in, Open-End out, suite F. A root
agent transfers (``transfer_to_agent``) to a keyword finder (product data in a local SQLite
database instead of BigQuery), a search-results agent with browser tools on a local shop
served on loopback per run (Playwright driving the system's Chromium when available, a
plain HTTP fetch client otherwise) and a comparison generator / critic pair.

Importing this package registers the simulated-model policies (cheap; no ADK import). The
ADK-dependent names (``INSTANCE``, ``BrandSeoInstance``, ``build_team``) load on first access.
"""

from __future__ import annotations

from maestro.instances._common import lazy_exports

from .browser import FETCH, PLAYWRIGHT, BrowserSession, choose_backend
from .catalog import BRANDS, product_details, products, search_listings, title_keywords, write_database
from .options import OPTIONS
from .prompts import AGENT_NAMES, BROWSER_TOOLS, PRODUCT_TOOL, format_question, read_list, suggested_titles, top_results
from .sim_policies import register_sim_policies
from .site import SHOP_URL, ShopSite
from .tasks import facts, judge, load_tasks

__all__ = [
    "INSTANCE", "OPTIONS", "BrandSeoInstance", "BRAND_SEO_INFO", "build_team", "register_sim_policies", "load_tasks",
    "judge", "facts", "BRANDS", "products", "product_details", "search_listings", "title_keywords", "write_database",
    "AGENT_NAMES", "BROWSER_TOOLS", "PRODUCT_TOOL", "format_question", "read_list", "suggested_titles", "top_results",
    "SHOP_URL", "ShopSite", "BrowserSession", "choose_backend", "PLAYWRIGHT", "FETCH",
]

__getattr__ = lazy_exports(
    __name__,
    {"BrandSeoInstance": ".instance", "BRAND_SEO_INFO": ".instance", "build_team": ".agents"},
    instance=(".instance", "BrandSeoInstance"),
)
"""PEP 562: framework-dependent names (and ``INSTANCE``) load on first use."""

register_sim_policies()
