"""Reasoning notes: the markers, and the dual task's examples and loss masks, token by token."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from clinic_agents.mixture import Mixture, Source, records  # noqa: E402
from clinic_agents.reasoning_notes import NOTE_CLOSE, NOTE_OPEN, add_note_tokens, expand, split_notes  # noqa: E402

PASSAGE = ("the patient with fever was given fluids . <note> fever with a stiff neck suggests meningitis </note> "
           "the rash spread by evening . <note> a spreading rash is a warning sign </note> antibiotics were started .")
WORDS = [PASSAGE.replace(NOTE_OPEN, "").replace(NOTE_CLOSE, ""), "a cough"]


@pytest.fixture
def parts(make_tiny_lm):
    model, tokenizer = make_tiny_lm(WORDS)
    add_note_tokens(tokenizer, model)
    return model, tokenizer


def ids(tokenizer, text):
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def test_the_markers_are_added_as_single_tokens_and_the_embeddings_grow(make_tiny_lm):
    model, tokenizer = make_tiny_lm(WORDS)
    size = len(tokenizer)
    assert NOTE_OPEN not in tokenizer.get_vocab()
    assert add_note_tokens(tokenizer, model) == 2
    assert len(tokenizer) == size + 2 == model.get_input_embeddings().num_embeddings == model.lm_head.out_features
    vocab = tokenizer.get_vocab()
    assert ids(tokenizer, "a <note> cough </note>") == [vocab["a"], vocab[NOTE_OPEN], vocab["cough"], vocab[NOTE_CLOSE]]
    assert add_note_tokens(tokenizer, model) == 0 and model.get_input_embeddings().num_embeddings == size + 2


def test_a_passage_with_notes_gives_its_continuation_and_one_example_per_note(parts):
    _, tokenizer = parts
    vocab = tokenizer.get_vocab()
    continuation, first, second = expand(PASSAGE, tokenizer)
    plain = "the patient with fever was given fluids . the rash spread by evening . antibiotics were started ."
    assert continuation.ids == ids(tokenizer, plain) and continuation.mask == [1] * len(continuation.ids)
    assert not continuation.whole

    before_first = ids(tokenizer, "the patient with fever was given fluids .")
    note = ids(tokenizer, "fever with a stiff neck suggests meningitis")
    assert first.ids == before_first + [vocab[NOTE_OPEN]] + note + [vocab[NOTE_CLOSE]]
    assert first.mask == [0] * len(before_first) + [0] + [1] * len(note) + [1]
    assert first.whole

    # the second note sees the passage before it with the first note taken out
    before_second = ids(tokenizer, "the patient with fever was given fluids . the rash spread by evening .")
    note = ids(tokenizer, "a spreading rash is a warning sign")
    assert second.ids == before_second + [vocab[NOTE_OPEN]] + note + [vocab[NOTE_CLOSE]]
    assert second.mask == [0] * (len(before_second) + 1) + [1] * (len(note) + 1)


def test_no_passage_token_carries_loss_in_a_note_example(parts):
    _, tokenizer = parts
    for example in expand(PASSAGE, tokenizer)[1:]:
        opening = example.ids.index(tokenizer.get_vocab()[NOTE_OPEN])
        assert len(example.ids) == len(example.mask)
        assert all(m == 0 for m in example.mask[:opening + 1])  # the passage and the opening marker
        assert all(m == 1 for m in example.mask[opening + 1:])  # the note and the closing marker
        targets = [i for i, m in zip(example.ids, example.mask) if m]
        assert tokenizer.decode(targets[-1:]) == NOTE_CLOSE


def test_a_passage_without_notes_is_one_continuation(parts):
    _, tokenizer = parts
    (example,) = expand("a cough", tokenizer)
    assert example.ids == ids(tokenizer, "a cough") and example.mask == [1, 1] and not example.whole


def test_malformed_notes_are_errors_that_say_so(parts, make_tiny_lm):
    _, tokenizer = parts
    for text in ("a <note> cough", "a </note> cough", "a <note> b <note> c </note> d </note>"):
        with pytest.raises(ValueError, match="unbalanced or nested note markers"):
            split_notes(text)
    bare = make_tiny_lm(WORDS)[1]  # markers never added
    with pytest.raises(ValueError, match="add_note_tokens"):
        expand(PASSAGE, bare)
    mixture = Mixture([Source("medical", records(["a cough", "a <note> cough"]), kind="medical")], tokenizer, 4)
    with pytest.raises(ValueError, match="source 'medical', document ending at position 2: unbalanced"):
        for _ in range(3):
            mixture.next_block()


def test_packing_keeps_each_note_example_whole_in_one_block(parts):
    _, tokenizer = parts
    eos = tokenizer.eos_token_id
    examples = expand(PASSAGE, tokenizer)
    seq_len = len(examples[0].ids) + 4  # the first note example cannot follow the continuation in its block
    mixture = Mixture([Source("medical", records([PASSAGE]), kind="medical")], tokenizer, seq_len)
    blocks = [mixture.next_block() for _ in range(3)]
    assert all(len(b.input_ids) == len(b.loss_mask) == seq_len for b in blocks)
    # block 0: the continuation and its EOS (a target), then EOS padding (no loss) up to the cut
    n = len(examples[0].ids)
    assert blocks[0].input_ids == examples[0].ids + [eos] * 4 and blocks[0].loss_mask == [1] * (n + 1) + [0] * 3
    assert blocks[0].padding == 3 and blocks[0].tokens == n + 1
    # block 1 starts with the first note example, whole, with its mask; its EOS carries no loss
    first = examples[1]
    assert blocks[1].input_ids[:len(first.ids) + 1] == first.ids + [eos]
    assert blocks[1].loss_mask[:len(first.ids) + 1] == first.mask + [0]
    assert blocks[0].kind == "medical" and not blocks[0].kl


def test_a_note_example_longer_than_a_block_keeps_its_note(parts):
    _, tokenizer = parts
    note = expand(PASSAGE, tokenizer)[2]
    seq_len = sum(note.mask) + 3  # the note, its closing marker and only two tokens of context
    mixture = Mixture([Source("medical", records([PASSAGE]), kind="medical")], tokenizer, seq_len)
    blocks = [mixture.next_block() for _ in range(8)]
    kept = [b for b in blocks if b.input_ids[-sum(note.mask):] == note.ids[-sum(note.mask):]]
    assert kept and kept[0].input_ids == note.ids[-seq_len:] and kept[0].loss_mask == note.mask[-seq_len:]
