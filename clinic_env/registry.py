"""Named components: built-in names, names other packages register, and entry-point strings.

As with Gymnasium's ``register(entry_point=...)``, a name maps to a string that is
imported only when used. ``clinic_env`` names only its own components (the offline
patient and grader, the LLM patient and judge); other installed packages add theirs
through Python package entry points, e.g. in setup.cfg::

    [options.entry_points]
    clinic_env.doctors =
        scripted = clinic_agents.scripted_doctor:ScriptedDoctor
    clinic_env.doctor_schemes =
        openai = clinic_agents.openai_doctor:openai_doctor

so ``clinic-env bench --doctor scripted`` reaches ``clinic_agents`` without this layer
naming it. The groups are ``clinic_env.{doctors,patients,graders}`` and
``clinic_env.{doctor,patient,grader}_schemes``.

A spec is one of:

- a registered name: ``"scripted"``, ``"offline"``;
- ``"scheme:ARGUMENT"`` for a registered scheme, e.g. ``"llm:gpt-4.1"`` for a grader: the
  scheme's entry point is called with the argument;
- an entry point ``"package.module:Name"``: the object it names is called with no arguments.

``resolve`` turns a spec into a factory (a callable that builds a fresh component each
call, so a benchmark can give every episode its own doctor); ``make`` builds one.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

KINDS = ("doctor", "patient", "grader")
BUILTIN_NAMES: dict[str, dict[str, str]] = {
    "doctor": {},
    "patient": {"offline": "clinic_env.patient:OfflinePatient"},
    "grader": {"offline": "clinic_rubrics.offline_grader:OfflineGrader"},
}
# Parameterised specs "scheme:ARGUMENT": the entry point is called with ARGUMENT (e.g. a model name).
BUILTIN_SCHEMES: dict[str, dict[str, str]] = {
    "doctor": {},
    "patient": {"llm": "clinic_env.patient.llm:llm_patient"},
    "grader": {"llm": "clinic_env.bench:llm_grader"},
}


def names(kind: str) -> dict[str, str]:
    """Registered names of a kind: the built-in ones and those installed packages register."""
    return {**BUILTIN_NAMES[kind], **_registered(f"clinic_env.{kind}s")}


def schemes(kind: str) -> dict[str, str]:
    """Registered 'scheme:ARG' forms of a kind, built-in and installed."""
    return {**BUILTIN_SCHEMES[kind], **_registered(f"clinic_env.{kind}_schemes")}


def _registered(group: str) -> dict[str, str]:
    return {ep.name: ep.value for ep in entry_points(group=group)}


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
    forms = sorted(schemes(kind))
    scheme_text = f"a scheme {[s + ':ARG' for s in forms]}, " if forms else "(no 'scheme:ARG' forms yet), "
    return f"registered: {sorted(names(kind))}, {scheme_text}or give 'package.module:Name'"


def resolve(kind: str, spec: str, **kwargs: Any) -> Callable[[], Any]:
    """A factory for the component ``spec`` names: each call builds a new one.

    The entry point is imported now, so a bad spec fails before anything runs.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown component kind {kind!r}; known kinds: {sorted(KINDS)}")
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"a {kind} spec must be a non-empty string; {_forms(kind)}")
    table, scheme_table = names(kind), schemes(kind)
    if spec in table:
        return functools.partial(load_entry_point(table[spec]), **kwargs)
    prefix, sep, argument = spec.partition(":")
    if sep and prefix in scheme_table:
        if not argument.strip():
            raise ValueError(f"{kind} spec {spec!r} needs an argument after '{prefix}:', e.g. '{prefix}:MODEL'")
        return functools.partial(load_entry_point(scheme_table[prefix]), argument, **kwargs)
    if sep and "." in prefix and argument:
        return functools.partial(load_entry_point(spec), **kwargs)
    if sep and prefix.isidentifier():
        raise ValueError(f"unknown {kind} {spec!r}: {prefix!r} is not a known {kind} scheme "
                         f"(known schemes: {sorted(scheme_table) or 'none yet'}); {_forms(kind)}")
    raise ValueError(f"unknown {kind} {spec!r}; {_forms(kind)}")


def make(kind: str, spec: str, **kwargs: Any) -> Any:
    """Build a registered component: ``spec`` is a registered name, 'scheme:ARG' or an entry-point string."""
    return resolve(kind, spec, **kwargs)()
