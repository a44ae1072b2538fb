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


CORPUS = ["ASK: when did the pain start ?", "EXAMINE: vitals , respiratory", "ORDER: chest x-ray",
          "DIAGNOSE: pneumonia ; pulmonary embolism", "PLAN: antibiotics and review", "I have had a cough for days"]


def tiny_lm(corpus, layers=1, hidden=32):
    """``clinic_agents.tiny_lm.tiny_lm``: a Llama built from a config and a word-level tokenizer over
    ``corpus`` (skipped where torch / transformers are not installed)."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from clinic_agents.tiny_lm import tiny_lm as build

    return build(corpus, layers=layers, hidden=hidden)


@pytest.fixture(scope="session")
def make_tiny_lm():
    """``tiny_lm``, for tests that need a tiny model with a vocabulary of their own."""
    return tiny_lm


@pytest.fixture(scope="module")
def tiny_doctor_parts():
    """A one-layer Llama and a tokenizer trained on a few doctor's lines: (model, tokenizer)."""
    return tiny_lm(CORPUS * 5)
