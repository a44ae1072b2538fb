"""A scripted baseline doctor: a fixed history, a few targeted questions, one exam, one order, a ranked guess.

No model and no access to the case: it reads only what the environment shows a doctor,
the observation and the system prompt in ``info["messages"]`` (for age, sex and
pregnancy). What it believes comes from the condition data in ``agents/knowledge/`` (loaded by
``clinic_agents.knowledge_base``): a keyword heard in the patient's words or read in an exam or
test report adds its feature's weight to every condition that lists it; a denied one takes half away.

    doctor = ScriptedDoctor()
    observation, info = env.reset(seed=0)
    doctor.reset(seed=0)
    while True:
        observation, reward, terminated, truncated, info = env.step(doctor.act(observation, info))
        if terminated or truncated:
            break

The script: 7 OPQRST questions (the first with a greeting), "any other symptoms?" twice,
3 targeted questions about the leading conditions, past history, medicines, allergies,
smoking and alcohol, family history (and periods or pregnancy for women of 12-50), one
EXAMINE, one ORDER, then DIAGNOSE with the top three and the plan of the first:
20-21 actions, under the env's default limit of 30.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from clinic_agents.knowledge_base import CONDITIONS, Condition
from clinic_env.investigations import lookup
from clinic_rubrics.text import APOSTROPHES, is_negated
from clinic_rubrics.text import clauses as text_clauses

# ---- reading text ------------------------------------------------------------------------

_SPACES = str.maketrans({c: " " for c in ',.:()[]"!?'})
# Every keyword of the table, with a leading space so it matches only where a word starts,
# filed under the start of its first word so a text is searched only for keywords its words could begin.
KEYWORDS: tuple[str, ...] = tuple(dict.fromkeys(" " + k for c in CONDITIONS for keys, _ in c.features for k in keys))
BY_START: dict[str, list[str]] = {}
for _key in KEYWORDS:
    BY_START.setdefault(_key.split()[0][:3], []).append(_key)
# Each condition's features with their keywords as sets, for fast scoring.
FEATURE_SETS: tuple[tuple[Condition, tuple[tuple[frozenset[str], float], ...]], ...] = tuple(
    (c, tuple((frozenset(keys), weight) for keys, weight in c.features)) for c in CONDITIONS)
# Keyword -> the (condition, feature) positions it belongs to, for scoring by what was heard.
FEATURES_BY_KEYWORD: dict[str, list[tuple[int, int]]] = {}
for _c, (_condition, _features) in enumerate(FEATURE_SETS):
    for _f, (_keys, _weight) in enumerate(_features):
        for _key in _keys:
            FEATURES_BY_KEYWORD.setdefault(_key, []).append((_c, _f))


def clauses(text: str) -> list[str]:
    """The clauses of ``clinic_rubrics.text`` (where a denial's scope ends), lower-cased,
    punctuation as spaces, padded so every word has a space before and after."""
    return [" " + part.translate(_SPACES) + " " for part in text_clauses(text.lower().translate(APOSTROPHES))]


@lru_cache(maxsize=8192)
def read(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """The table's keywords found in ``text``: (affirmed, denied). Pure, so cached: replies recur."""
    parts = clauses(text)
    joined = "".join(parts)
    yes: set[str] = set()
    no: set[str] = set()
    starts = {word[:3] for word in joined.split()}
    for key in (key for start in starts for key in BY_START.get(start, ())):
        if key in joined:
            for part in parts:
                at = part.find(key)
                if at >= 0:
                    (no if is_negated(part, at + 1, at + len(key)) else yes).add(key[1:])
    return frozenset(yes), frozenset(no - yes)


def is_bare_denial(reply: str) -> bool:
    """A reply that opens with a plain no ("No, nothing like that.")."""
    first = clauses(reply)[:1]
    return bool(first) and first[0].startswith((" no ", " nope ", " not really ", " nothing ", " never "))


def strip_report(line: str) -> str:
    """An examiner line without its "[Examination: x]" label, reference range and cost."""
    if line.startswith("["):
        line = line[line.find("]") + 1:]
    for tail in (" [reference:", " (cost $"):
        if tail in line:
            line = line[: line.index(tail)]
    return line


# ---- who the patient is ----------------------------------------------------------------------

_DEMOGRAPHICS = re.compile(r"seeing an? (\d+(?:\.\d+)?)-(year|month)-old (male|female)( \(pregnant\))?")


@dataclass
class Patient:
    age: float = 40.0
    sex: str = ""
    pregnant: bool = False


def read_patient(messages: list[dict]) -> Patient:
    """Age, sex and pregnancy from the doctor's system prompt, e.g. "seeing a 58-year-old male"."""
    system = next((m.get("content", "") for m in messages if m.get("role") == "system"), "")
    match = _DEMOGRAPHICS.search(system)
    if match is None:
        return Patient()
    age = float(match.group(1)) / (12 if match.group(2) == "month" else 1)
    return Patient(age, match.group(3), bool(match.group(4)))


def prior(condition: Condition, patient: Patient) -> float:
    """Obvious priors only: wrong sex or no pregnancy rules out; outside the age range counts against."""
    if condition.sex and patient.sex and condition.sex != patient.sex:
        return -100.0
    if condition.pregnancy == "required":
        return 2.0 if patient.pregnant else -100.0
    low, high = condition.ages
    return 0.0 if low <= patient.age <= high else -4.0


# ---- what to say ---------------------------------------------------------------------------

OPQRST = (
    ("Hello, I'm the doctor. When did this start, and did it come on suddenly or gradually?",
     "Hello, thanks for coming in. When did it all begin, and did it start suddenly or gradually?"),
    ("Can you describe what it feels like?", "How would you describe it, in your own words?"),
    ("Where exactly is it, and does it spread anywhere?", "Where exactly do you feel it, and does it spread anywhere else?"),
    ("How bad is it, on a scale of one to ten?", "How severe is it, out of ten?"),
    ("Is it there all the time, or does it come and go?", "Is it constant, or does it come and go?"),
    ("What makes it worse, and what makes it better?", "What makes it better, and what makes it worse?"),
    ("Has anything like this happened before?", "Have you ever had anything like this before?"),
)
OTHER_SYMPTOMS = (
    ("Have you noticed any other symptoms?", "Have you had any other symptoms along with it?"),
    ("Is there anything else you've noticed, even something small?", "Anything else at all that you've noticed?"),
)
PAST_HISTORY = "Do you have any medical conditions, or have you had any operations?"
MEDICINES = "Do you take any regular medicines?"
ALLERGIES = "Do you have any allergies?"
SOCIAL = "This is routine and confidential: do you smoke, and how much alcohol do you drink?"
SOCIAL_CHILD = "Does anyone at home smoke?"
FAMILY = "Does anything run in your family?"
PERIODS = "When was your last period, and is there any chance you could be pregnant?"
PREGNANCY = "Tell me about this pregnancy: has it all been going well so far?"

MAX_EXAM_SYSTEMS = 6
MAX_TESTS = 5


class ScriptedDoctor:
    """The baseline doctor. After ``max_actions`` actions it diagnoses whatever the script says."""

    def __init__(self, max_actions: int = 28) -> None:
        self.max_actions = max_actions
        self.reset()

    # ---- protocol ------------------------------------------------------------------------

    def reset(self, seed: int | None = None) -> None:
        """Forget the last consultation; the seed only picks between equivalent wordings."""
        self._rng = random.Random(seed)
        self.patient = Patient()
        self.affirmed: set[str] = set()
        self.denied: set[str] = set()
        self._asked: set[tuple[str, ...]] = set()
        self._listening = True  # whether the next reply is evidence (family history and allergies are not)
        self._targeted: tuple[str, ...] | None = None
        self._script: Iterator[str] | None = None
        self._actions = 0

    def act(self, observation: str, info: dict) -> str:
        """Read the latest observation, then take the next step of the script."""
        if self._script is None:
            self.patient = read_patient(info.get("messages", []))
            self._script = self._consultation()
        self._read(observation)
        self._actions += 1
        if self._actions >= self.max_actions:
            return self._diagnose()
        return next(self._script, None) or self._diagnose()

    # ---- the script -------------------------------------------------------------------------

    def _consultation(self) -> Iterator[str]:
        for wordings in OPQRST + OTHER_SYMPTOMS:
            yield self._ask(self._rng.choice(wordings))
        for _ in range(3):
            question = self._targeted_question()
            if question:
                yield question
        yield self._ask(PAST_HISTORY)
        yield self._ask(MEDICINES)
        yield self._ask(ALLERGIES, listen=False)
        yield self._ask(SOCIAL if self.patient.age >= 12 else SOCIAL_CHILD)
        yield self._ask(FAMILY, listen=False)
        if self.patient.sex == "female" and 12 <= self.patient.age <= 50:
            yield self._ask(PREGNANCY if self.patient.pregnant else PERIODS)
        yield self._examine()
        yield self._order()
        yield self._diagnose()

    def _ask(self, text: str, listen: bool = True) -> str:
        self._listening = listen
        return f"ASK: {text}"

    def _targeted_question(self) -> str | None:
        """Ask about the heaviest symptom of the top three conditions not yet heard, denied or asked."""
        best, best_weight = None, 0.0
        for condition in self.top(3):
            for keys, weight in condition.symptoms:
                if weight > best_weight and keys not in self._asked and not self._known(keys):
                    best, best_weight = keys, weight
        if best is None:
            return None
        self._asked.add(best)
        phrase = (" " + best[0].strip() + " ").replace(" my ", " your ").replace(" i ", " you ").strip()
        question = self._ask(f"Have you had any {phrase}?")
        self._targeted = best
        return question

    def _examine(self) -> str:
        systems = ["vitals", "general"]
        for condition in self.top(3):
            for system in condition.exam:
                if system not in systems and len(systems) < MAX_EXAM_SYSTEMS and self._applicable(system):
                    systems.append(system)
        return "EXAMINE: " + ", ".join(systems)

    def _applicable(self, system: str) -> bool:
        if system == "obstetric":
            return self.patient.pregnant
        if system in ("pelvic", "breast"):
            return self.patient.sex == "female" and self.patient.age >= 14
        return True

    def _order(self) -> str:
        """The key tests of the top two conditions (the leader's first), at most five, cheapest first."""
        tests: list[str] = []
        for condition in self.top(2):
            tests += [t for t in condition.tests if t not in tests and self._sensible(t)]
        chosen = sorted(tests[:MAX_TESTS], key=lambda t: lookup(t).cost)
        return "ORDER: " + "; ".join(chosen or ["complete blood count"])

    def _sensible(self, test: str) -> bool:
        if test in ("urine pregnancy test", "pelvic ultrasound"):
            return self.patient.sex == "female" and 12 <= self.patient.age <= 55
        return True

    def _diagnose(self) -> str:
        ranked = self.top(3)
        lead = ranked[0]
        return (f"DIAGNOSE: {'; '.join(c.name for c in ranked)}\n"
                f"PLAN: {lead.plan} Disposition: {lead.disposition.replace('_', ' ')}.")

    # ---- reading and ranking --------------------------------------------------------------

    def _read(self, observation: str) -> None:
        """Take the evidence in a patient reply or an examiner report."""
        if observation.startswith("[Examination:") or observation.startswith("[Test:"):
            text = "\n".join(strip_report(line) for line in observation.splitlines())
        elif self._listening and not observation.lower().startswith("sorry, doctor"):
            text = observation
        else:
            text = ""
        yes, no = read(text) if text else (frozenset(), frozenset())
        self.affirmed |= yes
        self.denied |= no
        asked, self._targeted = self._targeted, None
        if asked and not any(k in yes for k in asked) and is_bare_denial(observation):
            self.denied.add(asked[0])

    def _known(self, keys: tuple[str, ...]) -> bool:
        return any(k in self.affirmed or k in self.denied for k in keys)

    def scores(self) -> list[tuple[float, Condition]]:
        """Each condition's prior, plus the weight of each feature heard, minus half of each denied.

        Walks the keywords heard (a few dozen) through ``FEATURES_BY_KEYWORD`` rather than every
        feature of every condition (about a thousand)."""
        heard = {f for k in self.affirmed for f in FEATURES_BY_KEYWORD.get(k, ())}
        denied = {f for k in self.denied for f in FEATURES_BY_KEYWORD.get(k, ())} - heard
        totals = [prior(condition, self.patient) for condition, _ in FEATURE_SETS]
        for (c, f) in heard:
            totals[c] += FEATURE_SETS[c][1][f][1]
        for (c, f) in denied:
            totals[c] -= 0.5 * FEATURE_SETS[c][1][f][1]
        return [(total, condition) for total, (condition, _) in zip(totals, FEATURE_SETS)]

    def top(self, n: int) -> list[Condition]:
        """The ``n`` highest-scoring conditions (ties keep table order)."""
        ranked = sorted(self.scores(), key=lambda pair: pair[0], reverse=True)
        return [condition for _, condition in ranked[:n]]
