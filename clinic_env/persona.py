"""Patient personas: a small, seeded, composable config shared by every patient simulator.

A persona has five behavioural traits, each "low", "medium" or "high" (verbosity, health
literacy, recall, anxiety, reluctance), which the offline patient acts on, and five traits
of character and background, which an LLM patient is told to play (the offline patient
ignores them):

- ``mbti``: personality, one of the 16 Myers-Briggs types (as Baichuan-M2's patient
  simulator uses), e.g. "ISTJ"; lower case is accepted and stored upper case.
- ``education``: "none", "primary", "secondary", "vocational", "university", "postgraduate".
- ``income``: "low", "middle", "high".
- ``language_level``: "simple" (short sentences, basic words), "everyday", "fluent".
- ``emotional_state``: "calm", "worried", "frightened", "frustrated", "irritable",
  "tearful", "embarrassed", "flat".

Specs compose left to right, so ``Persona.from_spec("anxious+low_literacy,verbosity=high")``
is the anxious preset, then the low-literacy preset, then one trait set by hand
(``mbti=ENTP``, ``education=university`` ... work the same way). ``Persona.sample(seed)``
draws every trait at random, reproducibly; the five behavioural traits are drawn first and
exactly as before the background traits existed, so a seed gives the same behavioural
traits it always gave.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, fields, replace
from typing import Literal, get_args

Level = Literal["low", "medium", "high"]
LEVELS: tuple[str, ...] = get_args(Level)

MBTI_TYPES: tuple[str, ...] = (
    "ISTJ", "ISFJ", "INFJ", "INTJ", "ISTP", "ISFP", "INFP", "INTP",
    "ESTP", "ESFP", "ENFP", "ENTP", "ESTJ", "ESFJ", "ENFJ", "ENTJ",
)
EDUCATION: tuple[str, ...] = ("none", "primary", "secondary", "vocational", "university", "postgraduate")
INCOME: tuple[str, ...] = ("low", "middle", "high")
LANGUAGE_LEVELS: tuple[str, ...] = ("simple", "everyday", "fluent")
EMOTIONAL_STATES: tuple[str, ...] = (
    "calm", "worried", "frightened", "frustrated", "irritable", "tearful", "embarrassed", "flat",
)

# The behavioural traits the offline patient acts on, in the order ``sample`` draws them.
BEHAVIOUR_TRAITS: tuple[str, ...] = ("verbosity", "health_literacy", "recall", "anxiety", "reluctance")

# The allowed values of every trait.
TRAIT_VALUES: dict[str, tuple[str, ...]] = {
    **{name: LEVELS for name in BEHAVIOUR_TRAITS},
    "mbti": MBTI_TYPES,
    "education": EDUCATION,
    "income": INCOME,
    "language_level": LANGUAGE_LEVELS,
    "emotional_state": EMOTIONAL_STATES,
}

# ``sample`` draws the emotional state to fit the anxiety it drew, so a sampled persona is
# never told to be both very anxious and calm.
_STATES_BY_ANXIETY: dict[str, tuple[str, ...]] = {
    "low": ("calm", "calm", "frustrated", "irritable", "embarrassed", "flat"),
    "medium": ("calm", "worried", "frustrated", "irritable", "embarrassed", "tearful", "flat"),
    "high": ("worried", "worried", "frightened", "tearful"),
}


@dataclass(frozen=True)
class Persona:
    """How a patient talks and who they are.

    Behavioural traits (the offline patient changes what it says for each, visibly):
    verbosity: how much is said per answer (one short sentence .. volunteers extra facts).
    health_literacy: low asks what medical words mean; high knows them (an LLM patient may use clinical terms, in its own voice).
    recall: low is vague about times and medicine names until pressed.
    anxiety: high adds worries to answers and the opening statement.
    reluctance: high deflects sensitive questions (sex, drugs, alcohol) until reassured or asked again.

    Character and background (for LLM patients; see the module docstring for the values):
    mbti, education, income, language_level, emotional_state.
    """

    verbosity: Level = "medium"
    health_literacy: Level = "medium"
    recall: Level = "high"
    anxiety: Level = "low"
    reluctance: Level = "low"
    mbti: str = "ISFJ"  # the most common type in population surveys
    education: str = "secondary"
    income: str = "middle"
    language_level: str = "everyday"
    emotional_state: str = "calm"

    def __post_init__(self) -> None:
        if isinstance(self.mbti, str):
            object.__setattr__(self, "mbti", self.mbti.strip().upper())
        for f in fields(self):
            value, allowed = getattr(self, f.name), TRAIT_VALUES[f.name]
            if value not in allowed:
                raise ValueError(f"persona trait {f.name!r} must be one of {allowed}, got {value!r}")

    @classmethod
    def sample(cls, seed: int | random.Random | None = None) -> Persona:
        """Every trait drawn at random; the same seed gives the same persona.

        The behavioural traits are drawn first, uniformly, as they always were; then the
        MBTI type, education, income and language level uniformly, and an emotional state
        that fits the anxiety drawn.
        """
        rng = seed if isinstance(seed, random.Random) else random.Random(seed)
        traits = {name: rng.choice(LEVELS) for name in BEHAVIOUR_TRAITS}
        traits["mbti"] = rng.choice(MBTI_TYPES)
        traits["education"] = rng.choice(EDUCATION)
        traits["income"] = rng.choice(INCOME)
        traits["language_level"] = rng.choice(LANGUAGE_LEVELS)
        traits["emotional_state"] = rng.choice(_STATES_BY_ANXIETY[traits["anxiety"]])
        return cls(**traits)

    @classmethod
    def from_spec(cls, spec: str | dict | Persona | None) -> Persona:
        """Build from presets and ``trait=value`` pairs joined by '+' or ',', a dict, or a Persona."""
        if spec is None:
            return cls()
        if isinstance(spec, Persona):
            return spec
        if isinstance(spec, dict):
            return cls().with_traits(**spec)
        persona = cls()
        for part in (p.strip() for p in spec.replace(",", "+").split("+")):
            if not part:
                continue
            if "=" in part:
                trait, level = (s.strip() for s in part.split("=", 1))
                persona = persona.with_traits(**{trait: level})
            elif part in PRESETS:
                persona = persona.with_traits(**PRESETS[part])
            else:
                raise ValueError(f"unknown persona preset {part!r} in spec {spec!r}; presets: {sorted(PRESETS)}")
        return persona

    def with_traits(self, **traits: str) -> Persona:
        """A copy with some traits changed; unknown trait names are an error."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(traits) - known)
        if unknown:
            raise ValueError(f"unknown persona trait(s) {unknown}; traits: {sorted(known)}")
        return replace(self, **traits)

    def to_dict(self) -> dict[str, str]:
        return dict(vars(self))  # traits are plain strings: no need for asdict's deep copy

    def describe(self) -> str:
        """A short instruction for an LLM patient playing this persona (every trait, by name)."""
        return ", ".join(f"{name.replace('_', ' ')}: {level}" for name, level in vars(self).items())


PRESETS: dict[str, dict[str, str]] = {
    "typical": {},
    "terse": {"verbosity": "low"},
    "talkative": {"verbosity": "high"},
    "anxious": {"anxiety": "high", "emotional_state": "worried"},
    "calm": {"anxiety": "low", "emotional_state": "calm"},
    "low_literacy": {"health_literacy": "low"},
    "clinician": {"health_literacy": "high"},
    "forgetful": {"recall": "low"},
    "guarded": {"reluctance": "high"},
    # character and background (LLM patients)
    "frightened": {"anxiety": "high", "emotional_state": "frightened"},
    "frustrated": {"emotional_state": "frustrated"},
    "irritable": {"emotional_state": "irritable"},
    "tearful": {"emotional_state": "tearful"},
    "embarrassed": {"emotional_state": "embarrassed"},
    "simple_language": {"language_level": "simple"},
    "fluent": {"language_level": "fluent"},
    "graduate": {"education": "university", "language_level": "fluent"},
    "little_schooling": {"education": "primary", "language_level": "simple"},
    "low_income": {"income": "low"},
    "high_income": {"income": "high"},
}
