"""HealthBench-exact scoring: every expected number below is computed by hand in a comment."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinic_rubrics.grading import Verdict
from clinic_rubrics.schema import DIMENSIONS, Criterion, Rubric
from clinic_rubrics.scoring import (
    RubricScorer,
    Stat,
    aggregate,
    bootstrap_std,
    clipped_mean,
    example_metrics,
    example_score,
    flatten,
    met_flags,
)


def crit(id: str, points: int, tags: tuple[str, ...] = (), dimension: str | None = None) -> Criterion:
    return Criterion(id=id, text=f"criterion {id}", points=points, tags=list(tags), dimension=dimension)


# 5 + 3 positive points = 8 possible; c2 is a pitfall worth -2.
BASIC = [crit("c0", 5), crit("c1", 3), crit("c2", -2)]


@pytest.fixture
def global_rng_state():
    """Tests that seed NumPy's global RNG put it back as they found it."""
    state = np.random.get_state()
    yield
    np.random.set_state(state)


# --- per-example score -----------------------------------------------------------------------

@pytest.mark.parametrize("met, expected", [
    ([True, True, False], 1.0),      # (5 + 3) / 8: every good thing, no pitfall
    ([True, True, True], 0.75),      # (5 + 3 - 2) / 8: the pitfall costs 2 of 8
    ([True, False, False], 0.625),   # 5 / 8
    ([False, True, False], 0.375),   # 3 / 8
    ([True, False, True], 0.375),    # (5 - 2) / 8: the negative met lowers 0.625 to 0.375
    ([False, False, False], 0.0),    # 0 / 8
    ([False, False, True], -0.25),   # -2 / 8: below zero, not clipped per example
])
def test_example_score_by_hand(met, expected):
    assert example_score(BASIC, met) == pytest.approx(expected)


def test_rubric_and_criteria_list_score_the_same():
    assert example_score(Rubric(criteria=BASIC), [True, False, True]) == pytest.approx(0.375)


def test_no_positive_points_gives_none_and_cannot_be_an_example():
    negatives = [crit("c0", -3), crit("c1", -1)]
    assert example_score(negatives, [True, False]) is None
    assert example_score([], []) is None
    with pytest.raises(ValueError, match="positive points"):
        example_metrics(negatives, [True, False])


def test_several_negatives_can_push_far_below_zero():
    rubric = [crit("c0", 2), crit("c1", -10), crit("c2", -10)]
    assert example_score(rubric, [False, True, True]) == pytest.approx(-10.0)  # -20 / 2


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(-10, 10).filter(bool), st.booleans()), min_size=1, max_size=12))
def test_an_example_never_scores_above_one(items):
    criteria = [crit(f"c{i}", p) for i, (p, _) in enumerate(items)]
    score = example_score(criteria, [m for _, m in items])
    if any(p > 0 for p, _ in items):
        positive_met = sum(p for p, m in items if m and p > 0)
        possible = sum(p for p, _ in items if p > 0)
        assert score <= 1.0 + 1e-12
        assert score <= positive_met / possible + 1e-12  # negatives can only lower it
    else:
        assert score is None


# --- verdicts and input errors -----------------------------------------------------------------

def test_verdicts_are_matched_by_id_not_position():
    verdicts = [Verdict("c2", True), Verdict("c0", True), Verdict("c1", False)]
    assert met_flags(BASIC, verdicts) == [True, False, True]
    assert example_score(BASIC, verdicts) == pytest.approx(0.375)  # (5 - 2) / 8


def test_missing_verdict_names_the_criterion():
    with pytest.raises(ValueError, match="no verdict for criterion 'c1'"):
        example_score(BASIC, [Verdict("c0", True), Verdict("c2", False)])


def test_unknown_and_duplicate_verdicts_are_errors():
    with pytest.raises(ValueError, match="not in the rubric.*c9"):
        example_score(BASIC, [Verdict("c0", True), Verdict("c1", True), Verdict("c2", False), Verdict("c9", True)])
    with pytest.raises(ValueError, match="two verdicts for criterion 'c0'"):
        example_score(BASIC, [Verdict("c0", True), Verdict("c0", False), Verdict("c1", True), Verdict("c2", False)])


def test_verdict_met_must_be_a_bool():
    with pytest.raises(TypeError, match="c1"):
        example_score(BASIC, [Verdict("c0", True), Verdict("c1", None), Verdict("c2", False)])  # type: ignore[arg-type]


@pytest.mark.parametrize("met", [[True, True], [True, True, False, False], []])
def test_mismatched_lengths_are_errors(met):
    with pytest.raises(ValueError, match=f"{len(met)} met flags for 3 criteria"):
        example_score(BASIC, met)


@pytest.mark.parametrize("met", [[1, 0, 0], ["yes", "no", "no"], [True, Verdict("c1", True), False]])
def test_met_must_be_bools_or_verdicts(met):
    with pytest.raises(TypeError):
        example_score(BASIC, met)


def test_numpy_bools_are_bools():
    assert example_score(BASIC, list(np.array([True, False, True]))) == pytest.approx(0.375)


def test_a_scorer_reads_verdicts_in_rubric_order_as_met_flags_and_refuses_the_same_errors():
    scorer = RubricScorer(BASIC)
    in_order = [Verdict("c0", True), Verdict("c1", False), Verdict("c2", True)]
    assert scorer.flags(in_order) == scorer.flags(in_order[::-1]) == met_flags(BASIC, in_order) == [True, False, True]
    numpy_met = scorer.flags([Verdict("c0", np.bool_(True)), Verdict("c1", False), Verdict("c2", False)])
    assert numpy_met == [True, False, False] and {type(flag) for flag in numpy_met} == {bool}
    assert scorer.score(in_order).raw == pytest.approx(0.375)  # (5 - 2) / 8
    with pytest.raises(TypeError, match="c1"):
        scorer.score([Verdict("c0", True), Verdict("c1", None), Verdict("c2", False)])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="3 met flags for 4 criteria"):
        RubricScorer([*BASIC, crit("c3", 1)]).score([True, False, True])
    same_ids = RubricScorer([crit("c0", 5), crit("c0", 3)])  # a criteria list, unlike a rubric, may repeat an id
    with pytest.raises(ValueError, match="two verdicts for criterion 'c0'"):
        same_ids.flags([Verdict("c0", True), Verdict("c0", False)])


# --- tags, dimensions and example tags ---------------------------------------------------------

# Tag "a": c0 (5), c1 (3); tag "b": c0 (5), c2 (-2); untagged c3 (2); "pitfall" only on c2.
TAGGED = [
    crit("c0", 5, ("a", "b"), "treatment"),
    crit("c1", 3, ("a",), "treatment"),
    crit("c2", -2, ("b", "pitfall"), "communication"),
    crit("c3", 2, (), "diagnostic_accuracy"),
]
TAGGED_MET = [True, False, True, True]


def test_rubric_tag_scores_by_hand():
    metrics = example_metrics(TAGGED, TAGGED_MET)
    assert metrics["overall_score"] == pytest.approx(0.5)  # (5 - 2 + 2) / (5 + 3 + 2)
    assert metrics["a"] == pytest.approx(0.625)            # 5 / (5 + 3)
    assert metrics["b"] == pytest.approx(0.6)              # (5 - 2) / 5


def test_all_negative_tag_subset_gets_no_score():
    metrics = example_metrics(TAGGED, TAGGED_MET)
    assert "pitfall" not in metrics  # only c2 (-2): no positive points, no score, not 0 or -inf


def test_dimension_scores_by_hand():
    metrics = example_metrics(TAGGED, TAGGED_MET)
    assert metrics["dimension:treatment"] == pytest.approx(0.625)        # 5 / (5 + 3)
    assert metrics["dimension:diagnostic_accuracy"] == pytest.approx(1.0)  # 2 / 2
    assert "dimension:communication" not in metrics                      # only the -2 pitfall
    for d in set(DIMENSIONS) - {"treatment", "diagnostic_accuracy", "communication"}:
        assert f"dimension:{d}" not in metrics                           # no criteria at all


def test_dimension_score_is_healthbench_tag_score_of_the_converted_rubric():
    """In HealthBench's shape the dimension is the tag ``dimension:<d>``: same key, same score."""
    items = Rubric(criteria=TAGGED).to_healthbench()
    metrics = example_metrics(TAGGED, TAGGED_MET)
    dimension_keys = {t for item in items for t in item["tags"] if t.startswith("dimension:")}
    assert dimension_keys == {"dimension:treatment", "dimension:communication", "dimension:diagnostic_accuracy"}
    for key in dimension_keys:
        subset = [(item["points"], m) for item, m in zip(items, TAGGED_MET) if key in item["tags"]]
        possible = sum(p for p, _ in subset if p > 0)
        if possible:
            assert metrics[key] == pytest.approx(sum(p for p, m in subset if m) / possible)
        else:
            assert key not in metrics


def test_negative_tag_member_met_lowers_the_tag_score():
    unmet_pitfall = example_metrics(TAGGED, [True, False, False, True])
    assert unmet_pitfall["b"] == pytest.approx(1.0)  # 5 / 5
    assert unmet_pitfall["overall_score"] == pytest.approx(0.7)  # (5 + 2) / 10


def test_example_tags_get_the_overall_score():
    metrics = example_metrics(TAGGED, TAGGED_MET, example_tags=["theme:emergency_referrals", "physician_agreed"])
    assert metrics["theme:emergency_referrals"] == pytest.approx(0.5)
    assert metrics["physician_agreed"] == pytest.approx(0.5)


def test_exact_key_set():
    metrics = example_metrics(TAGGED, TAGGED_MET, example_tags=["theme:x"])
    assert set(metrics) == {"overall_score", "theme:x", "a", "b",
                            "dimension:treatment", "dimension:diagnostic_accuracy"}


def test_repeated_example_tags_are_an_error():
    with pytest.raises(ValueError, match="unique"):
        example_metrics(TAGGED, TAGGED_MET, example_tags=["theme:x", "theme:x"])


def test_example_metrics_accepts_verdicts():
    verdicts = [Verdict(c.id, m) for c, m in zip(TAGGED, TAGGED_MET)][::-1]
    assert example_metrics(TAGGED, verdicts) == example_metrics(TAGGED, TAGGED_MET)


# --- aggregation -------------------------------------------------------------------------------

def test_mean_is_over_unclipped_example_scores_then_clipped():
    stats = aggregate([{"overall_score": -0.25}, {"overall_score": 0.75}])
    assert stats["overall_score"].mean == pytest.approx(0.25)  # (-0.25 + 0.75) / 2, not (0 + 0.75) / 2


def test_negative_mean_is_clipped_to_zero():
    stats = aggregate([{"overall_score": -0.25}, {"overall_score": 0.125}])  # mean -0.0625
    assert stats["overall_score"].mean == 0.0
    assert clipped_mean([-0.25, 0.125]) == 0.0


def test_mean_above_one_is_clipped_to_one():
    # Constructed values: no single example can exceed 1, but the clip is part of the formula.
    stats = aggregate([{"tag": 1.5}, {"tag": 1.0}])  # mean 1.25
    assert stats["tag"].mean == 1.0
    assert stats["tag"].bootstrap_std == 0.0  # every resample mean is >= 1, so clipped to 1


def test_each_metric_averages_only_the_examples_that_have_it():
    per_example = [
        {"overall_score": 0.5, "a": 0.2},
        {"overall_score": 1.0},
        {"overall_score": 0.0, "a": 0.6},
    ]
    stats = aggregate(per_example)
    assert stats["overall_score"].mean == pytest.approx(0.5)  # (0.5 + 1 + 0) / 3
    assert stats["overall_score"].n_samples == 3
    assert stats["a"].mean == pytest.approx(0.4)  # (0.2 + 0.6) / 2, not / 3
    assert stats["a"].n_samples == 2


def test_aggregate_end_to_end_from_example_metrics():
    per_example = [example_metrics(BASIC, met, ["theme:t"]) for met in
                   ([True, True, False], [False, False, True], [True, False, False])]  # 1, -0.25, 0.625
    stats = aggregate(per_example)
    assert stats["overall_score"].mean == pytest.approx(0.4583333333)  # 1.375 / 3
    assert stats["theme:t"] == stats["overall_score"]


def test_aggregate_rejects_missing_values():
    with pytest.raises(ValueError, match="'a'"):
        aggregate([{"a": None}])  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="'a'"):
        aggregate([{"a": float("nan")}])


def test_aggregate_of_nothing_is_empty():
    assert aggregate([]) == {}


def test_flatten_uses_healthbench_keys():
    flat = flatten({"overall_score": Stat(0.5, 3, 0.1)})
    assert flat == {"overall_score": 0.5, "overall_score:n_samples": 3, "overall_score:bootstrap_std": 0.1}


# --- bootstrap ---------------------------------------------------------------------------------

VALUES = [0.1, 0.9, 0.4, -0.3, 0.75, 0.6, 0.2, 1.0, 0.0, 0.55]


def test_bootstrap_is_reproducible_with_a_seed():
    assert bootstrap_std(VALUES, seed=7) == bootstrap_std(VALUES, seed=7)
    assert bootstrap_std(VALUES, seed=7) != bootstrap_std(VALUES, seed=8)
    assert aggregate([{"s": v} for v in VALUES], seed=7)["s"].bootstrap_std == bootstrap_std(VALUES, seed=7)


def test_bootstrap_of_identical_values_is_zero():
    # Zero up to float rounding (np.std of 1000 equal floats), as in HealthBench itself.
    assert bootstrap_std([0.4] * 50) == pytest.approx(0.0, abs=1e-12)
    assert bootstrap_std([0.5] * 50) == 0.0  # exactly representable: exactly zero
    stat = aggregate([{"s": 0.4}])["s"]
    assert (stat.mean, stat.n_samples) == (0.4, 1) and stat.bootstrap_std == pytest.approx(0.0, abs=1e-12)


def test_bootstrap_matches_healthbench_procedure_after_seeding_numpy(global_rng_state):
    """HealthBench: np.std of clip(mean(np.random.choice(values, n))) over 1000 resamples."""
    np.random.seed(11)
    reference = np.std([np.clip(np.mean(np.random.choice(VALUES, len(VALUES))), 0, 1) for _ in range(1000)])
    assert bootstrap_std(VALUES, seed=11) == reference


def test_seed_none_uses_numpys_global_rng(global_rng_state):
    np.random.seed(5)
    assert bootstrap_std(VALUES, seed=None) == bootstrap_std(VALUES, seed=5)


def test_bootstrap_std_is_the_std_of_the_mean_for_a_large_sample():
    # Values well inside [0, 1], so clipping never bites and the bootstrap std estimates
    # sigma / sqrt(n) (ddof=0); 1000 resamples pin it to a few percent.
    rng = random.Random(0)
    values = [rng.uniform(0.3, 0.7) for _ in range(2000)]
    analytic = np.std(values) / np.sqrt(len(values))  # about 0.1155 / 44.7 = 0.00258
    assert bootstrap_std(values, seed=0) == pytest.approx(analytic, rel=0.1)


def test_clipping_shrinks_the_bootstrap_std_near_zero():
    # Mean 0 with spread: about half the resample means are negative and clip to 0.
    values = [-0.5, 0.5] * 50
    clipped = bootstrap_std(values, seed=0)
    unclipped = np.std([-0.5, 0.5]) / np.sqrt(100)  # 0.05
    assert 0 < clipped < 0.8 * unclipped


def test_n_bootstrap_changes_the_number_of_resamples():
    assert bootstrap_std(VALUES, n_bootstrap=1, seed=0) == 0.0  # std of one mean
    assert bootstrap_std(VALUES, n_bootstrap=10, seed=0) > 0.0
