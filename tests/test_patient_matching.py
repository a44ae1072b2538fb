"""How the offline patient finds the facts a question is about by its words (issue 16):
stems, lay and clinical synonyms, and weights by rarity among the case's facts."""

from __future__ import annotations

from clinic_env.patient.matching import FactIndex, stem, terms


def test_inflections_meet_and_grammar_words_drop():
    assert stem("emptied") == stem("emptying") == stem("empty")
    assert stem("spreading") == stem("spread") and stem("aches") == stem("aching") == stem("ache")
    assert terms("Have you been feeling any of that at all?") == frozenset()
    assert terms("Does it feel better?") == terms("Do you feels it's better?")


def test_lay_and_clinical_words_fold_into_one():
    assert terms("any temp?") == terms("a fever") == terms("feverish")
    assert terms("poo") == terms("stools") and terms("tummy") == terms("abdominal")
    assert terms("the flight home") & terms("I flew back") and terms("blacked out") & terms("fainted")
    assert not terms("a cold") & terms("a fever")  # near in meaning is not the same


def test_a_rare_word_outweighs_a_common_one_and_named_symptoms_must_be_held():
    facts = ["pain in my chest when I breathe in", "pain started four days ago", "pain is worse at night",
             "dark blood mixed in with the poo", "my legs are not swollen"]
    index = FactIndex.build(facts, facts)
    scores = index.scores("any blood when you open your bowels?")
    assert max(scores, key=scores.get) == 3  # "blood" and "bowels" (stool) are rare: the bleeding fact
    assert scores.get(0, 0) < index.scores("does the pain come on when you breathe in?")[0]
    # "chest pain" named: the facts must hold both words, so "pain started..." is not about it
    assert set(index.scores("any chest pain?", (terms("chest pain"),))) == {0}
    assert index.scores("what do you do for a living?") == {}
