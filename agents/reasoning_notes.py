"""Reasoning notes in medical passages, and the dual task Baichuan-M2 trains on them.

A passage may carry notes (a knowledge link, a critical reflection, a step of case reasoning)
inserted between marker tokens::

    Fever and a stiff neck came on over a day. <note>neck stiffness with fever points to the
    meninges</note> A lumbar puncture was done.

Such a passage is expanded into training examples, each a list of token ids with a loss mask
of the same length (1 = this token is a target, 0 = context only):

- one continuation example: the passage with its notes removed, every token a target. The
  model keeps learning the passage as plain text, so notes never leak into what it writes
  when it continues ordinary text;
- per note, one note-prediction example: the passage before the note (notes removed), then
  ``<note>``, the note's text and ``</note>``. Only the note's tokens and the closing marker
  are targets: no passage token carries loss here, so the note is trained as its own
  target, conditioned on the passage before it, and the passage is not counted twice. The
  opening marker is context too: where a note starts is the data's choice, not the model's.

A passage without notes is one continuation example. Pieces are tokenized separately and
concatenated (no special tokens added), so every mask lines up with its ids token by token.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

NOTE_OPEN, NOTE_CLOSE = "<note>", "</note>"
_NOTE = re.compile(re.escape(NOTE_OPEN) + "(.*?)" + re.escape(NOTE_CLOSE), re.DOTALL)


@dataclass(frozen=True)
class Example:
    """Token ids and their loss mask. ``whole``: a note-prediction example, which the packer
    keeps in one block so that its note is always trained with the passage before it in view."""

    ids: list[int]
    mask: list[int]
    whole: bool = False


def add_note_tokens(tokenizer: Any, model: Any | None = None) -> int:
    """Add the two markers to the tokenizer as special tokens (never split, never merged with
    text) when it lacks them, and grow the model's embedding matrix to the new vocabulary when
    it is too small. Returns how many tokens were added.

    The new rows are initialised by transformers (from the mean and covariance of the existing
    embeddings), which draws from torch's RNG: seed it first for a reproducible run. Many models
    ship an embedding matrix larger than their tokenizer, and then nothing is resized. Do this
    before copying the model as a KL reference, so that both share the new rows."""
    missing = [t for t in (NOTE_OPEN, NOTE_CLOSE) if t not in tokenizer.get_vocab()]
    added = tokenizer.add_tokens(missing, special_tokens=True) if missing else 0
    if model is not None and len(tokenizer) > model.get_input_embeddings().num_embeddings:
        model.resize_token_embeddings(len(tokenizer))
    return added


def split_notes(text: str) -> tuple[list[str], list[str]]:
    """The passage pieces and the notes between them: note i sits between pieces i and i + 1.
    Raises ValueError on a marker without its partner or a note inside a note."""
    parts = _NOTE.split(text)
    if any(NOTE_OPEN in part or NOTE_CLOSE in part for part in parts):
        raise ValueError(f"unbalanced or nested note markers in a passage starting {text[:60]!r}")
    pieces, notes = parts[0::2], parts[1::2]
    return [p.strip() for p in pieces], [n.strip() for n in notes]


def expand(text: str, tokenizer: Any) -> list[Example]:
    """The continuation example, then one note-prediction example per note (module docstring)."""
    pieces, notes = split_notes(text)

    def ids(piece: str) -> list[int]:
        return tokenizer(piece, add_special_tokens=False)["input_ids"] if piece else []

    def passage(upto: int) -> str:
        return " ".join(p for p in pieces[:upto] if p)

    plain = ids(passage(len(pieces)))
    examples = [Example(plain, [1] * len(plain))] if plain else []
    if notes:
        open_id, close_id = _marker_ids(tokenizer)
        for i, note in enumerate(notes):
            context, target = ids(passage(i + 1)), ids(note)
            examples.append(Example(context + [open_id] + target + [close_id],
                                    [0] * (len(context) + 1) + [1] * (len(target) + 1), whole=True))
    return examples


def _marker_ids(tokenizer: Any) -> tuple[int, int]:
    vocab = tokenizer.get_vocab()
    if NOTE_OPEN not in vocab or NOTE_CLOSE not in vocab:
        raise ValueError(f"the tokenizer has no {NOTE_OPEN} / {NOTE_CLOSE} tokens: call "
                         "clinic_agents.reasoning_notes.add_note_tokens(tokenizer, model) first")
    return vocab[NOTE_OPEN], vocab[NOTE_CLOSE]
