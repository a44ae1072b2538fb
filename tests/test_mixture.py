"""The mixer: readers, token shares that follow the weights, streaming, cycling, seeds, state, specs."""

from __future__ import annotations

import itertools
import json
import logging
import sys
import types
from collections import Counter

import pytest

pytest.importorskip("transformers")

from clinic_agents.mixture import Mixture, Source, jsonl_file, records, source_from_spec, text_file  # noqa: E402
from clinic_agents.reasoning_notes import add_note_tokens  # noqa: E402

WORDS = ["the patient with fever was given fluids and rest", "a dog walked to the river in the morning",
         "two plus three equals five", "fever suggests infection"]
LONG = " ".join(["the patient with fever was given fluids and rest ."] * 6)  # 60 tokens


@pytest.fixture(scope="module")
def tokenizer(make_tiny_lm):
    model, tokenizer = make_tiny_lm(WORDS)
    add_note_tokens(tokenizer, model)
    return tokenizer


def texts(reader, offset=0):
    return [text for text, _ in reader(offset)]


def test_text_files_split_by_paragraph_or_line_and_resume_from_a_byte_offset(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("first line one\nline two\n\n\nsecond\n\nthird  \n", encoding="utf-8")
    by_paragraph = list(text_file(path)(0))
    assert [t for t, _ in by_paragraph] == ["first line one line two", "second", "third"]
    assert texts(text_file(path), by_paragraph[0][1]) == ["second", "third"]  # from where the first ended
    assert texts(text_file(path, by="line")) == ["first line one", "line two", "second", "third"]
    with pytest.raises(ValueError, match="by must be 'paragraph' or 'line'"):
        text_file(path, by="word")


def test_jsonl_files_and_iterables_read_their_text_field(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"body": "one"}\n\n"two"\n{"body": "three", "id": 3}\n', encoding="utf-8")
    read = jsonl_file(path, field="body")
    assert texts(read) == ["one", "two", "three"]
    assert texts(read, list(read(0))[1][1]) == ["three"]
    with pytest.raises(ValueError, match=r"a\.jsonl \(the record ending at byte 16\): no text field 'text'"):
        texts(jsonl_file(path))
    (tmp_path / "bad.jsonl").write_text('{"text": "one"}\n{"text": \n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.jsonl \(the record ending at byte 26\): not JSON"):
        texts(jsonl_file(tmp_path / "bad.jsonl"))
    assert texts(records([{"text": "a"}, "b", {"text": "  "}, {"text": "c"}])) == ["a", "b", "c"]
    assert list(records(["a", "b", "c"])(1)) == [("b", 2), ("c", 3)]


def test_default_weights_and_kl_follow_the_kind():
    medical, general, math = (Source(kind, records(["x"]), kind=kind) for kind in ("medical", "general", "math"))
    assert (medical.weight, general.weight, math.weight) == (2.0, 2.0, 1.0)
    assert (medical.kl, general.kl, math.kl) == (False, True, True)
    assert Source("m", records(["x"]), kind="medical", kl=True).kl
    with pytest.raises(ValueError, match="weight: source 'code' of kind 'code' needs one"):
        Source("code", records(["x"]), kind="code")
    with pytest.raises(ValueError, match="needs a weight > 0"):
        Source("g", records(["x"]), weight=0)


def test_the_token_shares_follow_the_weights_whatever_the_document_lengths(tokenizer):
    """2 : 2 : 1 per token, with medical documents 12 times as long as general ones (and notes,
    whose examples leave padding), so that a per-document mixture would be far off."""
    medical = [LONG + " <note> fever suggests infection </note> the patient was given rest ."] * 3
    sources = [Source("medical", records(medical), kind="medical"),
               Source("general", records(["a dog walked to"] * 3), kind="general"),
               Source("math", records(["two plus three equals five ."] * 3), kind="math")]
    mixture = Mixture(sources, tokenizer, seq_len=32, seed=0)
    blocks = [mixture.next_block() for _ in range(400)]
    tokens = Counter()
    for block in blocks:
        tokens[block.source] += block.tokens
    shares = {name: tokens[name] / sum(tokens.values()) for name in tokens}
    assert shares == pytest.approx({"medical": 0.4, "general": 0.4, "math": 0.2}, abs=0.02), shares
    assert tokens == Counter(mixture.tokens)
    assert sum(b.padding for b in blocks if b.source == "medical") > 0  # padding is not counted
    state = mixture.state_dict()["streams"]
    documents = {name: mixture.passes[name] * 3 + state[name]["offset"] for name in tokens}
    assert documents["general"] / sum(documents.values()) > 0.6  # documents are far from 2 : 2 : 1
    assert {(b.source, b.kind, b.kl) for b in blocks} == {("medical", "medical", False), ("general", "general", True),
                                                          ("math", "math", True)}


def test_sources_are_streamed_never_read_whole(tmp_path, tokenizer):
    big = tmp_path / "big.txt"
    with big.open("w", encoding="utf-8") as f:
        for i in range(50_000):
            f.write(f"a dog walked to the river in the morning number {i}\n")
    pulled = []

    def endless():  # a source with no end cannot be held in memory
        for i in itertools.count():
            pulled.append(i)
            yield {"text": "two plus three equals five ."}

    mixture = Mixture([Source("general", text_file(big, by="line")), Source("math", records(endless()), kind="math")],
                      tokenizer, seq_len=32)
    for _ in range(20):
        mixture.next_block()
    assert mixture.state_dict()["streams"]["general"]["offset"] < big.stat().st_size / 100
    assert 0 < mixture.tokens["math"] <= len(pulled) * 7 < mixture.tokens["math"] + 7  # what was needed, no more


def test_an_exhausted_source_is_read_again_from_its_start_and_says_so(tmp_path, tokenizer, caplog):
    path = tmp_path / "small.txt"
    path.write_text("a dog walked\n\ntwo plus three\n", encoding="utf-8")
    mixture = Mixture([Source("general", text_file(path))], tokenizer, seq_len=4)
    with caplog.at_level(logging.INFO, logger="clinic_agents.mixture"):
        blocks = [mixture.next_block().input_ids for _ in range(12)]  # 6 passes of 8 tokens
    assert mixture.passes == {"general": 5} and "read again from its start (pass 6)" in caplog.text
    assert blocks[:2] * 6 == blocks
    one_shot = Mixture([Source("general", records(iter(["a dog walked"])))], tokenizer, seq_len=4)
    one_shot.next_block()
    with pytest.raises(ValueError, match="yields nothing when read a second time"):
        one_shot.next_block()
    with pytest.raises(ValueError, match="source 'general' has no documents"):
        Mixture([Source("general", records(["  "]))], tokenizer, seq_len=4).next_block()


def three_sources(tmp_path):
    (tmp_path / "medical.txt").write_text(
        f"{LONG} <note> fever suggests infection </note> rest .\n\nthe patient with fever\n", encoding="utf-8")
    (tmp_path / "math.jsonl").write_text('{"text": "two plus three equals five"}\n{"text": "three plus two"}\n',
                                         encoding="utf-8")
    return [Source("medical", text_file(tmp_path / "medical.txt"), kind="medical"),
            Source("general", records(["a dog walked to the river", "the river in the morning"])),
            Source("math", jsonl_file(tmp_path / "math.jsonl"), kind="math")]


def test_the_same_seed_gives_the_same_blocks_and_another_seed_others(tmp_path, tokenizer):
    def run(seed):
        mixture = Mixture(three_sources(tmp_path), tokenizer, seq_len=16, seed=seed)
        return [(b.source, b.input_ids, b.loss_mask) for b in itertools.islice(mixture, 60)]

    assert run(0) == run(0)
    assert [s for s, _, _ in run(0)] != [s for s, _, _ in run(1)]


def test_a_restored_state_yields_the_very_blocks_that_would_have_come(tmp_path, tokenizer):
    mixture = Mixture(three_sources(tmp_path), tokenizer, seq_len=16, seed=3)
    for _ in range(7):
        mixture.next_block()
    state = mixture.state_dict()
    expected = [(b.source, b.input_ids, b.loss_mask, b.padding) for b in itertools.islice(mixture, 30)]
    restored = Mixture(three_sources(tmp_path), tokenizer, seq_len=16, seed=99)  # the state replaces the seed
    restored.load_state_dict(state)
    assert [(b.source, b.input_ids, b.loss_mask, b.padding) for b in itertools.islice(restored, 30)] == expected
    assert restored.tokens == mixture.tokens


def test_config_specs_build_sources_and_name_what_is_wrong(tmp_path):
    (tmp_path / "m.txt").write_text("one\ntwo\n\nthree\n", encoding="utf-8")
    (tmp_path / "g.jsonl").write_text(json.dumps({"body": "web text"}) + "\n", encoding="utf-8")
    medical = source_from_spec({"path": str(tmp_path / "m.txt"), "kind": "medical", "by": "line"})
    assert (medical.name, medical.weight, medical.kl, texts(medical.read)) == ("medical", 2.0, False,
                                                                             ["one", "two", "three"])
    web = source_from_spec({"name": "web", "path": str(tmp_path / "g.jsonl"), "field": "body", "weight": 3})
    assert (web.name, web.kind, web.weight, web.kl, texts(web.read)) == ("web", "general", 3, True, ["web text"])
    for spec, message in (({"path": "m.txt", "wieght": 1}, r"unknown fields \['wieght'\]"),
                          ({"kind": "general"}, "path / dataset: give exactly one"),
                          ({"path": "m.txt", "dataset": "x"}, "path / dataset: give exactly one"),
                          ({"path": str(tmp_path / "nope.txt")}, "path: no such file"),
                          ({"path": str(tmp_path / "m.txt"), "kind": "code"}, "weight: source 'code'")):
        with pytest.raises(ValueError, match=message):
            source_from_spec(spec)
    with pytest.raises(ValueError, match="names must be distinct"):
        Mixture([medical, source_from_spec({"path": str(tmp_path / "m.txt"), "kind": "medical"})], None, 8)


def test_a_datasets_source_is_streamed_through_load_dataset(monkeypatch):
    calls = []

    def load_dataset(path, name=None, split=None, streaming=False):
        calls.append((path, name, split, streaming))
        return [{"content": "first"}, {"content": "second"}]  # any iterable of dicts, as a streamed dataset is

    monkeypatch.setitem(sys.modules, "datasets", types.SimpleNamespace(load_dataset=load_dataset))
    source = source_from_spec({"dataset": "owner/corpus", "config": "en", "split": "validation", "field": "content",
                               "kind": "general"})
    assert calls == [("owner/corpus", "en", "validation", True)] and texts(source.read) == ["first", "second"]
    monkeypatch.setitem(sys.modules, "datasets", None)  # not installed
    with pytest.raises(ImportError, match="pip install datasets"):
        source_from_spec({"dataset": "owner/corpus"})
