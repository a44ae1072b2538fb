"""Shared fixtures: the builtin library and small helpers for driving the envs."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from clinic_env.cases.library import builtin_cases, get_case

# Fuzz tests draw the same examples on every run: CI stays reproducible, and a failure
# found once can be replayed. Run with HYPOTHESIS_PROFILE=explore to search afresh.
settings.register_profile("repeatable", derandomize=True, deadline=None)
settings.register_profile("explore", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


@pytest.fixture(scope="session")
def cases():
    return builtin_cases()


@pytest.fixture(scope="session")
def pneumonia_case():
    """The hand-written exemplar case; tests that need exact facts use it."""
    return get_case("pulm_cap_adult")
