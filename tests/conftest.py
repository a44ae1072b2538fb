"""Shared fixtures: the builtin library and small helpers for driving the envs."""

from __future__ import annotations

import pytest

from clinic_env.cases.library import builtin_cases, get_case


@pytest.fixture(scope="session")
def cases():
    return builtin_cases()


@pytest.fixture(scope="session")
def pneumonia_case():
    """The hand-written exemplar case; tests that need exact facts use it."""
    return get_case("pulm_cap_adult")
