"""The scripted baseline doctor's knowledge: condition data files and their typed loader.

The knowledge is data in ``knowledge/``, written from general clinical knowledge as a clinician
would list the features of each condition; it is not tuned to the wording of any case.

``knowledge/conditions.json`` is a list of conditions. Their order is the doctor's tie-break
(equal scores rank in file order). Each condition has:

* ``name``, ``specialty``, ``plan`` and ``disposition`` (discharge_home, follow_up,
  refer_specialist, same_day, admit or emergency);
* ``symptoms`` (features the doctor may ask about), ``context`` (risk factors and timing, heard
  in the history but not asked about one by one) and ``findings`` (seen only on examination or
  in test results): lists of ``{"weight": w, "keywords": [...]}``;
* ``exam``: 1-3 systems of ``clinic_env.exam_systems``; ``tests``: 2-4 tests of the
  ``clinic_env.investigations`` catalogue;
* optional priors: ``ages`` ``[low, high]`` (outside counts against; default any age),
  ``sex`` ("male" or "female") and ``pregnancy`` ("required": only in a known pregnancy).

A keyword is lower-case lay or clinical words and matches where a word starts ("cough" finds
"coughing"; "red" does not match "tired"); one with a trailing space must also end a word
("flu " is not "fluid"). The first keyword of a symptom is also how the doctor asks about it
("Have you had any <first keyword>?"), so it is an everyday noun phrase. ``"@fever"`` stands
for the keywords of the set ``fever`` in ``knowledge/keyword_sets.json``: sets that several
conditions share, so the same symptom reads the same everywhere.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clinic_env.exam_systems import EXAM_SYSTEMS
from clinic_env.investigations import lookup

KNOWLEDGE_DIR = Path(__file__).parent / "knowledge"
DISPOSITIONS = ("discharge_home", "follow_up", "refer_specialist", "same_day", "admit", "emergency")
FEATURE_KINDS = ("symptoms", "context", "findings")
REQUIRED = ("name", "specialty", "symptoms", "exam", "tests", "plan", "disposition")
OPTIONAL = ("context", "findings", "ages", "sex", "pregnancy")

Feature = tuple[tuple[str, ...], float]


class KnowledgeError(ValueError):
    """A knowledge file that does not follow the layout; the message names the file and field."""


@dataclass(frozen=True)
class Condition:
    name: str
    specialty: str
    symptoms: tuple[Feature, ...]
    findings: tuple[Feature, ...]
    exam: tuple[str, ...]
    tests: tuple[str, ...]
    plan: str
    disposition: str
    ages: tuple[float, float] = (0.0, 120.0)
    sex: str | None = None
    pregnancy: str | None = None
    context: tuple[Feature, ...] = ()

    @property
    def features(self) -> tuple[Feature, ...]:
        return self.symptoms + self.context + self.findings


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise KnowledgeError(f"{path}: cannot be read ({error.strerror})") from None
    except json.JSONDecodeError as error:
        raise KnowledgeError(f"{path}: not valid JSON ({error.msg} at line {error.lineno})") from None


def _expect(value: Any, kind: type | tuple[type, ...], where: str, what: str) -> Any:
    if not isinstance(value, kind) or isinstance(value, bool):
        raise KnowledgeError(f"{where}: expected {what}, got {json.dumps(value)[:60]}")
    return value


def _keyword(value: Any, where: str) -> str:
    _expect(value, str, where, "a keyword string")
    if not value.strip() or value.startswith(" ") or value != value.lower():
        raise KnowledgeError(f"{where}: keyword {value!r} must be lower-case words without a leading space")
    return value


def load_keyword_sets(path: Path) -> dict[str, tuple[str, ...]]:
    """The shared keyword sets: name -> keywords."""
    sets = _expect(_read_json(path), dict, str(path), "an object of set name -> list of keywords")
    return {name: tuple(_keyword(k, f"{path}: {name}[{i}]")
                        for i, k in enumerate(_expect(keys, list, f"{path}: {name}", "a list of keywords")))
            for name, keys in sets.items()}


def _feature(value: Any, sets: dict[str, tuple[str, ...]], where: str) -> Feature:
    _expect(value, dict, where, 'an object {"weight": w, "keywords": [...]}')
    if set(value) != {"weight", "keywords"}:
        raise KnowledgeError(f"{where}: expected the fields weight and keywords, got {sorted(value)}")
    weight = _expect(value["weight"], (int, float), f"{where}.weight", "a number")
    if weight <= 0:
        raise KnowledgeError(f"{where}.weight: must be positive, got {weight}")
    keys: list[str] = []
    for i, key in enumerate(_expect(value["keywords"], list, f"{where}.keywords", "a list of keywords")):
        at = f"{where}.keywords[{i}]"
        if isinstance(key, str) and key.startswith("@"):
            if key[1:] not in sets:
                raise KnowledgeError(f"{at}: no keyword set {key[1:]!r} in keyword_sets.json")
            keys += sets[key[1:]]
        else:
            keys.append(_keyword(key, at))
    if not keys:
        raise KnowledgeError(f"{where}.keywords: empty")
    return tuple(keys), float(weight)


def _names(value: Any, where: str, known: Any, catalogue: str) -> tuple[str, ...]:
    names = _expect(value, list, where, "a list of names")
    for i, name in enumerate(names):
        if not isinstance(name, str) or not known(name):
            raise KnowledgeError(f"{where}[{i}]: {name!r} is not in {catalogue}")
    return tuple(names)


def _condition(value: Any, sets: dict[str, tuple[str, ...]], where: str) -> Condition:
    _expect(value, dict, where, "a condition object")
    if isinstance(value.get("name"), str):
        where = f"{where} ({value['name']})"
    missing = [k for k in REQUIRED if k not in value]
    unknown = [k for k in value if k not in REQUIRED + OPTIONAL]
    if missing or unknown:
        raise KnowledgeError(f"{where}: missing fields {missing}, unknown fields {unknown}; "
                             f"expected {', '.join(REQUIRED)} and optionally {', '.join(OPTIONAL)}")
    features = {kind: tuple(_feature(f, sets, f"{where}.{kind}[{i}]")
                            for i, f in enumerate(_expect(value.get(kind, []), list, f"{where}.{kind}", "a list")))
                for kind in FEATURE_KINDS}
    ages = _expect(value.get("ages", [0, 120]), list, f"{where}.ages", "[low, high]")
    if len(ages) != 2 or not all(isinstance(a, (int, float)) for a in ages) or ages[0] >= ages[1]:
        raise KnowledgeError(f"{where}.ages: expected [low, high] with low < high, got {ages}")
    for field, allowed in (("disposition", DISPOSITIONS), ("sex", ("male", "female")), ("pregnancy", ("required",))):
        if field in value and value[field] not in allowed:
            raise KnowledgeError(f"{where}.{field}: expected one of {', '.join(allowed)}, got {value[field]!r}")
    return Condition(
        name=_expect(value["name"], str, f"{where}.name", "a string"),
        specialty=_expect(value["specialty"], str, f"{where}.specialty", "a string"),
        exam=_names(value["exam"], f"{where}.exam", EXAM_SYSTEMS.__contains__, "clinic_env.exam_systems"),
        tests=_names(value["tests"], f"{where}.tests", lambda t: lookup(t) is not None, "the investigations catalogue"),
        plan=_expect(value["plan"], str, f"{where}.plan", "a string"),
        disposition=value["disposition"], ages=(float(ages[0]), float(ages[1])),
        sex=value.get("sex"), pregnancy=value.get("pregnancy"), **features)


def load_conditions(directory: Path = KNOWLEDGE_DIR) -> tuple[Condition, ...]:
    """Every condition of ``directory``'s conditions.json, its "@set" keywords expanded, in file order."""
    sets = load_keyword_sets(directory / "keyword_sets.json")
    path = directory / "conditions.json"
    conditions = _expect(_read_json(path), list, str(path), "a list of conditions")
    loaded = tuple(_condition(c, sets, f"{path}: conditions[{i}]") for i, c in enumerate(conditions))
    names = [c.name for c in loaded]
    if len(set(names)) != len(names):
        raise KnowledgeError(f"{path}: condition names repeated: {sorted({n for n in names if names.count(n) > 1})}")
    return loaded


CONDITIONS: tuple[Condition, ...] = load_conditions()
