import warnings

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env
from pettingzoo.test import api_test, seed_test

import clinic_env  # noqa: F401
from clinic_env import consultation_v0
from clinic_env.actions import Diagnose, Examine
from clinic_env.leaks import find_leaks
from clinic_env.spaces import fit_to_space, text_space

PNEUMONIA = "pulm_cap_adult"


def make(**kwargs):
    return gym.make("clinic_env/Consultation-v0", **kwargs)


def test_pettingzoo_api_test():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        api_test(consultation_v0.env(), num_cycles=300)


def test_pettingzoo_seed_test():
    seed_test(lambda: consultation_v0.env(), num_cycles=200)


def test_gymnasium_check_env():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(make().unwrapped, skip_render_check=False)


def test_text_space_admits_clinical_text():
    space = text_space()
    assert space.contains("Temp 38.5°C, WCC 16.8 x10^9/L, Na ≥ 135, 5 μL\n\tökay")
    assert space.contains(fit_to_space("emoji 🙂 and nul \x00" + "x" * 10_000))
    assert fit_to_space("a🙂b") == "a\ufffdb"


def test_reset_observation_is_the_opening_statement(pneumonia_case):
    env = make(cases=[PNEUMONIA], persona="calm")
    observation, info = env.reset(seed=0)
    assert observation == pneumonia_case.opening_statement
    messages = info["messages"]
    assert messages[0]["role"] == "system" and "ASK:" in messages[0]["content"]
    assert messages[1] == {"role": "user", "content": observation}
    assert info["turn"] == 0 and env.unwrapped.consultation.case.id == PNEUMONIA
    assert "case_id" not in info and PNEUMONIA not in str(info)


def test_messages_views_track_the_dialogue(pneumonia_case):
    aec = consultation_v0.env(cases=[PNEUMONIA])
    aec.reset(seed=0)
    aec.step("ASK: When did it start?")
    assert aec.agent_selection == "patient"
    observation, _, _, _, info = aec.last()
    assert observation == {"message": "When did it start?"}
    patient_messages = info["messages"]
    assert patient_messages[0]["role"] == "system"
    assert pneumonia_case.history[0].lay in patient_messages[0]["content"]
    assert not find_leaks(patient_messages[0]["content"], pneumonia_case.diagnosis_names)
    assert patient_messages[-1] == {"role": "user", "content": "When did it start?"}
    aec.step("Four days ago.")
    observation, _, _, _, info = aec.last()
    assert aec.agent_selection == "doctor" and observation == {"message": "Four days ago."}
    assert [m["role"] for m in info["messages"]] == ["system", "user", "assistant", "user"]
    assert info["messages"][2]["content"] == "ASK: When did it start?"


def test_exam_keeps_the_turn_with_the_doctor():
    aec = consultation_v0.env(cases=[PNEUMONIA])
    aec.reset(seed=0)
    aec.step(Examine(("respiratory",)))
    assert aec.agent_selection == "doctor"
    assert aec.last()[0]["message"].startswith("[Examination: respiratory]")


@pytest.mark.parametrize("final, rank_reward", [("DIAGNOSE: pneumonia; PE", 1.0), ("DIAGNOSE: PE; lobar pneumonia", 0.5),
                                                ("DIAGNOSE: asthma", 0.0)])
def test_diagnose_terminates_with_synonym_aware_reward(final, rank_reward):
    env = make(cases=[PNEUMONIA], reward="diagnosis_match")
    env.reset(seed=0)
    _, reward, terminated, truncated, info = env.step(final)
    assert terminated and not truncated and reward == pytest.approx(rank_reward)
    assert info["reward_breakdown"]["diagnosed"] is True


def test_end_terminates_without_reward():
    env = make(cases=[PNEUMONIA])
    env.reset(seed=0)
    observation, reward, terminated, truncated, _ = env.step("END: Goodbye.")
    assert terminated and not truncated and reward == 0.0 and "ended" in observation


def test_truncated_at_max_turns():
    env = make(cases=[PNEUMONIA], max_turns=3)
    env.reset(seed=0)
    results = [env.step("ASK: Any fever?") for _ in range(3)]
    assert [r[3] for r in results] == [False, False, True]
    assert not any(r[2] for r in results)


def test_step_after_end_raises_clear_error():
    env = make(cases=[PNEUMONIA])
    env.reset(seed=0)
    env.step("END:")
    with pytest.raises(RuntimeError, match="call reset"):
        env.step("ASK: hello?")
    aec = consultation_v0.raw_env(cases=[PNEUMONIA])
    aec.reset(seed=0)
    aec.step("END:")
    aec.step(None)
    aec.step(None)  # PettingZoo's dead-step rule for both agents
    assert aec.agents == []
    with pytest.raises(RuntimeError, match="call reset"):
        aec.step("ASK: hello?")
    with pytest.raises(ValueError, match="only valid for a finished agent"):
        aec.reset(seed=0)
        aec.step(None)


@pytest.mark.parametrize("mode", ["dense", "terminal"])
def test_diagnosis_reward_sums_to_the_final_score(mode):
    env = make(cases=[PNEUMONIA], reward_mode=mode, reward="diagnosis_match")
    env.reset(seed=1)
    rewards = []
    for action in ["ASK: Any fever?", "EXAMINE: chest", "ORDER: chest x-ray", Diagnose(("pneumonia",), "doxycycline")]:
        _, reward, terminated, _, info = env.step(action)
        rewards.append(reward)
    assert terminated and sum(rewards) == pytest.approx(info["score"]) == pytest.approx(1.0)
    assert rewards[:-1] == [0.0, 0.0, 0.0]


class ProgressReward:
    """A toy reward that grows with each doctor turn, to check dense deltas."""

    name = "progress"

    def reset(self, case):
        self.case = case

    def score(self, consultation):
        from clinic_env.rewards import Score

        return Score(min(1.0, consultation.doctor_turns / 4), {"turns": consultation.doctor_turns})


def test_pluggable_reward_dense_vs_terminal():
    dense = make(cases=[PNEUMONIA], reward=ProgressReward(), max_turns=6)
    dense.reset(seed=0)
    rewards = [dense.step("ASK: Any fever?")[1] for _ in range(6)]
    assert rewards == pytest.approx([0.25, 0.25, 0.25, 0.25, 0.0, 0.0])
    terminal = make(cases=[PNEUMONIA], reward=ProgressReward(), reward_mode="terminal", max_turns=6)
    terminal.reset(seed=0)
    rewards = [terminal.step("ASK: Any fever?")[1] for _ in range(6)]
    assert rewards == pytest.approx([0, 0, 0, 0, 0, 1.0])


def test_same_seed_same_episode_and_seed_picks_case():
    def play(seed):
        env = make(split="train")
        obs, info = env.reset(seed=seed)
        out = [env.unwrapped.consultation.case.id, obs]
        for q in ["When did it start?", "Any other symptoms?", "Anything else?", "Do you smoke?"]:
            out.append(env.step("ASK: " + q)[0])
        return out

    assert play(7) == play(7)
    assert len({play(s)[0] for s in range(12)}) > 3


def test_options_choose_case_and_persona(pneumonia_case):
    env = make()
    observation, info = env.reset(seed=0, options={"case_id": PNEUMONIA, "persona": "anxious"})
    assert env.unwrapped.consultation.case.id == PNEUMONIA and observation != pneumonia_case.opening_statement
    with pytest.raises(KeyError, match="nope"):
        env.reset(options={"case_id": "nope"})


@pytest.mark.parametrize("kwargs, match", [
    ({"reward_mode": "sparse"}, "reward_mode"),
    ({"max_turns": 0}, "max_turns"),
    ({"reward": "vibes"}, "unknown reward 'vibes'"),
    ({"render_mode": "rgb_array"}, "render_mode"),
    ({"cases": "no_such_case"}, "no_such_case"),
    ({"split": "test", "specialty": "astrology"}, "no case matches"),
])
def test_bad_configuration_is_reported(kwargs, match):
    with pytest.raises((ValueError, KeyError), match=match):
        consultation_v0.raw_env(**kwargs)


def test_render_ansi_and_html(pneumonia_case):
    env = make(cases=[PNEUMONIA], render_mode="ansi")
    env.reset(seed=0)
    env.step("ASK: Any <b>fever</b>?")
    env.step("ORDER: CRP")
    text = env.render()
    assert "Doctor: ASK: Any <b>fever</b>?" in text and "[Test: c-reactive protein] CRP 182" in text
    html_env = make(cases=[PNEUMONIA], render_mode="html")
    html_env.reset(seed=0)
    html_env.step("ASK: Any <b>fever</b>?")
    page = html_env.render()
    assert page.startswith("<div") and "&lt;b&gt;fever&lt;/b&gt;" in page and "<b>fever</b>" not in page


def test_typed_and_text_actions_agree():
    a, b = make(cases=[PNEUMONIA]), make(cases=[PNEUMONIA])
    a.reset(seed=3)
    b.reset(seed=3)
    assert a.step(Examine(("respiratory",)))[0] == b.step("EXAMINE: respiratory")[0]


def test_vector_env_steps_consultations_in_parallel():
    envs = gym.make_vec("clinic_env/Consultation-v0", num_envs=2, vectorization_mode="sync",
                        vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.NEXT_STEP})
    observations, _ = envs.reset(seed=0)
    assert len(observations) == 2 and all(isinstance(o, str) and o for o in observations)
    observations, rewards, terminated, truncated, _ = envs.step(("ASK: Any fever?", "END: bye"))
    assert list(terminated) == [False, True] and rewards[0] >= 0.0 and rewards[1] == 0.0  # ending at once earns nothing
    envs.close()


def test_low_verbosity_and_low_recall_still_give_the_fact(pneumonia_case):
    env = make(cases=[PNEUMONIA], persona="terse+forgetful")
    env.reset(seed=0)
    observation = env.step("ASK: When did it start?")[0]
    assert observation.startswith("I'm not sure exactly, but it started about four days ago")


@pytest.mark.parametrize("mode", ["dense", "terminal"])
def test_rubric_is_the_default_reward_and_dense_rewards_sum_to_it(mode):
    env = make(cases=[PNEUMONIA], reward_mode=mode)
    env.reset(seed=0)
    actions = ["ASK: I'm sorry to hear that. When did it start? Any phlegm?", "ASK: Any allergies or medicines?",
               "EXAMINE: vitals, respiratory", "ORDER: chest x-ray; complete blood count",
               "DIAGNOSE: community-acquired pneumonia; pulmonary embolism\nPLAN: doxycycline; review in 48 hours"]
    rewards = []
    for action in actions:
        _, reward, terminated, _, info = env.step(action)
        rewards.append(reward)
    assert terminated
    assert sum(rewards) == pytest.approx(info["score"])
    breakdown = info["reward_breakdown"]
    assert 0.3 < info["score"] < 1.0 and info["score"] == pytest.approx(min(1, max(0, breakdown["raw_score"])))
    assert breakdown["verdicts"]["diagnosis_first"] and breakdown["verdicts"]["exam_respiratory"]
    assert set(breakdown["dimensions"]) >= {"diagnostic_accuracy", "consultation_logic", "examination_and_tests"}
    if mode == "dense":
        assert sum(r != 0 for r in rewards) >= 3  # credit arrives as it is earned
    else:
        assert rewards[:-1] == [0.0] * 4


def test_dense_reward_can_be_negative_when_a_step_loses_points():
    env = make(cases=[PNEUMONIA])
    env.reset(seed=0)
    env.step("ASK: When did it start, any phlegm, any fever?")
    _, reward, *_ = env.step("ORDER: ct pulmonary angiogram")
    assert reward < 0
