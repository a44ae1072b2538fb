"""Quickstart: make the env, step a consultation by hand, then let the scripted doctor play one.

    python examples/quickstart.py
"""

import gymnasium as gym

import clinic_env  # noqa: F401  (registers clinic_env/Consultation-v0)
from clinic_agents.scripted_doctor import ScriptedDoctor
from clinic_env.rollout import run_consultation

env = gym.make("clinic_env/Consultation-v0", split="test", render_mode="ansi")

# 1. By hand: the observation is the patient's latest words (or the examiner's report).
observation, info = env.reset(seed=0)
print("Patient:", observation)
for action in ["ASK: When did this start?", "ASK: Any other symptoms?", "EXAMINE: vitals", "ORDER: complete blood count"]:
    observation, reward, terminated, truncated, info = env.step(action)
    print(f"{action}\n  -> {observation}")
print("cost so far: $", info["cost"])

# 2. A whole consultation with the scripted baseline doctor.
result = run_consultation(env, ScriptedDoctor(), seed=0)
print(env.render())
print(f"case {result.case_id}: score {result.score:.2f} after {result.doctor_turns} doctor turns")
