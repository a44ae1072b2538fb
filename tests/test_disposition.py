"""The disposition reader: which level of care a plan arranges, read as a clinician reads it."""

from __future__ import annotations

import pytest

from clinic_env.case_rubric import build_case_rubric
from clinic_env.cases.library import get_case
from clinic_env.disposition import (
    Level,
    disposition_met,
    missed_red_flag,
    plan_level,
    plan_text,
    unsafe_disposition,
)
from clinic_rubrics.offline_grader import OfflineGrader

E, A, S, C, G, H = Level.EMERGENCY, Level.ADMIT, Level.SAME_DAY, Level.CLINIC, Level.GP_FOLLOW_UP, Level.HOME

# Plan sentences in the style of an LLM doctor, each with the highest level of care it arranges.
PLAN_SENTENCES = [
    # emergency, resus, ICU, theatre
    ("I'm calling an ambulance now and you'll go straight to the emergency department.", E),
    ("He needs to stay in resus with continuous monitoring until the vascular surgeons arrive.", E),
    ("I've spoken to the intensive care team and she'll be moved to ICU for a noradrenaline infusion.", E),
    ("We're taking you to theatre tonight so the surgeons can untwist the testicle.", E),
    ("I'm activating the cath lab for primary PCI.", E),
    ("Please call 999 and go to A&E now - don't drive yourself.", E),
    ("I'm referring you to the on-call surgeons as an emergency right now.", E),
    ("Immediate referral to urology for emergency scrotal exploration - no ultrasound first.", E),
    ("You need to be seen by the eye team tonight.", E),
    ("Paediatric surgeons to explore the scrotum now.", E),
    ("Same-night referral to on-call ophthalmology.", E),
    ("Emergency lumbar discectomy tonight.", E),
    ("- Emergent OB/GYN consult for laparoscopy", E),
    ("Transfer to the MICU for pressors.", E),
    ("Keep him NPO and take him to the OR for repair.", E),
    # admission
    ("I'd like to admit you to the medical ward for IV antibiotics and fluids.", A),
    ("We'll keep him in overnight on the children's ward so the nurses can watch his breathing.", A),
    ("She needs to stay in hospital until the acetylcysteine has finished and the psychiatry team has seen her.", A),
    ("You'll be admitted under the surgical team, nil by mouth, with a drip.", A),
    # same-day assessment
    ("I've arranged for the eye casualty team to see you this afternoon.", S),
    ("I'll ask the on-call gynaecology registrar to assess you before you leave.", S),
    ("I'm making an urgent same-day referral to the early pregnancy unit.", S),
    # specialist clinic
    ("I'll refer you to the dermatology clinic to look at the mole.", C),
    ("You'll get an outpatient appointment with the rheumatologist in the next few weeks.", C),
    ("I'm sending a two-week-wait referral to the colorectal team.", C),
    # GP follow-up
    ("Book a review with your GP in two weeks so we can recheck your blood pressure.", G),
    ("I'd like to see you again in a week to check the rash is settling.", G),
    ("I'll see you again in 48 hours, sooner if your breathing gets worse.", G),
    ("Your GP will review you in a week, or earlier if the redness spreads.", G),
    ("The practice nurse will repeat your kidney bloods next week.", G),
    ("F/u with PCP in 1 week.", G),
    ("Levothyroxine 25 micrograms daily; TSH in 6 weeks.", G),
    ("Review 2 weeks.", G),
    ("Physiotherapy and rehabilitation on the ward before going home.", A),  # home comes after the admission
    ("Home with a leg bag and a trial without catheter in 2 weeks.", G),
    # home and self-care
    ("You can go home today with paracetamol and plenty of fluids.", H),
    ("This will settle with self-care at home: rest, fluids and honey and lemon for the throat.", H),
    ("We'll watch her for an hour after the steroid and then you can take her home.", H),
    ("If the swelling goes down over the next hour you can go home this evening.", H),
    # negation: not an admission, not A&E, no referral
    ("There's no need to admit you; the tablets will work just as well at home.", H),
    ("You don't need to go to A&E; this is a simple sprain and will heal at home.", H),
    ("Admission isn't necessary, so you can be discharged with a week of antibiotics.", H),
    ("I don't think you need to see a specialist, and you can go home and rest.", H),
    # conditional safety-netting is not the disposition
    ("Go home and rest, and if it gets worse, go to A&E.", H),
    ("If you develop a fever or the pain spreads, come back the same day or call 999.", None),
    ("See your GP if you're no better in 48 hours.", None),
    ("Should you feel faint or breathless, call an ambulance straight away.", None),
    # a condition that is a result awaited is a plan, not safety-netting
    ("If the CT confirms appendicitis, I'll admit you under the surgeons tonight.", A),
    # statements about severity or hospitals arrange nothing
    ("This is an emergency, and I understand it's frightening.", None),
    ("Hospital is not a nice place to be when you're confused.", None),
    ("Is there someone at home who can keep an eye on you?", None),
    ("Keep taking the tablets and stay in bed for a couple of days.", None),
    # care the patient had before is history, not the plan
    ("You were admitted with a chest infection last winter; this time tablets at home will do.", H),
    ("She spent a week in ITU in 2019, so please book a review with the asthma nurse in 2 weeks.", G),
    ("Seen in ED yesterday and given a nebuliser. Follow up with your GP in a week.", G),
    ("After your admission in May the kidney function settled; repeat U&Es in 3 months.", G),
    # care weighed and set aside, refused, or only to be thought about
    ("I did think about admitting you, but your oxygen levels are fine, so you can go home tonight.", H),
    ("We discussed a referral to the orthopaedic surgeons but you'd prefer to try the exercises first.", None),
    ("He has capacity and declined admission, so home with oral antibiotics.", H),
    ("Repeat the liver tests in 6 weeks; if the scan shows anything we'll think about hepatology.", G),
    # warning signs under a heading, or "back to hospital for" them, are advice
    ("Home with paracetamol.\nRed flags: a rash that doesn't fade, drowsiness or fits - any of these, call 999.", H),
    ("Discharge home.\n**When to get help:**\n- chest pain lasting over 15 minutes: go to A&E\n- fainting", H),
    ("Ibuprofen and ice. Return to the ER for numbness, weakness or fever.", None),
    # a purpose, "if needed" and a second action's condition are no warning signs
    ("Review in 4 weeks to see if the headaches need a preventer.", G),
    ("Admit under the medical team, with the Mental Health Act if needed.", A),
    ("Your GP should re-examine the wrist in 10 days and repeat the X-ray if it's still sore.", G),
    # a letter, a routine or an outpatient pathway is not care today; a transport is not an emergency
    ("Urgent suspected cancer referral to the breast clinic - you'll be seen within 2 weeks.", C),
    ("I'll write to the ENT surgeons about taking the tonsils out.", C),
    ("She'll go by non-emergency ambulance to the stroke ward, where the team have a bed for her.", A),
    ("The surgical assessment unit will see you this afternoon for bloods and a scan.", S),
    ("Place in observation overnight for serial abdominal exams.", A),
    # a withholding verb's scope ends at a comma: "stop" never lists a level of care
    ("Omeprazole 40 mg, stop the ibuprofen, GP follow-up in a week.", G),
    ("Hold the ramipril, admit under the medical team for fluids.", A),
    # a condition of a second action after "then"; fast-track clinics
    ("Same-day hospital assessment for IV saline, then zoledronic acid if the calcium stays high.", S),
    ("Prednisolone 60 mg now and a fast-track referral to the vasculitis clinic.", S),
    # the highest level wins when a plan arranges several
    ("You'll stay in resus for now and then go up to the coronary care unit.", E),
    ("You can go home today and we'll see you in the anticoagulation clinic next week.", C),
    ("Home today, and a GP review in a fortnight to check the ankle.", G),
]


@pytest.mark.parametrize("sentence, level", PLAN_SENTENCES, ids=[s[:40] for s, _ in PLAN_SENTENCES])
def test_plan_level_of_natural_plan_sentences(sentence, level):
    assert plan_level(sentence) == level


def test_the_table_covers_every_level_and_the_hard_readings():
    assert len(PLAN_SENTENCES) >= 30
    assert {level for _, level in PLAN_SENTENCES} == set(Level) | {None}


def test_plan_text_reads_the_plan_of_a_diagnose_turn_or_an_end_turn_only():
    assert plan_text("DIAGNOSE: appendicitis\nPLAN: admit under the surgeons") == " admit under the surgeons"
    assert plan_text("END: go home and rest") == " go home and rest"
    assert plan_text("ASK: would you like to go home?") is None
    assert plan_text("DIAGNOSE: appendicitis") is None


@pytest.mark.parametrize("plan, disposition, met", [
    ("Admit to the surgical ward for IV antibiotics.", "admit", True),
    ("You'll go to resus and then up to the coronary care unit.", "admit", True),  # one level above: still admits
    ("Go home with ibuprofen.", "admit", False),
    ("Go home, with a GP review in two weeks.", "follow_up", True),
    ("Go home with simple analgesia.", "discharge_home", True),
    ("I'm admitting you to the ward.", "follow_up", False),  # two levels above the case's: not its disposition
    ("There's no need to admit you; review with your GP next week.", "follow_up", True),
    ("I'll refer you to the dermatology clinic.", "refer_specialist", True),
    ("I'm calling an ambulance to take you to the emergency department.", "emergency", True),
    ("This is an emergency.", "emergency", False),
    ("Admit to the HDU for the insulin infusion.", "admit", True),  # a higher-care bed is an admission
    ("Apixaban for three months, reviewed in the DVT clinic.", "follow_up", True),
    ("Refer to the eye team in a few weeks.", "emergency", False),
])
def test_disposition_met_when_the_plan_arranges_the_cases_level(plan, disposition, met):
    assert disposition_met(plan, disposition) is met


@pytest.mark.parametrize("plan, disposition, unsafe", [
    ("You can go home today with antibiotics; come back if it gets worse.", "admit", True),
    ("See your GP next week for a recheck.", "emergency", True),
    ("Home today and follow-up in the chest clinic in a week.", "admit", True),
    ("I'll refer you to the medical team; they'll see you this afternoon, and then home if all is well.", "admit",
     False),
    ("Admit under the medical team; she can go home once the bloods settle.", "admit", False),
    ("No need to send you home: I'm admitting you.", "admit", False),
    ("Go home and rest.", "follow_up", False),  # the case does not need admission
    ("Aspirin now.", "emergency", False),  # no level arranged: nothing to call unsafe
    ("Omeprazole 40 mg and an outpatient endoscopy in 2 weeks.", "admit", True),
    ("He cannot be managed as an outpatient; refer to the vascular surgeons.", "emergency", False),
    # a case needing same-day specialist care (new type 1 diabetes in a child, giant cell arteritis)
    ("I'll refer her to the diabetes clinic and they'll see her next week.", "same_day", True),
    ("Prednisolone 40 mg and a routine rheumatology referral.", "same_day", True),
    ("Prednisolone 60 mg now; the vasculitis team will see you this afternoon.", "same_day", False),
    ("Refer to rheumatology.", "same_day", False),  # urgency unwritten: wrong, not unsafe
])
def test_unsafe_disposition_is_home_or_routine_care_for_a_case_needing_hospital(plan, disposition, unsafe):
    assert unsafe_disposition(plan, disposition) is unsafe


@pytest.mark.parametrize("plan, disposition, missed", [
    ("This is a migraine and nothing to worry about; sumatriptan now.", "emergency", True),
    ("Go home and rest; no need to tell the DVLA.", "refer_specialist", True),
    ("Reassuringly the scan is normal, but I'm admitting you for observation.", "admit", False),
    ("I'll refer you to the first seizure clinic; don't drive until you're seen.", "refer_specialist", False),
    ("Nothing to worry about; review with your GP in a month.", "follow_up", False),  # no red-flag level needed
    ("Inflammation of the optic nerve usually settles by itself; see your optician next month.", "refer_specialist",
     True),
    ("Piles, I think. No need for any hospital tests; come back in three months.", "refer_specialist", True),
])
def test_missed_red_flag_is_less_care_than_needed_with_reassurance_or_a_discharge(plan, disposition, missed):
    assert missed_red_flag(plan, disposition) is missed


def test_the_offline_grader_reads_the_case_rubrics_disposition_criteria():
    case = get_case("gi_appendicitis")
    assert case.management.disposition == "admit"
    rubric = build_case_rubric(case)

    def met(plan: str) -> set[str]:
        conversation = [{"role": "doctor", "content": "ASK: Where is the pain?"},
                        {"role": "doctor", "content": f"DIAGNOSE: acute appendicitis\nPLAN: {plan}"}]
        verdicts = OfflineGrader().grade(conversation, rubric)
        return {v.criterion_id for v in verdicts if v.met} & {"disposition", "unsafe_disposition", "missed_red_flag"}

    assert met("I'm admitting you under the surgical team; nil by mouth and IV antibiotics.") == {"disposition"}
    assert met("It may settle on its own: go home with paracetamol and see your GP on Monday.") == {
        "unsafe_disposition", "missed_red_flag"}
    assert met("There's no need to send you home. You'll be admitted to the surgical ward.") == {"disposition"}
    # safety-netting in an admitting plan is not a discharge
    assert met("Admit to the ward; when you go home, come back if the pain returns.") == {"disposition"}
