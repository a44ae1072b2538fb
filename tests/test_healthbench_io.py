"""HealthBench JSONL I/O: loading, exact round trips, and errors that say file, line and field."""

from __future__ import annotations

import copy
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic_rubrics.healthbench import (
    HealthBenchExample,
    HealthBenchFormatError,
    MetaEvalRow,
    load_examples,
    load_meta_eval,
    write_examples,
)


def example_record(prompt_id: str = "p1", **overrides) -> dict:
    """A HealthBench example line, written for these tests."""
    record = {
        "prompt": [
            {"role": "user", "content": "My father is confused and his speech is slurred since an hour ago."},
        ],
        "rubrics": [
            {"criterion": "Advises calling emergency services immediately.", "points": 10,
             "tags": ["level:example", "axis:completeness"]},
            {"criterion": "Mentions the time window for stroke treatment.", "points": 5,
             "tags": ["level:example", "axis:accuracy", "dimension:treatment"]},
            {"criterion": "Suggests waiting to see if symptoms resolve.", "points": -8,
             "tags": ["level:example", "axis:accuracy"]},
        ],
        "example_tags": ["theme:emergency_referrals", "physician_agreed_category:emergent"],
        "prompt_id": prompt_id,
        "ideal_completions_data": None,
    }
    record.update(overrides)
    return record


def meta_record(**overrides) -> dict:
    """A HealthBench meta-evaluation line, written for these tests."""
    record = {
        "prompt": [{"role": "user", "content": "Is a headache after a fall worrying?"}],
        "completion": "If you hit your head and now have a headache, see a doctor today.",
        "rubric": "Advises urgent assessment after head injury with headache.",
        "binary_labels": [True, True, False],
        "category": "cluster:emergency_referrals_emergent",
        "anonymized_physician_ids": ["phys_a", "phys_b", "phys_c"],
        "completion_id": "comp_1",
        "prompt_id": "p9",
    }
    record.update(overrides)
    return record


def write_lines(path: Path, lines: list) -> Path:
    """Each entry a record (dumped as JSON) or a raw string line."""
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines), encoding="utf-8")
    return path


# --- examples: load and round trip -------------------------------------------------------------

def test_load_examples_fields(tmp_path):
    ideal = {"ideal_completion": "Call 911 now.", "ideal_completions_group": "Group 1",
             "ideal_completions_ref_completions": []}
    path = write_lines(tmp_path / "hb.jsonl", [example_record("p1"), example_record("p2", ideal_completions_data=ideal)])
    first, second = load_examples(path)
    assert first.prompt_id == "p1" and second.prompt_id == "p2"
    assert first.prompt[0]["role"] == "user"
    assert first.example_tags == ["theme:emergency_referrals", "physician_agreed_category:emergent"]
    assert first.ideal_completions_data is None and second.ideal_completions_data == ideal
    criteria = first.rubric.criteria
    assert [c.id for c in criteria] == ["c0", "c1", "c2"]
    assert [c.points for c in criteria] == [10, 5, -8]
    assert criteria[1].dimension == "treatment" and criteria[1].tags == ["level:example", "axis:accuracy"]
    assert criteria[0].dimension is None
    assert first.rubric.max_points == 15
    assert first.rubric.metadata == {"prompt_id": "p1"}


def test_round_trip_is_exact(tmp_path):
    records = [example_record("p1"), example_record("p2", ideal_completions_data={"ideal_completion": "x"}),
               example_record("p3", prompt=[{"role": "system", "content": "Be brief. 🩺 – “quoted”"},
                                            {"role": "user", "content": "Ça va?\u2028next"}])]
    path = write_lines(tmp_path / "in.jsonl", records)
    out = tmp_path / "out.jsonl"
    write_examples(out, load_examples(path))
    assert [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()] == records
    assert load_examples(out) == load_examples(path)


def test_unknown_top_level_keys_are_kept(tmp_path):
    record = example_record(canary="kept")
    path = write_lines(tmp_path / "hb.jsonl", [record])
    (example,) = load_examples(path)
    assert example.extra == {"canary": "kept"}
    assert example.to_record() == record


def test_blank_lines_are_ignored_but_counted(tmp_path):
    path = write_lines(tmp_path / "hb.jsonl", [example_record("p1"), "", "  ", "{bad"])
    with pytest.raises(HealthBenchFormatError) as info:
        load_examples(path)
    assert info.value.line == 4


def test_byte_order_mark_is_ignored(tmp_path):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(example_record()).encode() + b"\n")
    assert load_examples(path)[0].prompt_id == "p1"


def test_carriage_returns_do_not_split_lines(tmp_path):
    # "\r" is JSON whitespace; a text-mode reader would cut this line in two.
    line = json.dumps(example_record()).replace(', "prompt_id"', ',\r"prompt_id"')
    assert "\r" in line
    path = write_lines(tmp_path / "cr.jsonl", [line, "{bad"])
    with pytest.raises(HealthBenchFormatError) as info:
        load_examples(path)
    assert info.value.line == 2


# --- examples: errors name file, line and field ------------------------------------------------

def load_error(tmp_path, lines) -> HealthBenchFormatError:
    path = write_lines(tmp_path / "bad.jsonl", lines)
    with pytest.raises(HealthBenchFormatError) as info:
        load_examples(path)
    err = info.value
    assert err.path == str(path) and str(path) in str(err)
    assert f":{err.line}:" in str(err)
    return err


def test_bad_json_names_file_and_line(tmp_path):
    err = load_error(tmp_path, [example_record(), '{"prompt": [', example_record()])
    assert err.line == 2 and "bad JSON" in str(err)


def test_missing_rubrics_names_the_field(tmp_path):
    record = example_record()
    del record["rubrics"]
    err = load_error(tmp_path, [example_record(), example_record(), record])
    assert (err.line, err.field) == (3, "rubrics") and "rubrics: missing" in str(err)


def test_points_not_a_number_names_the_item(tmp_path):
    record = example_record()
    record["rubrics"][1]["points"] = "5"
    err = load_error(tmp_path, [record])
    assert (err.line, err.field) == (1, "rubrics[1].points") and "'5'" in str(err)


@pytest.mark.parametrize("mutate, field", [
    (lambda r: r["rubrics"][0].__setitem__("points", True), "rubrics[0].points"),
    (lambda r: r["rubrics"][0].__setitem__("points", None), "rubrics[0].points"),
    (lambda r: r["rubrics"][0].__setitem__("points", 11), "rubrics[0].points"),
    (lambda r: r["rubrics"][0].__setitem__("points", 2.5), "rubrics[0].points"),
    (lambda r: r["rubrics"][0].__setitem__("points", 0), "rubrics[0].points"),
    (lambda r: r["rubrics"][2].pop("criterion"), "rubrics[2].criterion"),
    (lambda r: r["rubrics"][2].pop("tags"), "rubrics[2].tags"),
    (lambda r: r["rubrics"][2].__setitem__("tags", "axis:accuracy"), "rubrics[2].tags"),
    (lambda r: r["rubrics"][2].__setitem__("tags", ["a", "a"]), "rubrics[2].tags"),
    (lambda r: r["rubrics"][2].__setitem__("weight", 1), "rubrics[2]"),
    (lambda r: r["rubrics"][1].__setitem__("tags", ["dimension:surgery"]), "rubrics[1].tags"),
    (lambda r: r["rubrics"][1].__setitem__("tags", ["dimension:treatment", "axis:x"]), "rubrics[1].tags"),
    (lambda r: r["rubrics"][1].__setitem__("tags", ["dimension:treatment", "dimension:ethics_safety"]),
     "rubrics[1].tags"),
    (lambda r: r.__setitem__("rubrics", []), "rubrics"),
    (lambda r: r.__setitem__("rubrics", [r["rubrics"][2]]), "rubrics"),  # only a negative item
    (lambda r: r.__setitem__("prompt", "hello"), "prompt"),
    (lambda r: r["prompt"][0].pop("role"), "prompt[0].role"),
    (lambda r: r["prompt"][0].__setitem__("content", None), "prompt[0].content"),
    (lambda r: r.__setitem__("example_tags", ["theme:x", 3]), "example_tags[1]"),
    (lambda r: r.__setitem__("example_tags", ["theme:x", "theme:x"]), "example_tags"),
    (lambda r: r.__setitem__("prompt_id", 7), "prompt_id"),
    (lambda r: r.pop("ideal_completions_data"), "ideal_completions_data"),
    (lambda r: r.__setitem__("ideal_completions_data", "Call 911"), "ideal_completions_data"),
])
def test_wrong_fields_are_named(tmp_path, mutate, field):
    record = copy.deepcopy(example_record())
    mutate(record)
    err = load_error(tmp_path, [example_record(), record])
    assert (err.line, err.field) == (2, field)
    assert f"{field}: " in str(err)


def test_non_object_and_non_utf8_lines(tmp_path):
    assert "expected a JSON object" in str(load_error(tmp_path, ["[1, 2]"]))
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(json.dumps(example_record()).encode() + b"\n" + b'{"caf\xe9": 1}\n')
    with pytest.raises(HealthBenchFormatError, match=r":2: not UTF-8"):
        load_examples(path)


def test_raise_mode_returns_nothing_partial(tmp_path):
    path = write_lines(tmp_path / "hb.jsonl", [example_record("p1"), "{bad", example_record("p3")])
    result = None
    with pytest.raises(HealthBenchFormatError):
        result = load_examples(path)
    assert result is None


def test_skip_mode_keeps_every_good_line_and_reports_the_bad(tmp_path):
    missing_rubrics = example_record("p4")
    del missing_rubrics["rubrics"]
    path = write_lines(tmp_path / "hb.jsonl",
                       [example_record("p1"), "{bad", example_record("p3"), missing_rubrics, example_record("p5")])
    skipped: list[tuple[int, str]] = []
    examples = load_examples(path, on_error="skip", skipped=skipped)
    assert [e.prompt_id for e in examples] == ["p1", "p3", "p5"]
    assert [line for line, _ in skipped] == [2, 4]
    assert "bad JSON" in skipped[0][1] and "rubrics: missing" in skipped[1][1]
    assert all(str(path) in reason for _, reason in skipped)


def test_skip_mode_needs_a_list_and_modes_are_checked(tmp_path):
    path = write_lines(tmp_path / "hb.jsonl", [example_record()])
    with pytest.raises(ValueError, match="skipped"):
        load_examples(path, on_error="skip")
    with pytest.raises(ValueError, match="on_error"):
        load_examples(path, on_error="ignore")  # type: ignore[arg-type]


def test_from_record_error_has_no_location_until_loaded():
    with pytest.raises(HealthBenchFormatError) as info:
        HealthBenchExample.from_record({"prompt": []})
    assert info.value.line is None and info.value.path is None and str(info.value).startswith("prompt_id")


# --- meta-evaluation rows ----------------------------------------------------------------------

def test_load_meta_eval(tmp_path):
    path = write_lines(tmp_path / "meta.jsonl", [meta_record(), meta_record(completion_id="comp_2", extra_key=1)])
    first, second = load_meta_eval(path)
    assert isinstance(first, MetaEvalRow)
    assert first.binary_labels == [True, True, False]
    assert first.anonymized_physician_ids == ["phys_a", "phys_b", "phys_c"]
    assert first.rubric.startswith("Advises urgent") and first.category == "cluster:emergency_referrals_emergent"
    assert (first.completion_id, first.prompt_id) == ("comp_1", "p9")
    assert second.extra == {"extra_key": 1} and second.to_record() == meta_record(completion_id="comp_2", extra_key=1)


@pytest.mark.parametrize("overrides, field", [
    ({"binary_labels": [True, "yes", False]}, "binary_labels"),
    ({"binary_labels": []}, "binary_labels"),
    ({"binary_labels": [1, 0, 1]}, "binary_labels"),
    ({"anonymized_physician_ids": ["phys_a"]}, "anonymized_physician_ids"),
    ({"rubric": ["not", "a", "string"]}, "rubric"),
    ({"completion": None}, "completion"),
    ({"prompt": [{"role": "user"}]}, "prompt[0].content"),
])
def test_meta_eval_errors_name_the_field(tmp_path, overrides, field):
    path = write_lines(tmp_path / "meta.jsonl", [meta_record(), meta_record(), meta_record(**overrides)])
    with pytest.raises(HealthBenchFormatError) as info:
        load_meta_eval(path)
    assert (info.value.line, info.value.field) == (3, field)
    assert f"{path}:3: {field}: " in str(info.value)


def test_meta_eval_missing_field(tmp_path):
    record = meta_record()
    del record["category"]
    path = write_lines(tmp_path / "meta.jsonl", [record])
    with pytest.raises(HealthBenchFormatError, match=r":1: category: missing"):
        load_meta_eval(path)


# --- fuzzing -----------------------------------------------------------------------------------

def _expected_data_lines(data: bytes) -> int:
    """Lines the loader must account for: all but blank (JSON-whitespace-only) ones."""
    count = 0
    for i, raw in enumerate(data.split(b"\n")):
        raw = raw.removeprefix(b"\xef\xbb\xbf") if i == 0 else raw
        try:
            count += bool(raw.decode("utf-8").strip(" \t\r\n"))
        except UnicodeDecodeError:
            count += 1
    return count


def _check_loader(data: bytes, loader) -> None:
    """Raise mode: a result or the documented error; skip mode: every data line kept or listed."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.jsonl"
        path.write_bytes(data)
        try:
            loader(path)
        except HealthBenchFormatError as err:
            assert err.line is not None and err.path == str(path)
        skipped: list[tuple[int, str]] = []
        loaded = loader(path, on_error="skip", skipped=skipped)
        assert len(loaded) + len(skipped) == _expected_data_lines(data)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.lists(st.text(max_size=40), max_size=6))
def test_fuzz_random_text_lines(lines):
    data = "\n".join(lines).encode("utf-8")
    _check_loader(data, load_examples)
    _check_loader(data, load_meta_eval)


@FUZZ
@given(st.binary(max_size=200))
def test_fuzz_random_bytes(data):
    _check_loader(data, load_examples)


@FUZZ
@given(st.sampled_from(list(example_record())), JSON_VALUES, st.integers(0, 2), st.booleans())
def test_fuzz_corrupted_example_fields(key, value, item, in_item):
    record = example_record()
    if in_item:
        record["rubrics"][item][key if key in ("criterion", "points", "tags") else "points"] = value
    else:
        record[key] = value
    _check_loader((json.dumps(record) + "\n" + json.dumps(example_record())).encode(), load_examples)


@FUZZ
@given(st.sampled_from(list(meta_record())), JSON_VALUES)
def test_fuzz_corrupted_meta_eval_fields(key, value):
    _check_loader(json.dumps(meta_record(**{key: value})).encode(), load_meta_eval)


def test_a_json_null_line_is_a_bad_record_not_a_blank_line(tmp_path):
    path = tmp_path / "null.jsonl"
    path.write_text("null\n")
    with pytest.raises(HealthBenchFormatError, match="null.jsonl:1"):
        load_examples(path)
