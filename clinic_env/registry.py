"""Named components resolved through entry-point strings ("package.module:Name").

As with Gymnasium's ``register(entry_point=...)``, a name maps to a string that is
imported only when used. This is how ``clinic-env run --doctor scripted`` reaches the
``agents`` package without ``clinic_env`` importing it.
"""

from __future__ import annotations

import importlib
from typing import Any

DOCTORS: dict[str, str] = {"scripted": "agents.scripted_doctor:ScriptedDoctor"}
PATIENTS: dict[str, str] = {"offline": "clinic_env.patient:OfflinePatient"}


def load_entry_point(entry_point: str) -> Any:
    """The object an entry-point string names; errors say which part could not be found."""
    module_name, sep, attr = entry_point.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"entry point {entry_point!r} must look like 'package.module:Name'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise ImportError(f"entry point {entry_point!r}: cannot import {module_name!r} ({err})") from err
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ImportError(f"entry point {entry_point!r}: module {module_name!r} has no attribute {attr!r}") from None


def make(kind: str, spec: str, **kwargs: Any) -> Any:
    """Build a registered component: ``spec`` is a registered name or an entry-point string."""
    table = {"doctor": DOCTORS, "patient": PATIENTS}[kind]
    if spec in table:
        return load_entry_point(table[spec])(**kwargs)
    if ":" in spec and "." in spec.partition(":")[0]:
        return load_entry_point(spec)(**kwargs)
    raise ValueError(f"unknown {kind} {spec!r}; registered: {sorted(table)}, or give 'package.module:Name'")
