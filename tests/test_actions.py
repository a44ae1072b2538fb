import json
import random

import pytest
from gymnasium.spaces import Text
from hypothesis import given, settings
from hypothesis import strategies as st

from clinic_env.actions import (
    TOOL_SCHEMAS,
    Ask,
    Diagnose,
    End,
    Examine,
    OrderTests,
    ToolCallError,
    action_from_tool_call,
    format_action,
    parse_action,
)
from clinic_env.spaces import CHARSET

ACTIONS = (Ask, Examine, OrderTests, Diagnose, End)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("When did the pain start?", Ask("When did the pain start?")),
        ("ASK: Any fever?", Ask("Any fever?")),
        ("**Ask:** Any fever?", Ask("Any fever?")),
        ("EXAMINE: respiratory, cardiovascular", Examine(("respiratory", "cardiovascular"))),
        ("exam: abdomen and vitals", Examine(("abdomen", "vitals"))),
        ("I'd like to run some tests.\nORDER: FBC; CRP\nchest x-ray", OrderTests(("FBC", "CRP", "chest x-ray"))),
        ("ORDER: urea, creatinine (renal function)", OrderTests(("urea", "creatinine (renal function)"))),
        ("ORDER: hep A, B, C, E serology; 1,25-dihydroxy vit D, FBC",  # a lone letter or a digit goes on
         OrderTests(("hep A, B, C, E serology", "1,25-dihydroxy vit D", "FBC"))),
        ("DIAGNOSE: 1. pneumonia\n2. pulmonary embolism\nPLAN: doxycycline; review in 48 h",
         Diagnose(("pneumonia", "pulmonary embolism"), "doxycycline; review in 48 h")),
        ("Diagnosis: migraine > tension headache", Diagnose(("migraine", "tension headache"))),
        ("DIAGNOSE: pneumonia, pulmonary embolism", Diagnose(("pneumonia", "pulmonary embolism"))),
        # with ";" between diagnoses, commas qualify one of them
        ("DIAGNOSE: anorexia nervosa, binge-purge type, high medical risk; bulimia nervosa",
         Diagnose(("anorexia nervosa, binge-purge type, high medical risk", "bulimia nervosa"))),
        ("<think>ORDER: CT head</think>ASK: Any vomiting?", Ask("Any vomiting?")),
        ("END: Take care.", End("Take care.")),
        ("EXAMINE:", Ask("EXAMINE:")),
        ("", Ask("")),
    ],
)
def test_protocol_examples(text, expected):
    assert parse_action(text) == expected


def test_first_command_wins():
    assert parse_action("ORDER: ecg\nDIAGNOSE: angina") == OrderTests(("ecg",))


item = st.text(alphabet=st.characters(whitelist_categories=("L", "N"), max_codepoint=0x2FF), min_size=1, max_size=12)
items = st.lists(item, min_size=1, max_size=4).map(tuple)


@given(st.one_of(
    item.map(Ask),
    items.map(Examine),
    items.map(OrderTests),
    st.builds(Diagnose, items, item),
    item.map(End),
))
def test_format_then_parse_round_trips(action):
    assert parse_action(format_action(action)) == action


@settings(max_examples=300)
@given(st.text())
def test_parser_never_raises_on_any_text(text):
    assert isinstance(parse_action(text), ACTIONS)


@pytest.mark.parametrize("make_text", [
    lambda rng: "",
    lambda rng: "x" * 1_000_000,
    lambda rng: "ORDER: " + "; ".join("t" for _ in range(200_000)),
    lambda rng: "".join(chr(rng.randrange(0x110000)) for _ in range(20_000)).encode("utf-8", "replace").decode("utf-8", "replace"),
    lambda rng: "\n".join(rng.choice(["ASK:", "DIAGNOSE:", "PLAN:", "<think>", "**", ":", "\x00"]) for _ in range(50_000)),
    lambda rng: "\ud800 lone surrogate DIAGNOSE: x",
])
def test_parser_survives_hostile_input(make_text):
    assert isinstance(parse_action(make_text(random.Random(0))), ACTIONS)


def test_parser_survives_text_space_noise():
    space = Text(max_length=4096, charset=CHARSET, seed=0)
    for _ in range(200):
        assert isinstance(parse_action(space.sample()), ACTIONS)


def test_non_strings_are_read_as_speech():
    assert parse_action(None) == Ask("")
    assert parse_action(42) == Ask("42")
    assert parse_action(Examine(("skin",))) == Examine(("skin",))


def test_tool_schemas_cover_every_action():
    names = {t["function"]["name"] for t in TOOL_SCHEMAS}
    assert names == {"ask_patient", "examine", "order_tests", "diagnose", "end_consultation"}
    json.dumps(TOOL_SCHEMAS)  # serialisable for the API


def test_tool_calls_become_actions():
    assert action_from_tool_call("ask_patient", '{"message": "Any fever?"}') == Ask("Any fever?")
    assert action_from_tool_call("examine", {"systems": ["respiratory"]}) == Examine(("respiratory",))
    assert action_from_tool_call("order_tests", '{"tests": ["ecg", " troponin "]}') == OrderTests(("ecg", "troponin"))
    assert action_from_tool_call("diagnose", '{"differential": ["a", "b"], "plan": "p"}') == Diagnose(("a", "b"), "p")
    assert action_from_tool_call("end_consultation", "") == End("")


@pytest.mark.parametrize("name, args, match", [
    ("examine", "{not json", "examine.*not valid JSON"),
    ("order_tests", '{"tests": []}', "order_tests.*'tests' must be a non-empty list"),
    ("ask_patient", '{"message": 3}', "ask_patient.*'message' must be a string"),
    ("prescribe", "{}", "unknown tool 'prescribe'"),
    ("diagnose", "[1]", "must be a JSON object"),
])
def test_bad_tool_calls_say_what_is_wrong(name, args, match):
    with pytest.raises(ToolCallError, match=match):
        action_from_tool_call(name, args)
