"""The one reading of clinical text (clinic_rubrics.text): clauses, negation and condition scope.

The offline grader, the scripted doctor and the LLM patient's fact checker all read negation
through it; the sentences are as clinicians and patients write them.
"""

from __future__ import annotations

import re

import pytest

from clinic_rubrics.text import (
    about_patient,
    clauses,
    condition_in,
    denied_just_before,
    is_affirmed,
    is_asking,
    is_hypothetical,
    is_negated,
    is_question,
    keyword_pattern,
    normalize,
    sentences,
)


def negated(text: str, mention: str) -> bool:
    start = text.lower().index(mention.lower())
    return is_negated(text, start, start + len(mention))


@pytest.mark.parametrize("text, mention", [
    ("Denies chest pain.", "chest pain"),
    ("No fever, cough or rash.", "rash"),  # a list after a comma stays in the denial's scope
    ("She doesn't have chest pain.", "chest pain"),
    ("Nobody in the family has had bowel cancer.", "bowel cancer"),
    ("My joints ache a bit but nothing's swollen.", "swollen"),
    ("Stop the metformin for now.", "metformin"),
    ("Use doxycycline instead of amoxicillin.", "amoxicillin"),
    # a refusal after the treatment it refuses
    ("Thrombolysis is contraindicated.", "thrombolysis"),
    ("Thrombolysis in this case is contraindicated.", "thrombolysis"),
    ("These antibiotics won't help, it's a virus.", "antibiotics"),
    ("Activated charcoal should not be given.", "activated charcoal"),
    ("An MRI isn't needed today.", "MRI"),
    ("Aspirin can't be given with this bleed.", "aspirin"),
    ("A pulmonary embolism has been ruled out.", "pulmonary embolism"),
    # a refusal later in the sentence that points back at what it named
    ("Acetazolamide is a sulfonamide and you reacted to Septrin, so we won't use either.", "acetazolamide"),
    ("Ibuprofen and naproxen irritate the stomach, so avoid them.", "ibuprofen"),
    ("Aspirin and clopidogrel would worsen the bleeding, so neither is safe here.", "aspirin"),
    ("Heparin and alteplase are both contraindicated.", "heparin"),
    ("His potassium is 5.9, so it is too high.", "potassium"),  # a measured value, not a drug
    ("Nitrofurantoin won't reach the kidney.", "nitrofurantoin"),
    ("Codeine would normally be an option but is not here.", "codeine"),
    ("NSAIDs are avoided in late pregnancy.", "NSAIDs"),
    ("Her ramipril and amlodipine are on hold.", "ramipril"),
    ("The urine grew E. coli resistant to trimethoprim.", "trimethoprim"),
    ("She had a rash with penicillin as a child.", "penicillin"),
    ("A nitrate could drop his pressure dangerously.", "nitrate"),
    ("The ibuprofen has strained your kidneys.", "ibuprofen"),
    ("Acetazolamide isn't an option given her sulfonamide reaction.", "acetazolamide"),
    ("ACE inhibitors are off the table after the angioedema.", "ACE inhibitors"),
    ("I'd steer clear of cefalexin.", "cefalexin"),
    ("She would normally get morphine, but her breathing is poor.", "morphine"),
    ("He reacted to trimethoprim last year.", "trimethoprim"),
    ("Codeine gave you a rash, so we'll use something else.", "codeine"),
    ("- Ibuprofen: stop", "ibuprofen"),  # a list entry that withholds what it opens
    ("Ramipril - withhold until the kidneys recover.", "ramipril"),
    ("Switch the amoxicillin to doxycycline.", "amoxicillin"),
    ("- D/c Sudafed and chlorphenamine", "chlorphenamine"),  # US "discontinue"
    ("He collapsed with amoxicillin in 2009.", "amoxicillin"),
    ("Penicillins and cephalosporins such as ceftriaxone are out.", "ceftriaxone"),
    ("Steam inhalation is no longer recommended.", "Steam inhalation"),
    ("Steroids aren't a first-line option here.", "Steroids"),
    ("Folic acid on its own would be dangerous.", "Folic acid"),
    ("Oral B12 tablets would not be enough.", "B12 tablets"),
    ("Lamotrigine must be stopped today.", "Lamotrigine"),
    ("Heparin and antiplatelet loading are absolutely contraindicated.", "Heparin"),
    # every item of a list the refusal follows, not only the last two
    ("Thrombolysis, heparin and antiplatelets are contraindicated in a dissection.", "Thrombolysis"),
    ("In pregnancy, warfarin, ACE inhibitors or statins should be avoided.", "warfarin"),
    # an aside goes on with the denial before it
    ("No heparin of any kind \u2014 including enoxaparin or heparin flushes \u2014 after her HIT.", "enoxaparin"),
    ("Avoid codeine (she vomits with it), metoclopramide or any prokinetic.", "metoclopramide"),
    ("Avoid metoclopramide and laxatives \u2014 all inappropriate in mechanical obstruction.", "metoclopramide"),
    ("IV co-trimoxazole to cover Listeria (amoxicillin cannot be used).", "amoxicillin"),
    ("Amlodipine replacing bendroflumethiazide for her blood pressure.", "bendroflumethiazide"),
    ("A cephalosporin is fine after a non-severe penicillin rash.", "penicillin"),
    ("- **Flying**: not until the x-ray shows the lung fully re-expanded.", "Flying"),
    ("Stop the ibuprofen - anti-inflammatories increase the risk of perforation.", "anti-inflammatories"),
])
def test_negated_mentions(text, mention):
    assert negated(text, mention)


@pytest.mark.parametrize("text, mention", [
    ("The patient has chest pain.", "chest pain"),
    ("There is no fever, but chest pain is present.", "chest pain"),
    ("He has no fever, so antibiotics can wait a day.", "antibiotics"),  # ", so" ends the clause
    ("No fever, and a cough since Monday.", "cough"),
    ("Opioid per protocol (no pethidine), fluids and oxygen.", "fluids"),  # a bracket ends it too
    ("She's never smoked because of her asthma.", "asthma"),  # "because" starts another clause
    ("Give antibiotics if you don't improve in two days.", "antibiotics"),  # no refusal: a condition
    ("Start aspirin now, don't wait for the scan.", "aspirin"),  # the refusal is of the waiting
    # "can't" and "won't" report a symptom in a consultation, not a denial
    ("I can't get my breath.", "get my breath"),
    ("I can't stop being sick.", "being sick"),
    ("He won't finish his bottles and he's been sick.", "been sick"),
    ("The headache won't go away.", "headache"),
    # a refusal of "them" reaches back only to a refusal of what the sentence named, at its clause's end
    ("Take amoxicillin and paracetamol, and don't take them with alcohol.", "amoxicillin"),
    ("Start amoxicillin; ibuprofen and naproxen would upset your stomach, so avoid them.", "amoxicillin"),
    ("Give potassium chloride 20 mmol in the second bag.", "potassium chloride"),
    ("Potassium chloride at 10 mmol/h through the pump.", "potassium chloride"),  # a rate is a dose
    ("Start apixaban, which lowers your stroke risk.", "apixaban"),
    ("A pulmonary embolism has not been ruled out.", "pulmonary embolism"),  # still possible
    ("Sepsis cannot be ruled out yet.", "Sepsis"),
    ("Stop the ibuprofen and start ramipril 2.5 mg.", "ramipril"),  # a second order ends the first's scope
    ("Ibuprofen 400 mg to make her comfortable.", "ibuprofen"),  # "make" is no cause without a modal
    ("MRI pituitary to exclude a pituitary cause.", "MRI"),
    ("Give amoxicillin - stop the ibuprofen.", "amoxicillin"),  # the refusal opens its own entry
    ("Refer for emergency exploration - no scan first.", "exploration"),
    ("Switch the amoxicillin to doxycycline.", "doxycycline"),  # what it is switched to is given
    ("- D/c home with a leg bag", "home"),  # US "discharge"
    ("Aspirin 300 mg now, clopidogrel is not needed.", "Aspirin"),  # no list: a new item
    ("Give aspirin, morphine and oxygen, and heparin is not needed.", "aspirin"),
    ("Antibiotics won't help because it's a virus, cough and cold medicines aren't suitable.", "virus"),
    ("Stop the metformin and admit her to the ward.", "admit"),  # a second order
    ("Stop the ibuprofen, start omeprazole 20 mg.", "omeprazole"),  # a new order after a comma
    ("Stop the ibuprofen (it irritates the stomach), start omeprazole 20 mg.", "omeprazole"),
    ("Start aspirin (no allergies), clopidogrel 75 mg daily.", "clopidogrel"),  # a cue inside the aside
    ("Ibuprofen 400 mg, then increase to 600 mg if needed.", "Ibuprofen"),  # a dose step is no harm
])
def test_affirmed_mentions(text, mention):
    assert not negated(text, mention)


def test_clauses_and_sentences():
    assert clauses("No cough; fever since Monday, but no rash. He's eating, so that's good.") == [
        "No cough", "fever since Monday", "no rash", "He's eating", "that's good"]
    assert sentences("Any fever? No. It hurts!") == ["Any fever?", " No.", " It hurts!"]
    # a decimal point ends neither a sentence nor a clause
    assert sentences("Give 0.9% saline. Insulin at 0.1 units/kg/h.") == ["Give 0.9% saline.",
                                                                         " Insulin at 0.1 units/kg/h."]
    assert clauses("1 L 0.9% saline with potassium over the first hour.") == [
        "1 L 0.9% saline with potassium over the first hour"]
    assert is_question("Any fever? ") and not is_question("No fever.")


@pytest.mark.parametrize("text, mention, denied", [
    ("no, i haven't had any fever", "fever", True),
    ("i've never really had chills", "chills", True),
    ("no fever and a cough", "cough", False),  # the denial is of the fever only
    ("i can't get rid of the cough", "cough", False),
    ("i've had a fever, no chills", "fever", False),
])
def test_a_plain_denial_just_before_a_mention(text, mention, denied):
    assert denied_just_before(text, text.index(mention)) is denied


def hypothetical(text: str, mention: str) -> bool:
    start = text.lower().index(mention.lower())
    return is_hypothetical(text, start, start + len(mention))


@pytest.mark.parametrize("text, mention", [
    ("If you have any difficulty breathing, call 999 straight away.", "difficulty breathing"),
    ("If you get chest pain, breathlessness or a faint, come straight back.", "breathlessness"),
    ("If you get chest pain, breathlessness or a faint, come straight back.", "a faint"),
    ("Please come back if you notice any blood in your stools.", "blood"),
    ("Come back if you get chest pain, breathlessness or a faint.", "a faint"),
    ("Should you notice a stiff neck or a rash, ring 999.", "stiff neck"),
    ("Watch out for black, tarry stools over the next few days.", "black, tarry stools"),
    ("I want to check whether you have any chest pain.", "chest pain"),
    ("If you've taken any ibuprofen today you must tell the nurse.", "ibuprofen"),
    ("After delivery, if she still needs treatment, switch to enalapril.", "enalapril"),
])
def test_mentions_inside_a_condition_are_hypothetical(text, mention):
    assert hypothetical(text, mention)


@pytest.mark.parametrize("text, mention", [
    ("If you have any difficulty breathing, call 999 straight away.", "call 999"),
    ("If the pain persists, take ibuprofen with food.", "ibuprofen"),
    ("If more is needed, IV morphine as well.", "morphine"),  # a terse plan: the main clause after the comma
    ("If penicillin allergic, clarithromycin, or doxycycline.", "clarithromycin"),
    ("If you feel better you can go home tomorrow.", "go home"),
    ("Take paracetamol if you need it.", "paracetamol"),
    ("You've had a fever for three days.", "fever"),
    ("So if it gets worse, come back to the emergency department.", "emergency department"),
    # a condition after its main clause ends at its comma when the plan's next item follows
    ("Aspirin 300 mg, oxygen only if SpO2 < 94%, immediate primary PCI.", "primary PCI"),
])
def test_main_clauses_are_not_hypothetical(text, mention):
    assert not hypothetical(text, mention)


@pytest.mark.parametrize("text, mention, affirmed", [
    ("Plan DC cardioversion in 3 weeks once anticoagulated.", "cardioversion", False),
    ("Cardioversion after at least three weeks of anticoagulation.", "Cardioversion", False),
    ("We'll book DC cardioversion for tomorrow morning.", "cardioversion", True),
    ("See your GP in a week.", "GP", False),  # put off, but not denied: the review is arranged
])
def test_a_treatment_put_off_is_not_given_now(text, mention, affirmed):
    start = text.index(mention)
    assert is_affirmed(text, start, start + len(mention)) is affirmed
    assert not is_negated(text, start, start + len(mention))


def test_affirmed_means_neither_denied_nor_supposed():
    text = "You've had no fever, but if you get a rash, call us; you do have a cough."
    assert [is_affirmed(text, text.index(w), text.index(w) + len(w)) for w in ("fever", "rash", "cough")] == [
        False, False, True]


@pytest.mark.parametrize("text, mention", [
    ("You've had chest pain since Tuesday.", "chest pain"),
    ("You mentioned the chest pain started yesterday.", "chest pain"),
    ("She reports rectal bleeding for a week.", "rectal bleeding"),
    ("The patient has had a fever on and off.", "fever"),
    ("Given your fever, I think this is an infection.", "fever"),
    ("You're coughing up blood, so we need a chest x-ray.", "blood"),
    ("You've been coughing up blood since the weekend.", "coughing up blood"),
])
def test_statements_about_the_patient(text, mention):
    match = re.search(about_patient(re.escape(mention)), text, re.IGNORECASE)
    assert match and match.group("mention").lower() == mention.lower()


@pytest.mark.parametrize("text", [
    "ORDER: complete blood count; chest x-ray",
    "I'd like to check your blood pressure and take some blood tests.",
    "We'll make sure you have reliable contraception.",
    "You're stable, your breathing and oxygen are normal.",
    "With your asthma a non-selective beta-blocker such as propranolol could tighten your chest.",
])
def test_orders_plans_and_other_subjects_are_not_statements_about_the_patient(text):
    assert re.search(about_patient(r"blood|contraception|breathing|chest"), text, re.IGNORECASE) is None


@pytest.mark.parametrize("said", ["any blackouts?", "a black-out?", "did you black out?", "you blacked out"])
def test_keywords_read_closed_up_and_hyphenated_compounds(said):
    """A doctor asking about "blackouts" asks about the keyword "black out"."""
    assert keyword_pattern(["black out"]).search(normalize(said))


@pytest.mark.parametrize("said, found", [
    ("have you had thoughts of harming themselves?", True), ("I've never hurt myself", True),
    ("has he talked about ending his life?", True), ("any thoughts of ending their life?", True),
    ("he harmed someone else", False), ("the end of your tether", False),
])
def test_a_keywords_pronoun_stands_for_every_persons(said, found):
    """A case says "harm yourself"; a doctor asks a relative about "harming himself", a patient says
    "hurt myself": the same keyword."""
    pattern = keyword_pattern(["harm yourself", "hurt yourself", "end your life"])
    assert (pattern.search(normalize(said)) is not None) is found


@pytest.mark.parametrize("text, mention, cue", [
    ("Go to A&E if it gets worse.", "A&E", "if"),  # the condition may follow the main clause
    ("Otherwise, see your GP next week.", "GP", "Otherwise"),
    ("Should things change, call 999.", "999", "Should things"),
    ("Go to A&E now, and I'll call ahead if needed.", "A&E", None),  # ", and" ends the clause
])
def test_the_condition_of_a_clause(text, mention, cue):
    start = text.index(mention)
    found = condition_in(text, start, start + len(mention))
    assert (found.group() if found else None) == cue


@pytest.mark.parametrize("sentence, asking", [
    ("ASK: Tell me about the pain.", True),
    ("I'm sorry to hear that, when did it start.", True),
    ("Thanks, and have you had a fever.", True),
    ("Any allergies", True),
    ("Allergies?", True),
    ("ASK: paracetamol reactive ray problems pain chest fever allergies medicines", False),
    ("pain, chest, fever, cough", False),
    ("I can see you're shaky and sweating.", False),  # an observation asks nothing
])
def test_a_sentence_asks_by_its_question_mark_or_its_opening(sentence, asking):
    assert is_asking(sentence) is asking
