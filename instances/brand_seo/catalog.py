"""Brand SEO's data: the brands' product catalog (a local SQLite database, standing in for
the sample's BigQuery table) and the listings of the local shop the search-results agent
browses.

Everything is fixed by this module (our own invented brands and products) and by
``LISTING_SEED``: the same database and the same shop on every machine. The catalog is
written to a SQLite file per run (:func:`write_database`) and read back with SQL by the
keyword finder's tool (:func:`product_details`).

Keyword rule (what the judge expects the keyword finder to find, from the catalog alone):
the two-word phrases of the brand's product titles (brand words and the one-word model
names left out), most frequent first, ties in alphabetical order (:func:`title_keywords`).
"""

from __future__ import annotations

import random
import re
import sqlite3
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BRANDS", "Product", "Listing", "LISTING_SEED", "products", "listings", "write_database",
           "product_details", "title_keywords", "search_listings", "brand_names"]

LISTING_SEED = 20250607
"""Seed of the shop's competitor listings."""


@dataclass(frozen=True)
class Product:
    """One row of the brands' product table."""

    brand: str
    title: str
    description: str
    attributes: str
    category: str


BRANDS: dict[str, tuple[str, tuple[tuple[str, str, str], ...]]] = {
    "Trailmark": ("footwear", (
        ("Trailmark Ridge Trail Running Shoes", "Lightweight shoes with a grippy outsole for muddy trails.", "sizes 38-47; slate"),
        ("Trailmark Flow Trail Running Shoes for Women", "Cushioned shoes for long trail runs.", "sizes 35-43; coral"),
        ("Trailmark Summit Waterproof Hiking Boots", "Ankle-high leather boots with a waterproof lining.", "sizes 38-47; brown"))),
    "Lumora": ("lighting", (
        ("Lumora Arc LED Desk Lamp", "A slim arm lamp with warm and cool light.", "12 W; USB-C"),
        ("Lumora Halo Dimmable LED Desk Lamp", "Ring-shaped lamp with five brightness steps.", "10 W; white"),
        ("Lumora Glow Bedside Table Lamp", "Soft fabric shade for reading in bed.", "E27; linen"))),
    "Brewhaus": ("coffee", (
        ("Brewhaus Drip Pour Over Coffee Maker", "Glass carafe with a reusable steel filter.", "800 ml"),
        ("Brewhaus Swan Pour Over Kettle", "Gooseneck kettle for a steady pour.", "1 l; stovetop"),
        ("Brewhaus Mill Burr Coffee Grinder", "Conical burrs with 30 grind settings.", "electric; black"))),
    "Pawsitive": ("pets", (
        ("Pawsitive Rest Orthopedic Dog Bed", "Memory foam bed for older dogs.", "M, L, XL; grey"),
        ("Pawsitive Nest Calming Dog Bed for Large Dogs", "Round bed with raised edges.", "L, XL; sand"),
        ("Pawsitive Tug Chew Proof Dog Toy", "Rubber toy for strong chewers.", "blue"))),
    "Nimbus Knit": ("apparel", (
        ("Nimbus Knit Alpine Merino Wool Sweater", "Fine-knit crew neck in soft merino.", "XS-XXL; navy"),
        ("Nimbus Knit Fjord Merino Wool Beanie", "Ribbed beanie that keeps its shape.", "one size; oat"),
        ("Nimbus Knit Meadow Cotton Crew Sweater", "Organic cotton sweater for spring.", "XS-XL; sage"))),
    "Kettle & Crumb": ("kitchen", (
        ("Kettle & Crumb Forge Cast Iron Skillet", "Pre-seasoned 26 cm skillet.", "26 cm; 2.4 kg"),
        ("Kettle & Crumb Hearth Enamel Cast Iron Dutch Oven", "Enamelled pot for slow cooking.", "4.5 l; red"),
        ("Kettle & Crumb Bake Nonstick Baking Sheet", "Carbon steel tray with a nonstick coat.", "40 x 30 cm"))),
}
"""Brand -> (category, ((title, description, attributes), ...)): the product table. Every title
is the brand, a one-word model name, then what the product is."""

_COMPETITORS = ("Peakstride", "Northvale", "Stoneway", "Brightfold", "Oakhollow", "Riverbend", "Solace", "Fernlight",
                "Harbor & Pine", "Copperleaf", "Everfield", "Quillmoor")
_EXTRAS = ("Lightweight", "Classic", "Premium", "Everyday", "Compact", "Deluxe", "Essential", "Pro")


def brand_names() -> list[str]:
    """The catalog's brands, in order."""
    return list(BRANDS)


def products(brand: str | None = None) -> list[Product]:
    """Every product of the table (of ``brand`` only, case-insensitive, when given)."""
    out: list[Product] = []
    for b, (category, rows) in BRANDS.items():
        if brand is None or b.lower() == brand.strip().lower():
            out.extend(Product(b, t, d, a, category) for t, d, a in rows)
    return out


_WORD_RE = re.compile(r"[a-z]+")


def title_keywords(rows: list[Product] | list[dict], brand: str, n: int = 3) -> list[str]:
    """The catalog's keywords for ``brand``: two-word phrases of the titles in ``rows``
    (dicts with ``title`` or ``Product``s), brand words and model names (the word after the
    brand) left out, most frequent first, ties alphabetical; the first ``n``."""
    skip = set(_WORD_RE.findall(brand.lower())) | {"for", "and", "with", "the", "of"}
    counts: Counter[str] = Counter()
    for r in rows:
        title = r["title"] if isinstance(r, dict) else r.title
        words = _WORD_RE.findall(str(title).lower())
        if words[: len(_WORD_RE.findall(brand.lower()))] == _WORD_RE.findall(brand.lower()):
            words = words[len(_WORD_RE.findall(brand.lower())) + 1:]  # the brand, then its model name
        words = [w for w in words if w not in skip]
        counts.update({f"{a} {b}" for a, b in zip(words, words[1:])})
    return [k for k, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))][:n]


@dataclass(frozen=True)
class Listing:
    """One product page of the local shop."""

    listing_id: int
    title: str
    price: float


def listings() -> list[Listing]:
    """The shop's listings: every catalog product, and competitors' products named after
    each brand's keywords (drawn with ``LISTING_SEED``), in id order."""
    rng = random.Random(LISTING_SEED)
    titles = [p.title for p in products()]
    for brand in BRANDS:
        for keyword in title_keywords(products(brand), brand):
            added = 0
            while added < 3:
                title = f"{rng.choice(_COMPETITORS)} {rng.choice(_EXTRAS)} {keyword.title()}"
                if title not in titles:
                    titles.append(title)
                    added += 1
    rng.shuffle(titles)
    return [Listing(i + 1, t, round(rng.uniform(12, 180), 2)) for i, t in enumerate(titles)]


def search_listings(query: str, k: int = 10) -> list[Listing]:
    """The shop's search: listings holding the most of the query's words (at least one),
    then by id; the first ``k``."""
    words = set(_WORD_RE.findall((query or "").lower()))
    scored = [(len(words & set(_WORD_RE.findall(li.title.lower()))), li) for li in listings()]
    hits = [(s, li) for s, li in scored if s > 0]
    hits.sort(key=lambda x: (-x[0], x[1].listing_id))
    return [li for _, li in hits[:k]]


def write_database(path: str | Path) -> Path:
    """Write the product table to a new SQLite file at ``path`` (replacing one there)."""
    path = Path(path)
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE products (brand TEXT, title TEXT, description TEXT, attributes TEXT, category TEXT)")
        con.executemany("INSERT INTO products VALUES (?, ?, ?, ?, ?)",
                        [(p.brand, p.title, p.description, p.attributes, p.category) for p in products()])
    con.close()
    return path


def product_details(path: str | Path, brand: str) -> list[dict]:
    """Rows of ``brand`` (case-insensitive) from the SQLite file at ``path``, by SQL."""
    con = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)
    try:
        cur = con.execute("SELECT title, description, attributes, brand FROM products "
                          "WHERE lower(brand) = lower(?) ORDER BY rowid", (brand.strip(),))
        return [{"title": t, "description": d, "attributes": a, "brand": b} for t, d, a, b in cur.fetchall()]
    finally:
        con.close()
