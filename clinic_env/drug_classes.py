"""Drug classes: each class key -> the names a doctor may write for it or its members.

A case names a contraindicated or first-line class ("anticoagulant") rather than spelling out
every member, so "start enoxaparin" meets an anticoagulant contraindication and "give Clexane"
does too. The table (``drug_classes.json``, written for this project) lists per class its own
words and its members' generic and common brand names; a drug may be in several classes
(aspirin is an antiplatelet and an NSAID).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

CLASSES_FILE = Path(__file__).with_name("drug_classes.json")


@lru_cache(maxsize=1)
def drug_classes() -> dict[str, tuple[str, ...]]:
    """Every class key and its names, as in ``drug_classes.json``."""
    table = json.loads(CLASSES_FILE.read_text(encoding="utf-8"))
    return {key: tuple(names) for key, names in table.items()}


def class_names(keys: list[str]) -> list[str]:
    """The names of every member of the classes ``keys``, each once; an unknown key is an error
    naming the known ones."""
    table = drug_classes()
    unknown = sorted(set(keys) - set(table))
    if unknown:
        raise ValueError(f"unknown drug classes {unknown}; known: {sorted(table)}")
    return list(dict.fromkeys(name for key in keys for name in table[key]))
