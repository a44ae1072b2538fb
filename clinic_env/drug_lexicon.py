"""The drug lexicon: every name a doctor may write for a drug the case names, and drug classes.

A case names a drug in one spelling ("cefalexin") or a class ("anticoagulant"); a doctor may write
a US name (cephalexin), a brand (Keflex), an abbreviation (GTN) or a combination product holding
the drug (Bactrim DS holds trimethoprim). Two tables written for this project hold that knowledge:

- ``drug_names.json``: ``drugs``, groups of names of one drug (the INN first, then British and US
  approved names, common UK and US brands, unambiguous abbreviations; brands that are everyday
  words are left out), and ``products``, combination products with their names and the drugs they
  contain. A name belongs to one group only.
- ``drug_classes.json``: per class key its own words and its members' generic names.

Expansion reads one way: a drug's names reach every product that contains it (a contraindicated
drug is contraindicated inside co-codamol too), while a product's names never reach its
ingredients (naming co-codamol as harmful does not make paracetamol harmful).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

CLASSES_FILE = Path(__file__).with_name("drug_classes.json")
NAMES_FILE = Path(__file__).with_name("drug_names.json")

Names = list[str]


class _Product(BaseModel):
    model_config = ConfigDict(extra="forbid")

    names: list[str] = Field(min_length=1)
    contains: list[str] = Field(min_length=1, description="Names of groups in ``drugs``.")


class _NameTable(BaseModel):
    model_config = ConfigDict(extra="forbid")

    drugs: list[list[str]] = Field(min_length=1)
    products: list[_Product] = Field(default_factory=list)


def name_key(name: str) -> str:
    """A name as the grader's phrase patterns compare it: lower case, any run of spaces and hyphens
    one space ("co-codamol" is "co codamol")."""
    return re.sub(r"[\s\-]+", " ", name.lower()).strip()


def _group_index(groups: list[list[str]], source: str) -> dict[str, int]:
    """Each name's key -> its group; a name in two groups (or twice in one) is an error naming it."""
    owner: dict[str, int] = {}
    for i, group in enumerate(groups):
        if not group:
            raise ValueError(f"{source}: an empty group of names follows {groups[i - 1][0]!r}")
        for name in group:
            key = name_key(name)
            if not key:
                raise ValueError(f"{source}: an empty name in the group of {group[0]!r}")
            if key in owner:
                raise ValueError(f"{source}: {name!r} is in the group of {groups[owner[key]][0]!r} "
                                 f"and again in that of {group[0]!r}")
            owner[key] = i
    return owner


def _reach(table: _NameTable, source: str) -> dict[str, tuple[str, ...]]:
    """Each name's key -> the names of its drug, then those of every product containing that drug."""
    groups = [*table.drugs, *(p.names for p in table.products)]
    owner = _group_index(groups, source)
    containing: dict[int, list[int]] = defaultdict(list)
    for j, product in enumerate(table.products, start=len(table.drugs)):
        for drug in product.contains:
            i = owner.get(name_key(drug), len(groups))
            if i >= len(table.drugs):
                raise ValueError(f"{source}: product {product.names[0]!r} contains {drug!r}, which names no "
                                 "group of 'drugs'")
            containing[i].append(j)
    return {key: tuple(groups[i]) + tuple(name for j in containing[i] for name in groups[j])
            for key, i in owner.items()}


def load_drug_names(path: Path) -> dict[str, tuple[str, ...]]:
    """A name table (``drug_names.json``'s form) checked and indexed: each name's key -> the names
    it reaches. A malformed file, a name in two groups or a product containing no known drug is
    an error naming the file and the name."""
    try:
        table = _NameTable.model_validate_json(path.read_text(encoding="utf-8"))
    except ValidationError as exc:
        raise ValueError(f"{path.name}: {exc}") from None
    return _reach(table, path.name)


@lru_cache(maxsize=1)
def _name_reach() -> dict[str, tuple[str, ...]]:
    return load_drug_names(NAMES_FILE)


def expand_names(names: Names) -> Names:
    """``names`` and, for each drug among them, its other names and those of the products that
    contain it, each once (by ``name_key``); a name the lexicon does not know stays as it is."""
    reach = _name_reach()
    out: dict[str, str] = {}
    for name in names:
        for found in (name, *reach.get(name_key(name), ())):
            out.setdefault(name_key(found), found)
    return list(out.values())


@lru_cache(maxsize=1)
def drug_classes() -> dict[str, tuple[str, ...]]:
    """Every class key and its own names, as in ``drug_classes.json``."""
    table = json.loads(CLASSES_FILE.read_text(encoding="utf-8"))
    return {key: tuple(names) for key, names in table.items()}


def class_names(keys: Names) -> Names:
    """Every name of the classes ``keys`` and of their members (``expand_names``), each once; an
    unknown key is an error naming the known ones."""
    table = drug_classes()
    unknown = sorted(set(keys) - set(table))
    if unknown:
        raise ValueError(f"unknown drug classes {unknown}; known: {sorted(table)}")
    return expand_names([name for key in keys for name in table[key]])
