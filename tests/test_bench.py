"""The benchmark runner (clinic_env.bench): concurrent episodes, results.jsonl, resume, errors, summary and reports."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os

import numpy as np
import pytest

from clinic_agents.scripted_doctor import ScriptedDoctor
from clinic_cli.main import main
from clinic_env.bench import (
    BenchError,
    arun_benchmark,
    episode_key,
    episode_seed,
    plan_episodes,
    read_results,
    run_benchmark,
)
from clinic_env.bench.report import bootstrap_ci, svg_bars, svg_histogram, svg_scatter
from clinic_env.cases.library import load_cases
from clinic_env.cases.specs import resolve_cases
from clinic_env.gym_env import ConsultationEnv
from clinic_env.patient import OfflinePatient
from clinic_env.rollout import run_consultation
from clinic_rubrics.grading import GradingError, WholeConversationGrader
from clinic_rubrics.offline_grader import OfflineGrader
from clinic_rubrics.schema import DIMENSIONS

TEST_CASES = load_cases(split="test")
FEW = "ids:pulm_cap_adult,cardio_new_af,neuro_migraine,paeds_croup"


def bench(tmp_path, name="run", **options):
    options = {"cases": "split:test", "concurrency": 4, "seed": 0, "progress": False, **options}
    return run_benchmark(out=tmp_path / name, **options)


def lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def scores_by_key(records):
    return {r["key"]: r["score"] for r in records}


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    """One clean run of the test split: the reference the other tests compare against."""
    return bench(tmp_path_factory.mktemp("baseline"))


# ---- doctors, patients and graders for the tests ------------------------------------------------

class InterruptingDoctor(ScriptedDoctor):
    """Stops the whole run (as Ctrl-C would) when the ``after``-th episode starts, while armed."""

    armed, after, started, raises = False, 6, 0, KeyboardInterrupt

    def reset(self, seed=None):
        super().reset(seed)
        if InterruptingDoctor.armed:
            InterruptingDoctor.started += 1
            if InterruptingDoctor.started > InterruptingDoctor.after:
                raise InterruptingDoctor.raises()


class CrashingDoctor(ScriptedDoctor):
    """In a worker process, kills the process (as a segfault or an OOM kill would) at its third episode."""

    started = 0

    def reset(self, seed=None):
        super().reset(seed)
        if seed is not None and multiprocessing.parent_process() is not None:
            CrashingDoctor.started += 1
            if CrashingDoctor.started == 3:
                os._exit(3)


class FlakyDoctor(ScriptedDoctor):
    """Fails (an endpoint down, say) on episodes whose seed is a multiple of 3, while armed."""

    armed = False

    def act(self, observation, info):
        if FlakyDoctor.armed and self._seed % 3 == 0:
            raise RuntimeError("<script>alert('x')</script> endpoint down")
        return super().act(observation, info)

    def reset(self, seed=None):
        self._seed = seed
        super().reset(seed)


class AsyncDoctor:
    """The scripted doctor behind ``aact`` (as an API-backed doctor would be)."""

    def __init__(self):
        self.inner = ScriptedDoctor()

    def reset(self, seed=None):
        self.inner.reset(seed)

    async def aact(self, observation, info):
        await asyncio.sleep(0)
        return self.inner.act(observation, info)

    def act(self, observation, info):
        raise AssertionError("the runner must await aact when a doctor has it")


class AsyncPatient(OfflinePatient):
    async def areply(self, message, messages):
        await asyncio.sleep(0)
        return self.reply(message, messages)


class AsyncOnlyGrader(WholeConversationGrader):
    """The offline grader's verdicts, but only at ``finish`` (like the LLM judge); counts overlap."""

    name = "async_offline"

    def __init__(self, fail=False):
        self.fail, self.in_flight, self.max_in_flight = fail, 0, 0

    async def agrade_conversation(self, conversation, rubric):
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.005)
            if self.fail:
                raise GradingError("criterion 'history_0': judge endpoint unreachable")
            return OfflineGrader().grade(conversation, rubric)
        finally:
            self.in_flight -= 1


# ---- a run and what it writes ---------------------------------------------------------------------

def test_a_run_writes_one_line_per_episode_a_summary_and_reports(baseline):
    out = baseline.out
    records = lines(out / "results.jsonl")
    plan = plan_episodes(TEST_CASES, 1, 0)
    assert sorted(r["key"] for r in records) == sorted(e.key for e in plan)
    assert all(r["status"] == "ok" and 0.0 <= r["score"] <= 1.0 for r in records)
    first = records[0]
    assert first["transcript"][0]["role"] == "patient" and first["transcript"][-1]["role"] == "doctor"
    assert first["verdicts"] and set(first["dimensions"]) <= set(DIMENSIONS)
    assert first["timings"]["total"] > 0 and first["doctor_turns"] >= 1 and first["cost"] >= 0
    assert first["seed"] == episode_seed(0, first["case_id"], 0) and first["error"] is None

    summary = json.loads((out / "summary.json").read_text())
    assert summary == json.loads(json.dumps(baseline.summary))
    assert (summary["n_planned"], summary["n_ok"], summary["n_errors"], summary["n_missing"]) == (len(plan), len(plan), 0, 0)
    overall = summary["overall"]
    assert overall["mean"] == pytest.approx(np.mean([r["score"] for r in records]))
    assert overall["ci_low"] < overall["mean"] < overall["ci_high"]
    assert set(summary["specialties"]) == {c.specialty for c in TEST_CASES}
    cardio = [r["score"] for r in records if r["specialty"] == "cardiology"]
    assert summary["specialties"]["cardiology"]["mean"] == pytest.approx(np.mean(cardio))
    assert set(summary["dimensions"]) == set(DIMENSIONS)
    dx = [r["dimensions"]["diagnostic_accuracy"] for r in records]
    assert summary["dimensions"]["diagnostic_accuracy"]["mean"] == pytest.approx(min(1, max(0, np.mean(dx))))

    md = (out / "report.md").read_text()
    assert "## Per dimension" in md and "## Per specialty" in md and f"{overall['mean']:.3f}" in md
    for name in ("score_histogram", "dimensions", "cost_vs_score"):
        svg = (out / "plots" / f"{name}.svg").read_text()
        assert svg.startswith("<svg") and f"plots/{name}.svg" in md
    html_text = (out / "report.html").read_text()
    assert html_text.count("<svg") == 3 and "cardiology" in html_text


def test_same_seed_same_scores_and_equal_to_one_by_one(baseline, tmp_path):
    again = bench(tmp_path, concurrency=1)
    assert scores_by_key(again.records) == scores_by_key(baseline.records)
    assert again.summary["overall"] == baseline.summary["overall"]
    assert again.summary["dimensions"] == baseline.summary["dimensions"]
    # the same episodes played one by one in the Gymnasium env (dense reward) score the same
    env = ConsultationEnv(split="test")
    for record in baseline.records:
        result = run_consultation(env, ScriptedDoctor(), seed=record["seed"], case_id=record["case_id"])
        assert result.score == record["score"], record["key"]
        assert result.info["cost"] == record["cost"]
    other = bench(tmp_path, "other_seed", cases=FEW, seed=1)
    assert all(r["seed"] == episode_seed(1, r["case_id"], 0) != episode_seed(0, r["case_id"], 0) for r in other.records)


def test_episodes_of_one_case_get_their_own_seeds(tmp_path):
    result = bench(tmp_path, cases="ids:pulm_cap_adult", episodes_per_case=3)
    assert [r["key"] for r in result.records] == [episode_key("pulm_cap_adult", k, 0) for k in range(3)]
    assert len({r["seed"] for r in result.records}) == 3
    assert len({json.dumps(r["transcript"]) for r in result.records}) > 1  # not three copies of one episode


# ---- interruption and resume ----------------------------------------------------------------------

@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, asyncio.CancelledError])
def test_an_interrupted_run_resumes_with_no_gap_and_no_duplicate(baseline, tmp_path, interrupt):
    InterruptingDoctor.armed, InterruptingDoctor.started, InterruptingDoctor.raises = True, 0, interrupt
    try:
        with pytest.raises(interrupt):
            bench(tmp_path, doctor=InterruptingDoctor)
    finally:
        InterruptingDoctor.armed = False
    saved = lines(tmp_path / "run" / "results.jsonl")
    assert 0 < len(saved) < len(baseline.records)
    assert all(r["status"] == "ok" for r in saved)  # the interrupt is not an episode error

    result = bench(tmp_path, doctor=InterruptingDoctor, resume=True)
    assert result.n_run == len(baseline.records) - len(saved) and result.n_skipped == len(saved)
    final = lines(tmp_path / "run" / "results.jsonl")
    keys = [r["key"] for r in final]
    assert len(keys) == len(set(keys)) and set(keys) == set(scores_by_key(baseline.records))
    assert scores_by_key(final) == scores_by_key(baseline.records)
    assert bench(tmp_path, doctor=InterruptingDoctor, resume=True).n_run == 0  # nothing left to run


def test_a_torn_last_line_is_dropped_and_its_episode_rerun(baseline, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    raw = (baseline.out / "results.jsonl").read_text().splitlines(keepends=True)
    (out / "results.jsonl").write_text("".join(raw[:3]) + raw[3][: len(raw[3]) // 2])
    records, torn = read_results(out / "results.jsonl")
    assert len(records) == 3 and "torn last line" in torn

    result = bench(tmp_path, resume=True)
    assert result.n_run == len(raw) - 3 and any("torn" in w for w in result.warnings)
    final = lines(out / "results.jsonl")  # every line parses
    keys = [r["key"] for r in final]
    assert len(keys) == len(set(keys)) == len(raw)
    assert scores_by_key(final) == scores_by_key(baseline.records)


def test_a_bad_line_before_the_end_is_an_error(baseline, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    raw = (baseline.out / "results.jsonl").read_text().splitlines(keepends=True)
    (out / "results.jsonl").write_text(raw[0] + "{not json\n" + raw[1])
    with pytest.raises(BenchError, match=r"results.jsonl:2: not a valid episode record"):
        bench(tmp_path, resume=True)


def test_an_existing_run_needs_resume_and_the_same_setup(tmp_path):
    bench(tmp_path, cases=FEW)
    with pytest.raises(BenchError, match="--resume"):
        bench(tmp_path, cases=FEW)
    with pytest.raises(BenchError, match="different setup.*max_turns: 30 there, 10 now"):
        bench(tmp_path, cases=FEW, resume=True, max_turns=10)
    more = bench(tmp_path, cases=FEW, episodes_per_case=2, resume=True)  # extending a run is fine
    assert more.n_run == 4 and more.n_skipped == 4 and more.summary["n_ok"] == 8


# ---- errors ----------------------------------------------------------------------------------------

def test_failed_episodes_are_recorded_excluded_and_retried(baseline, tmp_path):
    FlakyDoctor.armed = True
    try:
        result = bench(tmp_path, doctor=FlakyDoctor)
    finally:
        FlakyDoctor.armed = False
    failed = [r for r in result.records if r["status"] == "error"]
    ok = [r for r in result.records if r["status"] == "ok"]
    assert failed and ok and {r["key"] for r in failed} == {r["key"] for r in result.records if r["seed"] % 3 == 0}
    assert all(r["score"] is None and r["error"]["type"] == "RuntimeError" and "endpoint down" in r["error"]["message"]
               for r in failed)
    summary = result.summary
    assert summary["n_errors"] == len(failed) and summary["n_ok"] == len(ok)
    assert summary["errors"]["by_type"] == {"RuntimeError": len(failed)}
    assert summary["overall"]["mean"] == pytest.approx(np.mean([r["score"] for r in ok]))
    assert summary["overall"]["mean"] > np.mean([r["score"] or 0.0 for r in result.records])  # not counted as 0
    report = (result.out / "report.html").read_text()
    assert "&lt;script&gt;alert(" in report and "<script>" not in report

    retry = bench(tmp_path, doctor=FlakyDoctor, resume=True)
    assert retry.n_run == len(failed) and retry.summary["n_errors"] == 0
    final = lines(result.out / "results.jsonl")
    assert len(final) == len({r["key"] for r in final}) == len(baseline.records)
    assert scores_by_key(final) == scores_by_key(baseline.records)
    assert len(lines(result.out / "retried_errors.jsonl")) == len(failed)


def test_async_doctor_patient_and_grader_give_the_same_scores(baseline, tmp_path):
    grader = AsyncOnlyGrader()
    result = bench(tmp_path, doctor=AsyncDoctor, patient=AsyncPatient, grader=grader, concurrency=3)
    assert scores_by_key(result.records) == scores_by_key(baseline.records)
    assert [r["verdicts"] for r in result.records] == [r["verdicts"] for r in baseline.records]
    assert 1 < grader.max_in_flight <= 3  # episodes overlap, never more than --concurrency
    assert result.records[0]["grader"].endswith("AsyncOnlyGrader")

    failing = bench(tmp_path, "failing", cases=FEW, grader=AsyncOnlyGrader(fail=True))
    assert failing.summary["n_errors"] == 4 and failing.summary["overall"] is None
    assert failing.records[0]["error"]["type"] == "GradingError" and failing.records[0]["transcript"]


def test_llm_grader_spec_uses_the_judge_at_openai_base_url(tmp_path, monkeypatch, pneumonia_case):
    from openai_server import judge_reply, serve

    from clinic_env.case_rubric import build_case_rubric

    rubric = build_case_rubric(pneumonia_case)
    with serve(handler=lambda request: judge_reply(True, "all met")) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test")
        result = bench(tmp_path, cases="ids:pulm_cap_adult", grader="llm:judge-model")
        requests = server.requests
    record = result.records[0]
    assert record["status"] == "ok" and record["grader"] == "llm:judge-model"
    assert len(requests) == len(rubric.criteria) and requests[0].json["model"] == "judge-model"
    assert all(record["verdicts"].values()) and set(record["explanations"].values()) == {"all met"}
    raw = sum(c.points for c in rubric.criteria) / sum(c.points for c in rubric.criteria if c.points > 0)
    # every criterion met includes the critical harms: the harm gate pays the rubric's cap, whatever the raw score
    assert record["raw_score"] == pytest.approx(raw) and record["score"] == rubric.harm_cap == 0.0


def test_doctor_objects_are_copied_per_episode(baseline, tmp_path):
    result = bench(tmp_path, doctor=ScriptedDoctor(), cases="split:test")
    assert scores_by_key(result.records) == scores_by_key(baseline.records)


@pytest.mark.parametrize("options, message", [
    ({"doctor": "oracle"}, "unknown doctor 'oracle'"),
    ({"doctor": "telepathy:gpt-4.1"}, "'telepathy' is not a known doctor scheme"),
    ({"doctor": "clinic_agents.scripted_doctor:NoSuchDoctor"}, "has no attribute 'NoSuchDoctor'"),
    ({"patient": "chatty"}, "unknown patient 'chatty'"),
    ({"grader": "llm:"}, "needs an argument after 'llm:'"),
    ({"grader": "judge"}, r"unknown grader 'judge'.*llm:ARG"),
    ({"cases": "split:validation"}, "split must be 'train' or 'test'"),
    ({"cases": "specialty:astrology"}, "unknown specialty 'astrology'"),
    ({"cases": "ids:pulm_cap_adult,no_such_case"}, r"unknown case id\(s\) \['no_such_case'\]"),
    ({"cases": "everything"}, "unknown cases spec 'everything'"),
    ({"cases": "missing.jsonl"}, "cannot read case file"),
    ({"episodes_per_case": 0}, "episodes_per_case must be a positive integer"),
    ({"concurrency": -1}, "concurrency must be a positive integer"),
    ({"persona": "grumpy"}, "unknown persona preset 'grumpy'"),
])
def test_bad_specs_fail_clearly_before_anything_is_written(tmp_path, options, message):
    with pytest.raises((ValueError, ImportError), match=message):
        bench(tmp_path, **options)
    assert not (tmp_path / "run").exists()


def test_case_specs(cases):
    assert [c.id for c in resolve_cases("builtin")] == [c.id for c in cases]
    assert {c.split for c in resolve_cases("split:train")} == {"train"}
    both = resolve_cases("split:test+specialty:cardiology")
    assert both and {(c.split, c.specialty) for c in both} == {("test", "cardiology")}
    assert [c.id for c in resolve_cases("ids:paeds_croup,pulm_cap_adult,paeds_croup")] == ["paeds_croup", "pulm_cap_adult"]


def test_case_file_spec(tmp_path, pneumonia_case):
    path = tmp_path / "mine.jsonl"
    path.write_text(pneumonia_case.model_dump_json() + "\n")
    result = bench(tmp_path, cases=str(path))
    assert [r["case_id"] for r in result.records] == ["pulm_cap_adult"]


def test_cases_as_objects_and_the_notebook_display(tmp_path, pneumonia_case):
    one = bench(tmp_path, "one", cases=pneumonia_case)
    assert one.summary["config"]["cases"] == ["pulm_cap_adult"] and one.summary["n_ok"] == 1
    listed = bench(tmp_path, "listed", cases=[pneumonia_case, "paeds_croup"])
    assert [r["case_id"] for r in listed.records] == ["pulm_cap_adult", "paeds_croup"]
    fragment = listed._repr_html_()
    assert fragment.count("<svg") == 3 and "<html" not in fragment and "<style" not in fragment


# ---- the API from a notebook, the progress bar ------------------------------------------------------

def test_sync_api_refuses_inside_a_loop_and_async_api_works_there(tmp_path):
    async def notebook_cell():
        with pytest.raises(RuntimeError, match=r"await arun_benchmark"):
            run_benchmark(out=tmp_path / "sync", cases=FEW)
        return await arun_benchmark(out=tmp_path / "async", cases=FEW, progress=False)

    result = asyncio.run(notebook_cell())
    assert result.summary["n_ok"] == 4 and not (tmp_path / "sync").exists()


def test_progress_bar_shows_the_running_mean(tmp_path, capsys):
    bench(tmp_path, "on", cases=FEW, progress=True)
    err = capsys.readouterr().err
    assert "4/4" in err and "mean=" in err
    bench(tmp_path, "off", cases=FEW, progress=False)
    assert capsys.readouterr().err == ""


# ---- statistics and plots --------------------------------------------------------------------------

def test_bootstrap_resamples_cases_not_episodes():
    values = [0.0] * 10 + [1.0] * 10
    by_case = bootstrap_ci(values, ["a"] * 10 + ["b"] * 10, seed=0)
    by_episode = bootstrap_ci(values, seed=0)
    assert by_case["mean"] == by_episode["mean"] == 0.5 and by_case["n_cases"] == 2
    assert (by_case["ci_low"], by_case["ci_high"]) == (0.0, 1.0)  # two cases tell little
    assert 0.25 < by_episode["ci_low"] < 0.5 < by_episode["ci_high"] < 0.75
    assert bootstrap_ci(values, seed=3) == bootstrap_ci(values, seed=3)
    assert bootstrap_ci([]) is None
    assert bootstrap_ci([-0.5, -0.2])["mean"] == 0.0  # HealthBench's clipped mean


def test_svg_plots_escape_text_and_survive_no_data():
    scatter = svg_scatter([(120.0, 0.5, "<b>x</b>&")])
    assert "&lt;b&gt;x&lt;/b&gt;&amp;" in scatter and "<b>" not in scatter
    assert svg_bars({"a<b": {"mean": 0.4, "ci_low": 0.3, "ci_high": 0.5, "n": 2, "n_cases": 2}}).count("a&lt;b") == 2
    assert svg_histogram([0.05, 0.95, 1.0]).count("<rect") == 11  # the background and ten bins
    assert svg_histogram([0.05, 0.95, 1.0]).count("<title>0.9-1.0: 2</title>") == 1  # 1.0 falls in the last bin
    assert "no scored episodes" in svg_histogram([]) and "no scored episodes" in svg_scatter([])


# ---- the command line -----------------------------------------------------------------------------

def test_cli_bench_end_to_end(baseline, tmp_path, capsys):
    out = tmp_path / "cli"
    argv = ["bench", "--cases", "split:test", "--concurrency", "4", "--seed", "0", "--out", str(out), "--no-progress"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text())
    assert summary["overall"] == baseline.summary["overall"]
    assert f"Score: {summary['overall']['mean']:.3f} [{summary['overall']['ci_low']:.3f}" in printed
    assert str(out / "results.jsonl") in printed and str(out / "report.html") in printed
    assert len(lines(out / "results.jsonl")) == len(TEST_CASES)

    assert main(argv) == 2
    assert "--resume" in capsys.readouterr().err
    assert main([*argv, "--resume"]) == 0
    assert "0 run now" in capsys.readouterr().out and len(lines(out / "results.jsonl")) == len(TEST_CASES)
    assert main(["bench", "--doctor", "oracle", "--out", str(tmp_path / "bad")]) == 2
    assert "unknown doctor 'oracle'" in capsys.readouterr().err


def test_llm_doctor_and_patient_specs_run_against_a_local_endpoint(tmp_path, monkeypatch):
    """`--doctor openai:MODEL --patient llm:MODEL` resolve through the registry to real clients."""
    from openai_server import serve

    from clinic_cli.main import main

    def handler(request):
        system = request.messages[0]["content"]
        if "You are a doctor" in system:
            turns = sum(m["role"] == "assistant" for m in request.messages)
            return "ASK: When did it start?" if turns == 0 else "DIAGNOSE: pneumonia\nPLAN: antibiotics; review"
        return "It started four days ago."

    with serve(handler=handler) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test")
        code = main(["bench", "--doctor", "openai:doc", "--patient", "llm:pat", "--cases", "ids:pulm_cap_adult",
                     "--out", str(tmp_path / "run"), "--no-progress"])
        n_requests = len(server.requests)
    assert code == 0 and n_requests == 3  # two doctor turns, one patient reply
    record = json.loads((tmp_path / "run" / "results.jsonl").read_text().splitlines()[0])
    assert record["status"] == "ok" and record["terminated"]
    # the episode's LLM calls and the tokens the server reported (its usage: words of the prompt / reply)
    replies = ["ASK: When did it start?", "It started four days ago.", "DIAGNOSE: pneumonia\nPLAN: antibiotics; review"]
    assert record["llm"]["calls"] == 3 and record["llm"]["failed_calls"] == 0
    assert record["llm"]["completion_tokens"] == sum(len(r.split()) for r in replies)
    assert record["llm"]["prompt_tokens"] > 0 and record["llm"]["cost"] == 0.0  # no prices given
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["llm"]["calls"] == 3 and summary["llm"]["total_tokens"] == record["llm"]["total_tokens"]
    assert "LLM tokens per scored episode" in (tmp_path / "run" / "report.md").read_text()
    assert (tmp_path / "run" / "plots" / "llm_cost_vs_score.svg").exists()


def test_offline_runs_record_no_llm_use(baseline):
    assert all(r["llm"]["calls"] == 0 for r in baseline.records) and baseline.summary["llm"] is None
    assert not (baseline.out / "plots" / "llm_cost_vs_score.svg").exists()


def test_workers_play_the_same_episodes_as_one_process(tmp_path, baseline):
    result = bench(tmp_path, "workers", workers=2, concurrency=3)
    assert result.summary["n_ok"] == len(TEST_CASES) and result.warnings == []
    ours = {r["key"]: (r["score"], r["transcript"]) for r in result.records}
    assert ours == {r["key"]: (r["score"], r["transcript"]) for r in baseline.records}
    keys = [r["key"] for r in lines(result.results_path)]
    assert sorted(keys) == sorted(ours) and len(keys) == len(set(keys))  # each once, from two processes
    resumed = bench(tmp_path, "workers", workers=2, concurrency=3, resume=True)
    assert resumed.n_run == 0 and len(lines(result.results_path)) == len(TEST_CASES)


def test_a_worker_that_dies_loses_only_its_unfinished_episodes(tmp_path, baseline):
    result = bench(tmp_path, "crash", workers=2, concurrency=2, doctor=CrashingDoctor)
    assert len(result.warnings) == 2 and all("exited with code 3" in w for w in result.warnings)
    assert result.summary["n_ok"] == 4 and result.summary["n_missing"] == len(TEST_CASES) - 4
    first = lines(result.results_path)
    resumed = bench(tmp_path, "crash", workers=1, doctor=CrashingDoctor, resume=True)
    assert resumed.n_run == len(TEST_CASES) - 4 and resumed.summary["n_ok"] == len(TEST_CASES)
    assert lines(result.results_path)[:4] == first  # finished lines stay as written
    assert scores_by_key(resumed.records) == scores_by_key(baseline.records)


def test_workers_need_picklable_components(tmp_path):
    with pytest.raises(BenchError, match="workers=2 sends the doctor.*cannot be pickled.*spec string"):
        bench(tmp_path, doctor=lambda: ScriptedDoctor(), workers=2)
