"""Patient personas: a small, seeded, composable config shared by every patient simulator.

A persona is five traits, each "low", "medium" or "high". Specs compose left to right,
so ``Persona.from_spec("anxious+low_literacy,verbosity=high")`` is the anxious preset,
then the low-literacy preset, then one trait set by hand. ``Persona.sample(seed)``
draws every trait at random, reproducibly.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, fields, replace
from typing import Literal, get_args

Level = Literal["low", "medium", "high"]
LEVELS: tuple[str, ...] = get_args(Level)


@dataclass(frozen=True)
class Persona:
    """How a patient talks. Each trait changes what the offline patient says, visibly.

    verbosity: how much is said per answer (one short sentence .. volunteers extra facts).
    health_literacy: low asks what medical words mean; high answers in clinical wording.
    recall: low is vague about times and medicine names until pressed.
    anxiety: high adds worries to answers and the opening statement.
    reluctance: high deflects sensitive questions (sex, drugs, alcohol) until reassured or asked again.
    """

    verbosity: Level = "medium"
    health_literacy: Level = "medium"
    recall: Level = "high"
    anxiety: Level = "low"
    reluctance: Level = "low"

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if value not in LEVELS:
                raise ValueError(f"persona trait {f.name!r} must be one of {LEVELS}, got {value!r}")

    @classmethod
    def sample(cls, seed: int | random.Random | None = None) -> "Persona":
        """Every trait drawn uniformly; the same seed gives the same persona."""
        rng = seed if isinstance(seed, random.Random) else random.Random(seed)
        return cls(**{f.name: rng.choice(LEVELS) for f in fields(cls)})

    @classmethod
    def from_spec(cls, spec: "str | dict | Persona | None") -> "Persona":
        """Build from presets and ``trait=level`` pairs joined by '+' or ',', a dict, or a Persona."""
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

    def with_traits(self, **traits: str) -> "Persona":
        """A copy with some traits changed; unknown trait names are an error."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(traits) - known)
        if unknown:
            raise ValueError(f"unknown persona trait(s) {unknown}; traits: {sorted(known)}")
        return replace(self, **traits)

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    def describe(self) -> str:
        """A short instruction for an LLM patient playing this persona."""
        return ", ".join(f"{name.replace('_', ' ')}: {level}" for name, level in asdict(self).items())


PRESETS: dict[str, dict[str, str]] = {
    "typical": {},
    "terse": {"verbosity": "low"},
    "talkative": {"verbosity": "high"},
    "anxious": {"anxiety": "high"},
    "calm": {"anxiety": "low"},
    "low_literacy": {"health_literacy": "low"},
    "clinician": {"health_literacy": "high"},
    "forgetful": {"recall": "low"},
    "guarded": {"reluctance": "high"},
}
