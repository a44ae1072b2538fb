"""Mid-training on a tiny model: the KL term, the frozen reference, precomputed reference log-probs,
accumulation, and ``clinic-env train mid`` with its log, checkpoints and resume."""

from __future__ import annotations

import copy
import json
import random
import re
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from clinic_agents import train_mid  # noqa: E402
from clinic_agents.mid_trainer import (  # noqa: E402
    MidConfig,
    MidTrainer,
    frozen_reference,
    kl_to_reference,
    load_reference,
    precompute_reference,
)
from clinic_agents.mixture import Mixture, Source, records  # noqa: E402
from clinic_agents.reasoning_notes import add_note_tokens  # noqa: E402
from clinic_agents.train_config import MidRunConfig, parse  # noqa: E402
from clinic_cli.main import main  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SEQ_LEN, BLOCKS = 32, 8

# Three small languages: general sentences and sums the starting model knows, and medical
# sentences (with notes) it has never seen.
SUBJECTS = ["the cat", "a dog", "my friend", "the teacher", "our neighbour", "the farmer", "a child", "the baker"]
VERBS = ["walked to", "looked at", "painted", "found", "visited", "cleaned", "left", "described"]
PLACES = ["the market", "a river", "the old house", "the garden", "a small boat", "the library", "the bridge"]
TAILS = ["in the morning", "after lunch", "with a smile", "on sunday", "before dark", "in the rain"]
NUMBERS = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen".split()
SYMPTOMS = ["fever", "cough", "chest pain", "headache", "a rash", "back pain", "dizziness", "nausea"]
TREATMENTS = ["aspirin", "antibiotics", "fluids", "rest", "insulin", "an inhaler", "steroids", "oxygen"]
CAUSES = ["infection", "pneumonia", "migraine", "asthma", "diabetes", "a clot", "dehydration", "allergy"]
VOCABULARY = SUBJECTS + VERBS + PLACES + TAILS + NUMBERS + SYMPTOMS + TREATMENTS + CAUSES + [
    "plus equals . the patient with was given suggests"]


def general(rng: random.Random) -> str:
    return " ".join(f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(PLACES)} {rng.choice(TAILS)} ."
                    for _ in range(3))


def arithmetic(rng: random.Random) -> str:
    sums = [(rng.randrange(9), rng.randrange(9)) for _ in range(3)]
    return " ".join(f"{NUMBERS[a]} plus {NUMBERS[b]} equals {NUMBERS[a + b]} ." for a, b in sums)


def medical(rng: random.Random) -> str:
    sentences = []
    for i in (rng.randrange(len(SYMPTOMS)) for _ in range(3)):
        note = f" <note> {SYMPTOMS[i]} suggests {CAUSES[i]} </note>" if rng.random() < 0.5 else ""
        sentences.append(f"the patient with {SYMPTOMS[i]} was given {TREATMENTS[i]} .{note}")
    return " ".join(sentences)


def blocks(texts: list[str], tokenizer, kind: str, n: int, kl: bool = True) -> list:
    return take(Mixture([Source(kind, records(texts), kind=kind, kl=kl)], tokenizer, SEQ_LEN), n)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models train faster on one thread, and their time does not swing on a shared machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def base(make_tiny_lm):
    """The starting model: a 2-layer Llama pretrained here (next-token loss only) on general and
    math text, with the note markers in its tokenizer."""
    model, tokenizer = make_tiny_lm(VOCABULARY, layers=2, hidden=32)
    add_note_tokens(tokenizer, model)
    rng = random.Random(0)
    pretraining = Mixture([Source("general", records([general(rng) for _ in range(400)]), kl=False),
                           Source("math", records([arithmetic(rng) for _ in range(400)]), kind="math", kl=False)],
                          tokenizer, SEQ_LEN)
    trainer = MidTrainer(model, None, MidConfig(lr=1e-2, micro_batch=16))
    for _ in range(200):
        trainer.step([pretraining.next_block() for _ in range(16)])
    return model, tokenizer


@pytest.fixture(scope="module")
def data(base):
    """Mid-training sources (few general and math documents, so plain next-token loss overfits
    them) and evaluation blocks, held-out general text among them."""
    tokenizer, rng = base[1], random.Random(1)
    train = {"medical": [medical(rng) for _ in range(50)], "general": [general(rng) for _ in range(3)],
             "math": [arithmetic(rng) for _ in range(3)]}
    held_out = [general(random.Random(999)) for _ in range(60)]
    evaluation = {"medical": blocks(train["medical"], tokenizer, "medical", 16, kl=False),
                  "kl": blocks(train["general"], tokenizer, "general", 8) + blocks(train["math"], tokenizer, "math", 4),
                  "held_out": blocks(held_out, tokenizer, "general", 16)}
    return train, evaluation


def mixture_of(train: dict[str, list[str]], tokenizer, seed: int = 0) -> Mixture:
    return Mixture([Source(kind, records(texts), kind=kind) for kind, texts in train.items()], tokenizer, SEQ_LEN,
                   seed=seed)


def take(mixture: Mixture, n: int) -> list:
    return [mixture.next_block() for _ in range(n)]


def measure(trainer: MidTrainer, evaluation: dict) -> dict[str, float]:
    return {"medical": trainer.evaluate(evaluation["medical"])["ce"]["medical"],
            "held_out": trainer.evaluate(evaluation["held_out"])["ce"]["general"],
            "kl": trainer.evaluate(evaluation["kl"])["kl"]}


@pytest.fixture(scope="module")
def runs(base, data):
    """The same 40 steps from the same start with beta 0 and beta 1."""
    (model, tokenizer), (train, evaluation) = base, data
    out = {}
    for beta in (0.0, 1.0):
        reference = frozen_reference(model)
        before = {name: tensor.clone() for name, tensor in reference.state_dict().items()}
        trainer = MidTrainer(copy.deepcopy(model), reference, MidConfig(lr=3e-3, beta=beta, micro_batch=BLOCKS))
        start = measure(trainer, evaluation)
        mixture = mixture_of(train, tokenizer)
        log = [trainer.step([mixture.next_block() for _ in range(BLOCKS)]) for _ in range(40)]
        out[beta] = {"start": start, "end": measure(trainer, evaluation), "log": log, "reference": reference,
                     "before": before, "tokens": mixture.tokens}
    return out


def test_the_kl_term_is_zero_at_the_start_and_grows_as_the_model_drifts(runs):
    for run in runs.values():
        assert run["start"]["kl"] <= 1e-6 and run["log"][0]["kl"] <= 1e-6
        assert run["log"][-1]["kl"] > 1e-3 and run["end"]["kl"] > 1e-2
    assert runs[0.0]["log"][0]["loss"] == pytest.approx(runs[1.0]["log"][0]["loss"], abs=1e-6)  # KL adds 0 there


def test_the_reference_is_bit_identical_after_training(runs):
    for run in runs.values():
        reference = run["reference"]
        assert not reference.training and not any(p.requires_grad for p in reference.parameters())
        for name, tensor in reference.state_dict().items():
            assert torch.equal(tensor, run["before"][name]), name


def test_the_kl_term_keeps_general_ability_while_medicine_is_learned(runs):
    """Measured: KL at the end 0.493 (beta 0) vs 0.109 (beta 1); medical loss with beta 1 7.79 ->
    1.59; held-out general loss 0.950 -> 1.510 (beta 0) vs -> 1.135 (beta 1); token shares 0.400 /
    0.399 / 0.201. Seven other seeds (model, data, held-out text): KL ratio 0.18-0.23, medical
    ratio 0.18-0.24, held-out increase +0.27..+1.05 (beta 0) vs +0.02..+0.21 (beta 1)."""
    free, anchored = runs[0.0], runs[1.0]
    assert anchored["end"]["kl"] <= 0.5 * free["end"]["kl"]
    assert anchored["end"]["medical"] <= 0.5 * anchored["start"]["medical"]
    drift = {beta: run["end"]["held_out"] - run["start"]["held_out"] for beta, run in runs.items()}
    assert drift[1.0] < drift[0.0]
    for run in runs.values():
        tokens = run["tokens"]
        shares = {name: count / sum(tokens.values()) for name, count in tokens.items()}
        assert shares == pytest.approx({"medical": 0.4, "general": 0.4, "math": 0.2}, abs=0.02)
        assert {n: sum(r["tokens"].get(n, 0) for r in run["log"]) for n in tokens} == tokens  # the log's counts


def test_medical_blocks_get_no_kl_term(base, data):
    (model, tokenizer), (train, _) = base, data
    medical_blocks = blocks(train["medical"], tokenizer, "medical", BLOCKS, kl=False)
    weights = []
    for beta in (0.0, 5.0):
        trainer = MidTrainer(copy.deepcopy(model), frozen_reference(model), MidConfig(lr=1e-2, beta=beta))
        trainer.step(medical_blocks)
        record = trainer.step(medical_blocks)
        assert record["kl"] is None and set(record["ce"]) == {"medical"}
        weights.append(torch.cat([p.detach().flatten() for p in trainer.model.parameters()]))
    assert torch.equal(weights[0], weights[1])


def test_gradient_accumulation_gives_the_whole_step_gradient(base, data):
    (model, tokenizer), (train, _) = base, data
    step = take(mixture_of(train, tokenizer), BLOCKS)
    gradients = []
    for micro_batch in (BLOCKS, 3):
        trainer = MidTrainer(copy.deepcopy(model), frozen_reference(model),
                             MidConfig(micro_batch=micro_batch, max_grad_norm=1e9))
        generator = torch.Generator().manual_seed(0)
        with torch.no_grad():  # away from the reference, so that the KL term has a gradient
            for p in trainer.model.parameters():
                p.add_(0.01 * torch.randn(p.shape, generator=generator))
        trainer.step(step)
        gradients.append(torch.cat([p.grad.flatten() for p in trainer.model.parameters()]))
    assert gradients[0].abs().max() > 0
    torch.testing.assert_close(gradients[0], gradients[1], rtol=1e-4, atol=1e-7)


def test_precomputed_reference_log_probs_give_the_live_loss(base, data, tmp_path):
    (model, tokenizer), (train, _) = base, data
    mixture = mixture_of(train, tokenizer, seed=5)
    steps = [take(mixture, BLOCKS) for _ in range(3)]
    precompute_reference(frozen_reference(model), steps, tmp_path / "ref", micro_batch=4)
    live = MidTrainer(copy.deepcopy(model), frozen_reference(model), MidConfig(lr=3e-3, micro_batch=4))
    stored = MidTrainer(copy.deepcopy(model), None, MidConfig(lr=3e-3, micro_batch=4))  # no reference model
    for index, step in enumerate(steps):
        expected = live.step(step)
        got = stored.step(step, load_reference(tmp_path / "ref", index, step))
        assert (got["loss"], got["kl"]) == pytest.approx((expected["loss"], expected["kl"]), rel=1e-6, abs=1e-9)
    assert expected["kl"] > 1e-4
    for a, b in zip(live.model.parameters(), stored.model.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-8)
    with pytest.raises(ValueError, match="are of other blocks"):
        load_reference(tmp_path / "ref", 0, steps[1])
    with pytest.raises(ValueError, match="need a reference model or precomputed"):
        stored.step(steps[0])


def test_the_kl_over_the_reference_top_k_is_a_lower_bound_that_is_exact_at_k_v():
    generator = torch.Generator().manual_seed(0)
    model = torch.log_softmax(torch.randn(3, 5, 20, generator=generator), -1)
    reference = torch.log_softmax(2 * torch.randn(3, 5, 20, generator=generator), -1)
    full = kl_to_reference(model, reference, None)
    expected = torch.nn.functional.kl_div(model, reference, reduction="none", log_target=True).sum(-1)
    torch.testing.assert_close(full, expected)  # KL(reference || model), the reference as the target
    assert (full > 0).all()
    values, indices = reference.topk(20, -1)
    torch.testing.assert_close(kl_to_reference(model, values, indices), full, atol=1e-5, rtol=1e-5)
    values, indices = reference.topk(4, -1)
    top = kl_to_reference(model, values, indices)
    assert (top >= -1e-6).all() and (top <= full + 1e-6).all() and (top < full - 1e-3).any()
    assert kl_to_reference(reference, values, indices).abs().max() < 1e-6


# ---- the command ----------------------------------------------------------------------------------


EXAMPLE = ROOT / "examples" / "mid_training.json"


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, make_tiny_lm):
    """A tiny model whose tokenizer knows the words of the example data."""
    data = ROOT / "examples" / "mid_data"
    lines = (data / "medical.txt").read_text().splitlines() + (data / "general.txt").read_text().splitlines()
    lines += [json.loads(line)["text"] for line in (data / "math.jsonl").read_text().splitlines()]
    model, tokenizer = make_tiny_lm([re.sub("</?note>", " ", line) for line in lines], layers=2, hidden=32)
    path = tmp_path_factory.mktemp("mid") / "tiny-model"
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def example_config(model_dir: Path, **changes) -> dict:
    config = json.loads(EXAMPLE.read_text())
    config.update({"model": str(model_dir), "device": "cpu", "seq_len": 32, "steps": 6, "blocks_per_step": 5,
                   "checkpoint_every": 2, **changes})
    config["train"] = {**config["train"], "lr": 1e-2, "micro_batch": 3}
    return config


def records_of(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]


def test_the_example_config_runs_from_the_command_line(tmp_path, model_dir, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)  # the example's data paths are relative to the checkout
    assert train_mid.load_config(EXAMPLE).sources[0]["kind"] == "medical"
    config = tmp_path / "mid.json"
    config.write_text(json.dumps(example_config(model_dir, steps=3)))
    out = tmp_path / "run"
    assert main(["train", "mid", str(config), "--out", str(out), "--no-progress"]) == 0
    assert "trained: last step loss" in capsys.readouterr().out
    log = records_of(out)
    assert [r["step"] for r in log] == [1, 2, 3]
    assert {"loss", "ce", "kl", "lr", "grad_norm", "tokens", "tokens_total", "passes"} <= set(log[0])
    assert set(log[-1]["tokens_total"]) == {"medical", "general", "math"} and log[0]["kl"] <= 1e-6
    assert json.loads((out / "progress.json").read_text()) == {"step": 3}
    from transformers import AutoModelForCausalLM, AutoTokenizer

    assert "<note>" in AutoTokenizer.from_pretrained(out / "model").get_vocab()
    AutoModelForCausalLM.from_pretrained(out / "model")
    assert main(["train", "mid", str(config), "--out", str(out)]) == 2  # never overwrites a run
    assert "--resume" in capsys.readouterr().err


def final_weights(out: Path) -> dict:
    return torch.load(out / "checkpoint.pt", weights_only=False)["trainer"]["model"]


def test_an_interrupted_run_resumes_bit_identically(tmp_path, model_dir, monkeypatch):
    monkeypatch.chdir(ROOT)
    config = example_config(model_dir)
    train_mid.run(parse(MidRunConfig, config), out=tmp_path / "whole", progress=False)
    step, calls = MidTrainer.step, {"n": 0}

    def interrupted(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 5:  # after the checkpoint at step 4
            raise KeyboardInterrupt
        return step(self, *args, **kwargs)

    monkeypatch.setattr(MidTrainer, "step", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train_mid.run(parse(MidRunConfig, config), out=tmp_path / "cut", progress=False)
    assert json.loads((tmp_path / "cut" / "progress.json").read_text()) == {"step": 4}
    monkeypatch.setattr(MidTrainer, "step", step)
    train_mid.run(parse(MidRunConfig, config), out=tmp_path / "cut", resume=True, progress=False)
    assert records_of(tmp_path / "cut") == records_of(tmp_path / "whole")  # the same blocks, losses, KL, tokens
    whole, cut = final_weights(tmp_path / "whole"), final_weights(tmp_path / "cut")
    assert all(torch.equal(cut[name], tensor) for name, tensor in whole.items())


def test_a_precomputed_reference_trains_as_the_live_one(tmp_path, model_dir, monkeypatch):
    monkeypatch.chdir(ROOT)
    config = example_config(model_dir, steps=3)
    train_mid.run(parse(MidRunConfig, config), out=tmp_path / "live", progress=False)
    precompute = {**config, "train": {**config["train"], "reference": "precompute"}}
    train_mid.run(parse(MidRunConfig, precompute), out=tmp_path / "stored", progress=False)
    assert sorted(p.name for p in (tmp_path / "stored" / "reference").iterdir()) == [
        "000000.pt", "000001.pt", "000002.pt", "complete"]
    for a, b in zip(records_of(tmp_path / "live"), records_of(tmp_path / "stored")):
        assert (a["loss"], a["kl"]) == pytest.approx((b["loss"], b["kl"]), rel=1e-6, abs=1e-9)
    live, stored = final_weights(tmp_path / "live"), final_weights(tmp_path / "stored")
    for name, tensor in live.items():
        torch.testing.assert_close(stored[name], tensor, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("change, message", [
    ({"model": None}, "bad.json: model must be a string, got null"),
    ({"sources": []}, "bad.json: sources must list at least one source"),
    ({"seq_len": 1}, "seq_len must be an integer >= 2"),
    ({"steps": 0}, "steps must be an integer >= 1"),
    ({"train": {"learning_rate": 1}}, r"unknown field 'learning_rate' in 'train' of .*bad.json; expected one of lr, "),
    ({"train": {"reference": "cached"}}, "train.reference must be 'live' or 'precompute'"),
    ({"train": {"beta": -1}}, "train.beta must be a number >= 0"),
    ({"sources": [{"path": "examples/mid_data/medical.txt", "kind": "code"}]}, r"sources\[0\]: weight: source 'code'"),
    ({"sources": [{"path": "nowhere.txt"}]}, r"sources\[0\]: path: no such file"),
])
def test_bad_configs_name_the_field(tmp_path, model_dir, monkeypatch, change, message):
    monkeypatch.chdir(ROOT)
    config = {**example_config(model_dir), **change}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(config))
    with pytest.raises(train_mid.TrainConfigError, match=message):
        train_mid.run(train_mid.load_config(path), out=tmp_path / "run", progress=False)
