"""`clinic-env train grpo CONFIG`: stages chained, the policy carried, logs, checkpoints and resume."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from clinic_agents import train_grpo  # noqa: E402
from clinic_agents.train_config import GRPORunConfig, parse  # noqa: E402
from clinic_cli.main import main  # noqa: E402

PROMPTS = [  # HealthBench-format records whose rubric items carry matchers (offline grading)
    {"prompt": [{"role": "user", "content": "I have had a cough for days"}],
     "rubrics": [{"criterion": "Asks when it started", "points": 5, "tags": [],
                  "matcher": {"any_of": ["start*", "when"]}},
                 {"criterion": "Mentions a chest x-ray", "points": 3, "tags": [],
                  "matcher": {"any_of": ["x-ray"]}}],
     "example_tags": [], "prompt_id": "cough-1", "ideal_completions_data": None},
]


@pytest.fixture
def model_dir(tmp_path, tiny_doctor_parts):
    model, tokenizer = tiny_doctor_parts
    path = tmp_path / "tiny-model"
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def write(path, data):
    path.write_text(json.dumps(data) if not isinstance(data, list) else "\n".join(json.dumps(r) for r in data))
    return path


def test_two_stages_run_from_the_command_line(tmp_path, model_dir, capsys):
    prompts = write(tmp_path / "prompts.jsonl", PROMPTS)
    config = write(tmp_path / "config.json", {
        "seed": 0, "policy": {"kind": "transformers", "model": str(model_dir), "max_new_tokens": 4, "device": "cpu"},
        "train": {"lr": 1e-3, "micro_batch": 4, "max_length": 16},
        "stages": [
            {"name": "rubric-prompts", "kind": "single_turn", "data": str(prompts), "steps": 2, "groups_per_step": 1,
             "group_size": 4},
            {"name": "consultations", "kind": "consultation", "cases": ["pulm_cap_adult"], "steps": 2,
             "groups_per_step": 1, "group_size": 2, "max_turns": 2}]})
    out = tmp_path / "run"
    assert main(["train", "grpo", str(config), "--out", str(out), "--no-progress"]) == 0
    assert "trained: last step reward" in capsys.readouterr().out
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [(r["stage"], r["stage_step"]) for r in log] == [("rubric-prompts", 0), ("rubric-prompts", 1),
                                                            ("consultations", 0), ("consultations", 1)]
    assert [r["step"] for r in log] == [1, 2, 3, 4]  # one policy carried through both stages
    assert all(0.0 <= r["reward"] <= 1.0 for r in log) and "dimensions" in log[-1]
    assert (out / "checkpoint" / "trainer.pt").exists()
    assert json.loads((out / "progress.json").read_text()) == {"stage": 2, "step": 0}
    assert main(["train", "grpo", str(config), "--out", str(out)]) == 2  # never overwrites a run
    assert "--resume" in capsys.readouterr().err


ACTIONS_CONFIG = {"seed": 0, "policy": {"kind": "actions"}, "checkpoint_every": 1,
                  "train": {"lr": 1e-2, "micro_batch": 16, "max_length": 10},
                  "stages": [{"name": "a", "kind": "consultation", "cases": ["pulm_cap_adult"], "steps": 2,
                              "groups_per_step": 2, "group_size": 4, "max_turns": 6},
                             {"name": "b", "kind": "consultation", "cases": ["cardio_new_af"], "steps": 2,
                              "groups_per_step": 2, "group_size": 4, "max_turns": 6}]}


def weights(out):
    return torch.load(out / "checkpoint" / "trainer.pt", weights_only=False)["model"]


def test_an_interrupted_run_resumes_to_the_same_policy(tmp_path, monkeypatch):
    whole = train_grpo.run(parse(GRPORunConfig, ACTIONS_CONFIG), out=tmp_path / "whole", progress=False)
    calls = {"n": 0}
    maker = train_grpo._consultation_group_maker

    def interrupted(*args, **kwargs):
        make_group = maker(*args, **kwargs)

        def group(step, j):
            calls["n"] += 1
            if calls["n"] == 5:  # during stage b's first step
                raise KeyboardInterrupt
            return make_group(step, j)
        return group

    monkeypatch.setattr(train_grpo, "_consultation_group_maker", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train_grpo.run(parse(GRPORunConfig, ACTIONS_CONFIG), out=tmp_path / "cut", progress=False)
    assert json.loads((tmp_path / "cut" / "progress.json").read_text()) == {"stage": 1, "step": 0}
    monkeypatch.setattr(train_grpo, "_consultation_group_maker", maker)
    resumed = train_grpo.run(parse(GRPORunConfig, ACTIONS_CONFIG), out=tmp_path / "cut", resume=True, progress=False)
    assert resumed["last"]["step"] == whole["last"]["step"] == 4
    for name, tensor in weights(tmp_path / "whole").items():
        torch.testing.assert_close(weights(tmp_path / "cut")[name], tensor)


def test_bad_configs_name_the_problem(tmp_path):
    bad = write(tmp_path / "bad.json", {"policy": {"kind": "actions"},
                                        "stages": [{"kind": "single_turn", "data": "x.jsonl"}]})
    with pytest.raises(train_grpo.TrainConfigError, match=r"stages\[0\]: the actions policy plays consultations only"):
        train_grpo.load_config(bad)
    missing = write(tmp_path / "missing.json", {"policy": {"kind": "actions"}, "stages": [{"kind": "single_turn"}]})
    with pytest.raises(train_grpo.TrainConfigError, match=r"missing.json: stages\[0\]: kind 'single_turn' needs 'data'"):
        train_grpo.load_config(missing)
    with pytest.raises(train_grpo.TrainConfigError, match=r"unknown field 'learning_rate' in 'train' of the config; expected one of lr, "):
        train_grpo.run(parse(GRPORunConfig, {**ACTIONS_CONFIG, "train": {"learning_rate": 1}}), out=tmp_path / "x", progress=False)


def test_a_judged_stage_scores_each_group_with_the_llm_judge(tmp_path, monkeypatch):
    from openai_server import judge_reply, serve

    from clinic_env.case_rubric import build_case_rubric
    from clinic_env.cases.library import get_case

    criteria = {c.text: c for c in build_case_rubric(get_case("pulm_cap_adult")).criteria}

    def handler(request):  # meets every positive criterion, no negative one
        item = request.prompt.split("# Rubric item\n", 1)[1].split("\n", 1)[0]
        positive = any(text in item and c.points > 0 for text, c in criteria.items())
        return judge_reply(positive)

    config = {**ACTIONS_CONFIG, "stages": [{**ACTIONS_CONFIG["stages"][0], "steps": 1, "grader": "llm:judge-model"}]}
    with serve(handler=handler) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test")
        result = train_grpo.run(parse(GRPORunConfig, config), out=tmp_path / "judged", progress=False)
        n_requests = len(server.chat_requests)
    assert result["last"]["reward"] == 1.0  # the judge's verdicts, not the offline grader's
    # every criterion of every distinct consultation (the judge asks once for identical ones) of the 2 groups
    assert len(criteria) < n_requests <= 2 * 4 * len(criteria)
    with pytest.raises(train_grpo.TrainConfigError, match="grader must be 'offline' or 'llm:MODEL'"):
        bad = {**ACTIONS_CONFIG, "stages": [{**ACTIONS_CONFIG["stages"][0], "grader": "oracle"}]}
        train_grpo.run(parse(GRPORunConfig, bad), out=tmp_path / "bad", progress=False)


def test_a_single_turn_stage_can_be_judged_in_healthbench_mode(tmp_path, model_dir, monkeypatch):
    from openai_server import judge_reply, serve

    prompts = write(tmp_path / "prompts.jsonl", [{**PROMPTS[0], "rubrics": [  # no matchers: a judge is needed
        {"criterion": "Asks when it started", "points": 5, "tags": []},
        {"criterion": "Recommends an unsafe drug", "points": -5, "tags": []}]}])
    config = {"seed": 0, "policy": {"kind": "transformers", "model": str(model_dir), "max_new_tokens": 3,
                                    "device": "cpu"},
              "train": {"lr": 1e-3, "micro_batch": 4, "max_length": 8},
              "stages": [{"name": "judged", "kind": "single_turn", "data": str(prompts), "steps": 1,
                          "groups_per_step": 1, "group_size": 4, "grader": "llm:judge-model"}]}
    with serve(handler=lambda request: judge_reply("started" in request.prompt)) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test")
        result = train_grpo.run(parse(GRPORunConfig, config), out=tmp_path / "run", progress=False)
        prompts_seen = [r.prompt for r in server.chat_requests]
    assert result["last"]["reward"] == 1.0  # the positive item met, the negative one not
    assert prompts_seen and all("I have had a cough for days" in p for p in prompts_seen)  # HealthBench's mode


def test_rollout_weights_hold_each_batch_at_its_published_version():
    from clinic_agents.rollout_weights import RolloutWeights

    trained, generation = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)
    weights = RolloutWeights(generation.load_state_dict, keep=2)
    snapshots = []
    for version in range(3):
        with torch.no_grad():
            trained.weight.fill_(float(version))
        weights.publish(version, trained)
        snapshots.append(trained.weight.clone())
    with torch.no_grad():
        trained.weight.fill_(99.0)  # an update in progress is never seen by generation
    for version in (1, 2, 1):
        with weights.at(version):
            assert torch.equal(generation.weight, snapshots[version])
    with pytest.raises(KeyError, match="policy version 0 is not published"):  # dropped: keep=2
        with weights.at(0):
            pass


def test_generation_runs_ahead_of_the_update_from_published_weights(tmp_path, monkeypatch):
    """max_staleness 1: each step trains on groups sampled from the weights of at most one
    update before, and their generation-time log-probs are exactly that version's."""
    from clinic_agents.action_policy import tiny_action_model

    versions: dict[int, dict] = {}
    seen: list = []
    make_trainer = train_grpo._trainer

    def recording_trainer(model, config, out):
        trainer = make_trainer(model, config, out)
        step = trainer.step

        def recorded(groups, extra=None):
            versions[trainer.step_count] = {k: v.clone() for k, v in model.state_dict().items()}
            seen.extend((extra["policy_version"], t) for group in groups for t in group)
            return step(groups, extra)
        trainer.step = recorded
        return trainer

    monkeypatch.setattr(train_grpo, "_trainer", recording_trainer)
    config = {**ACTIONS_CONFIG, "max_staleness": 1}
    train_grpo.run(parse(GRPORunConfig, config), out=tmp_path / "stale", progress=False)
    log = [json.loads(line) for line in (tmp_path / "stale" / "log.jsonl").read_text().splitlines()]
    # per stage (2 steps each): the second step's groups were generated while the first trained
    assert [(r["step"], r["policy_version"]) for r in log] == [(1, 0), (2, 0), (3, 2), (4, 2)]
    model = tiny_action_model(0)
    for version, trajectory in seen:
        model.load_state_dict(versions[version])
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([trajectory.token_ids])).logits[0, :-1].float()
        logprobs = torch.log_softmax(logits, -1).gather(1, torch.tensor(trajectory.token_ids[1:])[:, None])[:, 0]
        torch.testing.assert_close(logprobs, torch.tensor(trajectory.logprobs[1:]), atol=1e-5, rtol=0)
    with pytest.raises(train_grpo.TrainConfigError, match="the config: max_staleness must be an integer >= 0, got -1"):
        train_grpo.run(parse(GRPORunConfig, {**ACTIONS_CONFIG, "max_staleness": -1}), out=tmp_path / "bad", progress=False)
