"""The offline patient against a labelled set of questions worded as clinicians write them.

Each line of data/patient_questions.jsonl names a builtin case, a question, ``expect`` (a
distinctive substring of the lay wording a correct answer must contain, or null when the
case has no fact on what is asked, so no fact may be given) and ``not`` (substrings that
must not appear, e.g. a fact a word collision would trigger). Items with ``"kind":
"collision"`` test a word that contains a shorter keyword (week/wee, legal/leg,
early/ear, fluid/flu, fatigue/fat, periods/pe).

Measured on the first 90 items: 0.867 (78/90) with the keyword rule of commit 2e8b5a2; 0.800
(72/90) with the rule before it (every keyword a prefix, case files without ``*`` stems).
With onset and timing cues for "did this start ...", "when did he first ...", "last seen
well" and "going on since ...", and 14 more such items: 0.933 (97/104); 0.817 (85/104) without
those cues.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from clinic_env.cases.library import get_case
from clinic_env.patient import OfflinePatient
from clinic_env.persona import Persona

DATA = Path(__file__).parent / "data" / "patient_questions.jsonl"
ACCURACY_FLOOR = 0.9  # a little below the 0.933 measured


def load_items() -> list[dict]:
    return [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]


@cache
def _view(case_id: str):
    return get_case(case_id).patient_view()


def fact_lays(view) -> list[str]:
    """The lay wording of every patient-side fact of a case."""
    lays = [f.lay for f in view.history] + [n.lay for n in view.pertinent_negatives]
    for name in ("past_history", "medications", "allergies", "social_history", "family_history",
                 "sexual_history", "travel_history", "obstetric_history"):
        lays += [i.lay for i in getattr(view, name, [])]
    return lays


def ask(item: dict) -> str:
    """The item's question put to a fresh patient (typical persona, seed 0)."""
    patient = OfflinePatient()
    patient.reset(_view(item["case"]), Persona.from_spec("typical"), 0)
    return patient.reply(item["question"])


def collided(item: dict, answer: str) -> bool:
    """The answer gives a fact it must not (a ``not`` substring, or any fact for expect null)."""
    if any(bad in answer for bad in item.get("not", [])):
        return True
    return item["expect"] is None and any(lay in answer for lay in fact_lays(_view(item["case"])))


def correct(item: dict, answer: str) -> bool:
    if collided(item, answer):
        return False
    return item["expect"] is None or item["expect"] in answer


def test_the_set_is_well_formed():
    items = load_items()
    assert len(items) >= 50
    for item in items:
        assert set(item) <= {"case", "question", "expect", "not", "kind"}, item
        view = _view(item["case"])
        if item["expect"] is not None:
            assert any(item["expect"] in lay for lay in fact_lays(view)), f"expect is no fact's wording: {item}"


def test_accuracy_on_clinicians_questions():
    items = load_items()
    failures = []
    for item in items:
        answer = ask(item)
        if not correct(item, answer):
            failures.append(f"[{item['case']}] {item['question']!r} expect={item['expect']!r} -> {answer!r}")
    accuracy = 1 - len(failures) / len(items)
    print(f"offline patient accuracy: {accuracy:.3f} ({len(items) - len(failures)}/{len(items)})")
    assert accuracy >= ACCURACY_FLOOR, (
        f"accuracy {accuracy:.3f} < {ACCURACY_FLOOR}; failures:\n" + "\n".join(failures))


def test_no_word_collision_gives_the_wrong_fact():
    """A longer word never triggers the fact of a short keyword it contains (week is not wee).
    A question not understood at all is the accuracy test's to count; here only the collision
    itself fails."""
    items = [item for item in load_items() if item.get("kind") == "collision"]
    assert len(items) >= 8
    failures = []
    for item in items:
        answer = ask(item)
        if collided(item, answer):
            failures.append(f"[{item['case']}] {item['question']!r} -> {answer!r}")
    assert not failures, "word collisions:\n" + "\n".join(failures)
