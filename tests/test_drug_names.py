"""The drug-name lexicon: groups of names of one drug, combination products and what they contain,
read one way only (a drug reaches the products holding it, never the reverse)."""

import json

import pytest

from clinic_env.drug_lexicon import NAMES_FILE, class_names, expand_names, load_drug_names, name_key


def test_the_table_loads_with_every_name_once():
    table = json.loads(NAMES_FILE.read_text(encoding="utf-8"))
    names = [n for g in table["drugs"] for n in g] + [n for p in table["products"] for n in p["names"]]
    assert len(table["drugs"]) >= 250
    assert len({name_key(n) for n in names}) == len(names) == len(load_drug_names(NAMES_FILE))


@pytest.mark.parametrize("generic, other", [
    ("cefalexin", "cephalexin"), ("cefalexin", "Keflex"), ("adrenaline", "epinephrine"),
    ("paracetamol", "acetaminophen"), ("salbutamol", "albuterol"), ("glyceryl trinitrate", "GTN"),
    ("glyceryl trinitrate", "nitroglycerin"), ("furosemide", "frusemide"), ("furosemide", "Lasix"),
    ("ibuprofen", "Motrin"), ("enoxaparin", "Lovenox"), ("levofloxacin", "Levaquin"), ("ketorolac", "Toradol"),
    ("lorazepam", "Ativan"), ("ceftriaxone", "Rocephin"),
])
def test_a_drug_reaches_its_other_names_both_ways(generic, other):
    assert other in expand_names([generic]) and generic in expand_names([other])


@pytest.mark.parametrize("drug, product", [
    ("trimethoprim", "Bactrim DS"), ("trimethoprim", "trimethoprim-sulfamethoxazole"), ("codeine", "co-codamol"),
    ("paracetamol", "co-codamol"), ("amoxicillin", "Augmentin"), ("piperacillin", "Tazocin"),
    ("calcium carbonate", "Adcal-D3"), ("vitamin D", "Adcal-D3"), ("timolol", "Cosopt"), ("abacavir", "Triumeq"),
])
def test_a_drug_reaches_the_products_that_contain_it_and_not_the_reverse(drug, product):
    assert product in expand_names([drug])
    assert drug not in expand_names([product])


def test_unknown_names_stay_and_each_name_comes_once():
    assert expand_names(["IV fluids", "lumbar puncture"]) == ["IV fluids", "lumbar puncture"]
    names = expand_names(["Co-codamol", "co codamol", "codeine"])
    assert len({name_key(n) for n in names}) == len(names) and names[0] == "Co-codamol"


def test_classes_reach_the_brands_and_products_of_their_members():
    assert {"Motrin", "Nurofen Plus", "Arthrotec"} <= set(class_names(["nsaid"]))
    assert "co-codaprin" in class_names(["antiplatelet"])  # it holds aspirin
    assert {"Lovenox", "Clexane", "Eliquis"} <= set(class_names(["anticoagulant"]))
    assert {"Bactrim DS", "Septrin"} <= set(class_names(["sulfonamide_antibiotic"]))


def _write(tmp_path, table) -> object:
    path = tmp_path / "names.json"
    path.write_text(json.dumps(table), encoding="utf-8")
    return path


@pytest.mark.parametrize("table, message", [
    ({"drugs": [["ibuprofen", "Nurofen"], ["naproxen", "nurofen"]]}, "'nurofen' is in the group of 'ibuprofen'"),
    ({"drugs": [["codeine"]], "products": [{"names": ["co-codamol", "Codeine"], "contains": ["codeine"]}]},
     "'Codeine' is in the group of 'codeine'"),
    ({"drugs": [["codeine"]], "products": [{"names": ["co-codamol"], "contains": ["paracetamol"]}]},
     "contains 'paracetamol', which names no group"),
    ({"drugs": [["codeine"]], "products": [{"names": ["co-codamol"], "contains": []}]}, "contains"),
    ({"drugs": [["codeine"], []]}, "an empty group"),
    ({"drug": [["codeine"]]}, "drugs"),
])
def test_a_bad_table_is_an_error_naming_what_is_wrong(tmp_path, table, message):
    with pytest.raises(ValueError, match="names.json") as raised:
        load_drug_names(_write(tmp_path, table))
    assert message in str(raised.value)
