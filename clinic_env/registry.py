"""Named components resolved through entry-point strings ("package.module:Name").

As with Gymnasium's ``register(entry_point=...)``, a name maps to a string that is
imported only when used. This is how ``clinic-env run --doctor scripted`` reaches the
``clinic_agents`` package without ``clinic_env`` importing it.

A spec is one of:

- a registered name (``DOCTORS``, ``PATIENTS``, ``GRADERS``): ``"scripted"``, ``"offline"``;
- ``"scheme:ARGUMENT"`` for a registered scheme (``SCHEMES``), e.g. ``"llm:gpt-4.1"`` for a
  grader: the scheme's entry point is called with the argument;
- an entry point ``"package.module:Name"``: the object it names is called with no arguments.

``resolve`` turns a spec into a factory (a callable that builds a fresh component each
call, so a benchmark can give every episode its own doctor); ``make`` builds one.
"""

from __future__ import annotations

import functools
import importlib
from typing import Any, Callable

DOCTORS: dict[str, str] = {"scripted": "clinic_agents.scripted_doctor:ScriptedDoctor"}
PATIENTS: dict[str, str] = {"offline": "clinic_env.patient:OfflinePatient"}
GRADERS: dict[str, str] = {"offline": "clinic_rubrics.offline_grader:OfflineGrader"}

# Parameterised specs "scheme:ARGUMENT": the entry point is called with ARGUMENT (e.g. a model name).
SCHEMES: dict[str, dict[str, str]] = {
    "doctor": {"openai": "clinic_agents.openai_doctor:openai_doctor", "openai-tools": "clinic_agents.openai_doctor:openai_tools_doctor"},
    "patient": {"llm": "clinic_env.patient.llm:llm_patient"},
    "grader": {"llm": "clinic_env.harness:llm_grader"},
}
TABLES: dict[str, dict[str, str]] = {"doctor": DOCTORS, "patient": PATIENTS, "grader": GRADERS}


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


def _forms(kind: str) -> str:
    """The spec forms a kind accepts, for error messages."""
    schemes = sorted(SCHEMES[kind])
    scheme_text = f"a scheme {[s + ':ARG' for s in schemes]}, " if schemes else "(no 'scheme:ARG' forms yet), "
    return f"registered: {sorted(TABLES[kind])}, {scheme_text}or give 'package.module:Name'"


def resolve(kind: str, spec: str, **kwargs: Any) -> Callable[[], Any]:
    """A factory for the component ``spec`` names: each call builds a new one.

    The entry point is imported now, so a bad spec fails before anything runs.
    """
    if kind not in TABLES:
        raise ValueError(f"unknown component kind {kind!r}; known kinds: {sorted(TABLES)}")
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"a {kind} spec must be a non-empty string; {_forms(kind)}")
    table, schemes = TABLES[kind], SCHEMES[kind]
    if spec in table:
        return functools.partial(load_entry_point(table[spec]), **kwargs)
    prefix, sep, argument = spec.partition(":")
    if sep and prefix in schemes:
        if not argument.strip():
            raise ValueError(f"{kind} spec {spec!r} needs an argument after '{prefix}:', e.g. '{prefix}:MODEL'")
        return functools.partial(load_entry_point(schemes[prefix]), argument, **kwargs)
    if sep and "." in prefix and argument:
        return functools.partial(load_entry_point(spec), **kwargs)
    if sep and prefix.isidentifier():
        raise ValueError(f"unknown {kind} {spec!r}: {prefix!r} is not a known {kind} scheme "
                         f"(known schemes: {sorted(schemes) or 'none yet'}); {_forms(kind)}")
    raise ValueError(f"unknown {kind} {spec!r}; {_forms(kind)}")


def make(kind: str, spec: str, **kwargs: Any) -> Any:
    """Build a registered component: ``spec`` is a registered name, 'scheme:ARG' or an entry-point string."""
    return resolve(kind, spec, **kwargs)()
