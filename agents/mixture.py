"""A seeded, streaming mixture of text sources, packed into blocks of a fixed length.

Baichuan-M2 mid-trains on medical, general and math text mixed 2 : 2 : 1 so that medical
specialisation does not cost general ability. Here::

    sources = [Source("medical", text_file("medical.txt"), kind="medical"),           # weight 2, no KL
               Source("general", jsonl_file("web.jsonl", field="text"), kind="general"),  # weight 2, KL
               Source("math", hf_dataset("some/math", split="train"), kind="math")]      # weight 1, KL
    mixture = Mixture(sources, tokenizer, seq_len=2048, seed=0)
    block = mixture.next_block()    # Block(input_ids, loss_mask, source, kind, kl, padding)

Sources. A reader yields documents lazily from a position, so a corpus larger than memory
streams: ``text_file`` (one document per blank-line-separated paragraph, or per line with
``by="line"``; read in binary so that the position is a byte offset), ``jsonl_file`` (one
record per line, the text in ``field``; a record may also be a bare string), ``hf_dataset``
(a ``datasets`` dataset loaded with ``streaming=True``; needs the ``datasets`` package) and
``records`` (any iterable of dicts or strings, e.g. a list, or a dataset loaded by hand). When a
source is exhausted it is read again from its start (a new *pass*; the file is re-opened),
which is logged (``logging``, logger ``clinic_agents.mixture``) and counted in ``Mixture.passes``.

Mixing is per token. Each block comes from one source, so the trainer can choose the loss of a
whole block by its source (KL to the reference on general and math blocks, not on medical
ones). The next block's source is drawn with the mixer's seeded RNG, with probability
proportional to each source's token deficit: how many tokens it is short of its weight's share
of all tokens so far plus the next block. A source ahead of its share is never drawn, so
however long or short its documents, every source's share of the tokens stays within about
one block of its weight's share (documents are never what is counted).

Packing. A source's documents are expanded by ``clinic_agents.reasoning_notes.expand`` (a passage
with notes gives its continuation and one note-prediction example per note), and the examples
are concatenated, each followed by an EOS token, then cut into blocks of exactly ``seq_len``
tokens. A continuation example may run across a cut, as in ordinary pretraining packing. A
note-prediction example never does: it starts a new block when it does not fit what is left of
the current one (the rest filled with EOS tokens that carry no loss, the block's ``padding``),
and one longer than a block keeps its end (the note) and loses the start of its passage. The
EOS after a continuation example is a target (the model learns where documents end); after a
note-prediction example it is not. Padding is not counted as a source's tokens.

``state_dict()`` / ``load_state_dict()`` hold the RNG, the token counts and, per source, its
position, pass and the tokens read but not yet packed: a restored mixer yields exactly the
blocks the original would have.
"""

from __future__ import annotations

import itertools
import json
import logging
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clinic_agents.reasoning_notes import Example, expand

logger = logging.getLogger(__name__)

DEFAULT_WEIGHTS = {"medical": 2.0, "general": 2.0, "math": 1.0}  # Baichuan-M2's 2 : 2 : 1
Reader = Callable[[int], Iterator[tuple[str, int]]]  # position -> (document, position after it), ...


# ---- readers -------------------------------------------------------------------------------------


def text_file(path: str | Path, by: str = "paragraph") -> Reader:
    """Documents of a text file: paragraphs separated by blank lines (a paragraph's lines joined
    by spaces), or lines (``by="line"``). Positions are byte offsets."""
    if by not in ("paragraph", "line"):
        raise ValueError(f"by must be 'paragraph' or 'line', got {by!r}")

    def read(offset: int) -> Iterator[tuple[str, int]]:
        with open(path, "rb") as f:
            f.seek(offset)
            lines: list[str] = []
            while raw := f.readline():
                line = raw.decode("utf-8").strip()
                if line:
                    lines.append(line)
                if lines and (by == "line" or not line):
                    yield " ".join(lines), f.tell()
                    lines = []
            if lines:
                yield " ".join(lines), f.tell()

    return read


def jsonl_file(path: str | Path, field: str = "text") -> Reader:
    """Documents of a JSONL file: each record's ``field`` (or the record, when it is a string).
    Positions are byte offsets."""

    def read(offset: int) -> Iterator[tuple[str, int]]:
        with open(path, "rb") as f:
            f.seek(offset)
            while raw := f.readline():
                if not raw.strip():
                    continue
                where = f"{path} (the record ending at byte {f.tell()})"
                try:
                    record = json.loads(raw)
                except ValueError as err:
                    raise ValueError(f"{where}: not JSON: {err}") from None
                text = _text_of(record, field, where)
                if text.strip():
                    yield text, f.tell()

    return read


def records(iterable: Iterable[Any], field: str = "text") -> Reader:
    """Documents of any iterable of dicts (the text in ``field``) or strings. Positions count
    records; resuming skips that many. A one-shot iterator (a generator) cannot start a second
    pass: give a list or another re-iterable when the run may outlast it."""

    def read(offset: int) -> Iterator[tuple[str, int]]:
        for index, record in enumerate(itertools.islice(iterable, offset, None), start=offset + 1):
            text = _text_of(record, field, f"record {index}")
            if text.strip():
                yield text, index

    return read


def hf_dataset(path: str, name: str | None = None, split: str = "train", field: str = "text") -> Reader:
    """Documents of a ``datasets`` dataset, streamed (``load_dataset(..., streaming=True)``: read
    as it goes, never downloaded whole)."""
    try:
        import datasets
    except ImportError:
        raise ImportError(f"the source {path!r} is a `datasets` dataset: pip install datasets "
                          "(or give a local .txt / .jsonl file)") from None
    return records(datasets.load_dataset(path, name, split=split, streaming=True), field)


def _text_of(record: Any, field: str, where: str) -> str:
    if isinstance(record, str):
        return record
    if not isinstance(record, dict) or not isinstance(record.get(field), str):
        raise ValueError(f"{where}: no text field {field!r}")
    return record[field]


# ---- sources and blocks --------------------------------------------------------------------------


@dataclass
class Source:
    """A named text source. ``weight`` defaults to its kind's (``DEFAULT_WEIGHTS``); ``kl``
    (whether its blocks get the KL term to the reference) to every kind but "medical"."""

    name: str
    read: Reader
    kind: str = "general"
    weight: float | None = None
    kl: bool | None = None

    def __post_init__(self) -> None:
        if self.weight is None:
            if self.kind not in DEFAULT_WEIGHTS:
                raise ValueError(f"weight: source {self.name!r} of kind {self.kind!r} needs one "
                                 f"(defaults exist for {', '.join(DEFAULT_WEIGHTS)})")
            self.weight = DEFAULT_WEIGHTS[self.kind]
        if isinstance(self.weight, bool) or not isinstance(self.weight, (int, float)) or not self.weight > 0:
            raise ValueError(f"weight: source {self.name!r} needs a weight > 0, got {self.weight!r}")
        if self.kl is None:
            self.kl = self.kind != "medical"


SPEC_FIELDS = {"name", "kind", "weight", "kl", "path", "by", "field", "dataset", "config", "split"}


def source_from_spec(spec: dict[str, Any]) -> Source:
    """A source from a config entry: ``{"name", "kind", "weight", "kl"}`` and either ``"path"``
    (``.jsonl`` read with ``"field"``, anything else as text split ``"by"`` paragraph or line)
    or ``"dataset"`` (with ``"config"``, ``"split"`` and ``"field"``). Errors name the field."""
    unknown = sorted(set(spec) - SPEC_FIELDS)
    if unknown:
        raise ValueError(f"unknown fields {unknown} (known: {sorted(SPEC_FIELDS)})")
    if ("path" in spec) == ("dataset" in spec):
        raise ValueError("path / dataset: give exactly one (a local .txt / .jsonl file, or a `datasets` name)")
    if "path" in spec:
        path = Path(spec["path"])
        if not path.is_file():
            raise ValueError(f"path: no such file {str(path)!r}")
        read = (jsonl_file(path, spec.get("field", "text")) if path.suffix == ".jsonl"
                else text_file(path, spec.get("by", "paragraph")))
    else:
        read = hf_dataset(spec["dataset"], spec.get("config"), spec.get("split", "train"), spec.get("field", "text"))
    kind = spec.get("kind", "general")
    return Source(spec.get("name", kind), read, kind, spec.get("weight"), spec.get("kl"))


@dataclass
class Block:
    """``seq_len`` token ids from one source and their loss mask (1 = a target). The last
    ``padding`` ids are EOS filler left before a note-prediction example that did not fit: no
    loss, and not counted as the source's tokens."""

    input_ids: list[int]
    loss_mask: list[int]
    source: str
    kind: str
    kl: bool
    padding: int = 0

    @property
    def tokens(self) -> int:
        return len(self.input_ids) - self.padding


# ---- packing and mixing --------------------------------------------------------------------------


class _Stream:
    """One source read lazily, expanded into examples and packed into blocks (module docstring).
    The buffers start at a block boundary: they hold tokens read but not yet in a block."""

    def __init__(self, source: Source, tokenizer: Any, seq_len: int) -> None:
        self.source, self.tokenizer, self.seq_len = source, tokenizer, seq_len
        self.eos = tokenizer.eos_token_id
        self.offset, self.passes = 0, 0
        self.ids: list[int] = []
        self.mask: list[int] = []
        self.pad: list[int] = []
        self._documents: Iterator[tuple[str, int]] | None = None

    def next_block(self) -> Block:
        while len(self.ids) < self.seq_len:
            text = self._next_document()
            try:
                examples = expand(text, self.tokenizer)
            except ValueError as err:
                raise ValueError(f"source {self.source.name!r}, document ending at position {self.offset}: {err}") \
                    from None
            for example in examples:
                self._append(example)
        n = self.seq_len
        block = Block(self.ids[:n], self.mask[:n], self.source.name, self.source.kind, bool(self.source.kl),
                      sum(self.pad[:n]))
        del self.ids[:n], self.mask[:n], self.pad[:n]
        return block

    def _append(self, example: Example) -> None:
        ids, mask = example.ids, example.mask
        if example.whole:
            ids, mask = ids[-self.seq_len:], mask[-self.seq_len:]
            room = self.seq_len - len(self.ids) % self.seq_len
            if len(ids) > room:
                self._extend([self.eos] * room, [0] * room, pad=1)
        self._extend(ids + [self.eos], mask + [0 if example.whole else 1], pad=0)

    def _extend(self, ids: list[int], mask: list[int], pad: int) -> None:
        self.ids += ids
        self.mask += mask
        self.pad += [pad] * len(ids)

    def _next_document(self) -> str:
        if self._documents is None:
            self._documents = self.source.read(self.offset)
        item = next(self._documents, None)
        if item is None and self.offset == 0:
            raise ValueError(f"source {self.source.name!r} has no documents")
        if item is None:  # the pass is over: read the source again from its start
            self.passes, self.offset = self.passes + 1, 0
            logger.info("source %r: end reached, read again from its start (pass %d)", self.source.name,
                        self.passes + 1)
            self._documents = self.source.read(0)
            item = next(self._documents, None)
            if item is None:
                raise ValueError(f"source {self.source.name!r} yields nothing when read a second time (a one-shot "
                                 "iterator? give a list or a file)")
        text, self.offset = item
        return text

    def state_dict(self) -> dict[str, Any]:
        return {"offset": self.offset, "passes": self.passes, "ids": list(self.ids), "mask": list(self.mask),
                "pad": list(self.pad)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.offset, self.passes = state["offset"], state["passes"]
        self.ids, self.mask, self.pad = list(state["ids"]), list(state["mask"]), list(state["pad"])
        self._documents = None


class Mixture:
    """Blocks drawn from the sources so that their token shares follow the weights (module
    docstring). Iterating yields blocks forever."""

    def __init__(self, sources: list[Source], tokenizer: Any, seq_len: int, seed: int = 0) -> None:
        if not sources:
            raise ValueError("sources: give at least one")
        names = [s.name for s in sources]
        if len(set(names)) != len(names):
            raise ValueError(f"sources: names must be distinct, got {names}")
        if seq_len < 2:
            raise ValueError(f"seq_len must be >= 2, got {seq_len}")
        if tokenizer.eos_token_id is None:
            raise ValueError("the tokenizer has no EOS token to separate documents with")
        total = sum(float(s.weight) for s in sources)
        self.sources, self.seq_len = sources, seq_len
        self.shares = {s.name: float(s.weight) / total for s in sources}
        self.tokens = {s.name: 0 for s in sources}  # tokens (padding excluded) in the blocks so far
        self._streams = {s.name: _Stream(s, tokenizer, seq_len) for s in sources}
        self._rng = random.Random(seed)

    def next_block(self) -> Block:
        total = sum(self.tokens.values()) + self.seq_len
        deficits = [max(0.0, self.shares[name] * total - self.tokens[name]) for name in self._streams]
        name = self._rng.choices(list(self._streams), weights=deficits)[0]
        block = self._streams[name].next_block()
        self.tokens[name] += block.tokens
        return block

    def __iter__(self) -> Iterator[Block]:
        while True:
            yield self.next_block()

    @property
    def passes(self) -> dict[str, int]:
        """How many times each source has been read to its end and started again."""
        return {name: stream.passes for name, stream in self._streams.items()}

    def state_dict(self) -> dict[str, Any]:
        return {"rng": self._rng.getstate(), "tokens": dict(self.tokens),
                "streams": {name: stream.state_dict() for name, stream in self._streams.items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._rng.setstate(state["rng"])
        self.tokens = dict(state["tokens"])
        for name, stream in self._streams.items():
            stream.load_state_dict(state["streams"][name])
