"""The 8-bit KV cache for the transformers path: half the bytes of bf16, a small teacher-forced error."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from transformers.cache_utils import DynamicCache  # noqa: E402

from clinic_agents.kv_cache import cache_bytes, fp8_cache, teacher_forced_logits  # noqa: E402
from clinic_agents.transformers_doctor import TransformersDoctor  # noqa: E402

LINES = ["when did the cough start ?", "I have had a cough for days and a fever", "ORDER: chest x-ray",
         "EXAMINE: vitals , respiratory", "DIAGNOSE: pneumonia ; pulmonary embolism", "PLAN: antibiotics and review"]


@pytest.fixture(scope="module")
def trained(make_tiny_lm):
    """A two-layer model trained a little, in bf16 (its KV cache is the bf16 baseline)."""
    from clinic_agents.tiny_lm import fit

    model, tokenizer = make_tiny_lm(LINES * 5, layers=2, hidden=64)
    fit(model, tokenizer, " ".join(LINES * 3), steps=40)
    return model.to(torch.bfloat16).eval(), tokenizer, torch.tensor([tokenizer(" ".join(LINES * 3))["input_ids"]])


def test_fp8_cache_halves_the_bytes_with_a_small_teacher_forced_error(trained):
    model, _, data = trained
    reference_cache, cache = DynamicCache(config=model.config), fp8_cache(model.config)
    reference = teacher_forced_logits(model, data, reference_cache, prefill=8)
    logits = teacher_forced_logits(model, data, cache, prefill=8)
    assert cache.get_seq_length() == reference_cache.get_seq_length() == data.shape[1] - 1
    assert cache_bytes(cache) <= 0.51 * cache_bytes(reference_cache)
    error = float((logits - reference).norm() / reference.norm())
    assert 0 < error <= 0.02  # quantised (not exact), and close
    without_headroom = float((teacher_forced_logits(model, data, fp8_cache(model.config, headroom=1.0), 8)
                              - reference).norm() / reference.norm())
    assert error < without_headroom  # later tokens beyond the prefill's range no longer saturate
    with pytest.raises(ValueError, match="headroom must be >= 1"):
        fp8_cache(model.config, headroom=0.5)


def test_the_transformers_doctor_can_decode_with_the_fp8_cache(trained, monkeypatch):
    import clinic_agents.kv_cache

    model, tokenizer, _ = trained
    caches = []
    monkeypatch.setattr(clinic_agents.kv_cache, "fp8_cache", lambda config: caches.append(fp8_cache(config)) or caches[-1])
    doctor = TransformersDoctor(model, tokenizer, max_new_tokens=6, device="cpu", kv_cache="fp8")
    doctor.act("", {"messages": [{"role": "user", "content": "I have had a cough for days"}]})
    assert len(caches) == 1 and caches[0].layers[0].keys.dtype == torch.float8_e4m3fn
    assert caches[0].get_seq_length() >= len(doctor.last_prompt_ids) and doctor.last_completion_ids
    with pytest.raises(ValueError, match="kv_cache must be None or 'fp8'"):
        TransformersDoctor(model, tokenizer, kv_cache="int4")
