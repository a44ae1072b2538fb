"""The scripted doctor's knowledge files: the loader expands shared keyword sets as written and
rejects a malformed file with a message naming the file and the field."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from clinic_agents.knowledge_base import CONDITIONS, KNOWLEDGE_DIR, KnowledgeError, load_conditions


def test_shared_sets_expand_in_place_and_word_ends_are_kept():
    sets = json.loads((KNOWLEDGE_DIR / "keyword_sets.json").read_text())
    pericarditis = next(c for c in CONDITIONS if c.name == "Acute pericarditis")
    recent_cold = next(keys for keys, _ in pericarditis.symptoms if keys[0] == "recent cold")
    assert "flu " in recent_cold and "flu-like" in recent_cold  # "flu " must end a word: not "fluid"
    stemi = CONDITIONS[0]
    risk = next(keys for keys, weight in stemi.context if weight == 0.5)
    assert risk == (*sets["high_bp"], "diabetes", "cholesterol")
    assert {c.pregnancy for c in CONDITIONS} == {None, "required"} and {c.sex for c in CONDITIONS} == {None, "male", "female"}


@pytest.fixture
def knowledge(tmp_path: Path):
    """A copy of the knowledge folder and a function that edits its first condition and loads it."""
    folder = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, folder)
    path = folder / "conditions.json"

    def load_with(edit) -> None:
        conditions = json.loads(path.read_text())
        edit(conditions[0])
        path.write_text(json.dumps(conditions))
        load_conditions(folder)

    return folder, load_with


@pytest.mark.parametrize("edit, message", [
    (lambda c: c["symptoms"][0]["keywords"].append("@fevr"),
     r"conditions\[0\] \(ST-elevation myocardial infarction \(STEMI\)\)\.symptoms\[0\]\.keywords\[1\]: no keyword set 'fevr'"),
    (lambda c: c["symptoms"][1].update(weight="2"), r"conditions\[0\] .*\.symptoms\[1\]\.weight: expected a number"),
    (lambda c: c["findings"][0].update(weight=0), r"\.findings\[0\]\.weight: must be positive"),
    (lambda c: c["symptoms"][1]["keywords"].append("Jaw"), r"\.symptoms\[1\]\.keywords\[4\]: keyword 'Jaw' must be lower-case"),
    (lambda c: c["tests"].append("troponine"), r"\.tests\[3\]: 'troponine' is not in the investigations catalogue"),
    (lambda c: c["exam"].append("heart"), r"\.exam\[2\]: 'heart' is not in clinic_env.exam_systems"),
    (lambda c: c.pop("plan"), r"conditions\[0\] .*: missing fields \['plan'\], unknown fields \[\]"),
    (lambda c: c.update(age=[30, 120]), r"missing fields \[\], unknown fields \['age'\]"),
    (lambda c: c.update(disposition="home"), r"\.disposition: expected one of discharge_home, .*got 'home'"),
    (lambda c: c.update(ages=[60, 30]), r"\.ages: expected \[low, high\] with low < high"),
    (lambda c: c.update(name="Acute heart failure"), r"condition names repeated: \['Acute heart failure'\]"),
])
def test_a_malformed_condition_is_named_by_file_and_field(knowledge, edit, message):
    folder, load_with = knowledge
    with pytest.raises(KnowledgeError, match=message) as error:
        load_with(edit)
    assert str(folder / "conditions.json") in str(error.value)


def test_broken_json_and_bad_keyword_sets_name_their_file(knowledge):
    folder, _ = knowledge
    (folder / "conditions.json").write_text('[\n  {"name": "x",\n}')
    with pytest.raises(KnowledgeError, match=r"conditions.json: not valid JSON \(.* at line 3\)"):
        load_conditions(folder)
    (folder / "keyword_sets.json").write_text('{"fever": "fever; chills"}')
    with pytest.raises(KnowledgeError, match=r"keyword_sets.json: fever: expected a list of keywords"):
        load_conditions(folder)
