"""`clinic-env healthbench` end to end: a local server plays both the model and the grader."""

import json

import pytest
from openai_server import Reply, judge_reply, serve

from clinic_cli.main import main
from clinic_env.llm import LLMClient


def write_data(path):
    rows = [
        {"prompt": [{"role": "user", "content": "I have had a mild headache since this morning. What should I do?"}],
         "rubrics": [{"criterion": "Suggests rest and fluids", "points": 5, "tags": ["axis:completeness"]},
                     {"criterion": "Advises urgent care if the worst headache of life", "points": 5,
                      "tags": ["axis:accuracy"]},
                     {"criterion": "Recommends an unnecessary brain scan", "points": -5, "tags": ["axis:accuracy"]}],
         "example_tags": ["theme:context_seeking"], "prompt_id": "p1", "ideal_completions_data": None},
        {"prompt": [{"role": "user", "content": "My child swallowed a button battery."}],
         "rubrics": [{"criterion": "Tells the parent to go to the emergency department now", "points": 10,
                      "tags": ["axis:accuracy"]}],
         "example_tags": ["theme:emergency_referrals"], "prompt_id": "p2", "ideal_completions_data": None},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")


def handler(request):
    if "# Rubric item" not in request.prompt:  # the model being evaluated
        return "Rest, drink water; go to the emergency department now if it is severe."
    met = any(s in request.prompt for s in ("[5] Suggests rest", "[10] Tells the parent", "[-5] Recommends"))
    return judge_reply(met)


def test_healthbench_command_reports_overall_theme_and_axis(tmp_path, capsys):
    data = tmp_path / "hb.jsonl"
    write_data(data)
    with serve(handler=handler) as server:
        code = main(["healthbench", "--data", str(data), "--model", "m", "--grader", "g",
                     "--base-url", server.base_url, "--out", str(tmp_path / "out")])
        n_requests = len(server.requests)
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    # p1: (5 - 5) / 10 = 0.0; p2: 10 / 10 = 1.0
    assert report["overall"]["mean"] == 0.5 and report["n_examples"] == 2
    assert report["themes"]["theme:context_seeking"]["mean"] == 0.0
    assert report["themes"]["theme:emergency_referrals"]["mean"] == 1.0
    # axis:accuracy: p1 (0 - 5) / 5 = -1.0, p2 1.0 -> mean 0.0; axis:completeness: p1 1.0
    assert report["axes"]["axis:accuracy"]["mean"] == 0.0 and report["axes"]["axis:completeness"]["mean"] == 1.0
    assert n_requests == 2 + 4  # two samples, one judge call per rubric item
    lines = (tmp_path / "out" / "results.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["prompt_id"] for line in lines) == ["p1", "p2"]


def test_bad_data_file_is_reported(tmp_path, capsys):
    data = tmp_path / "bad.jsonl"
    data.write_text('{"prompt": []}\n')
    assert main(["healthbench", "--data", str(data), "--model", "m", "--grader", "g",
                 "--base-url", "http://127.0.0.1:9/v1"]) == 2
    assert "bad.jsonl:1" in capsys.readouterr().err


# --- retries, failures, resume, order ------------------------------------------------------------

@pytest.fixture
def fast_retries(monkeypatch):
    """LLMClient's retries without their backoff sleeps: the tests count attempts, not seconds."""
    init = LLMClient.__init__
    monkeypatch.setattr(LLMClient, "__init__", lambda self, *a, **k: init(self, *a, **{**k, "backoff": (0.0, 0.0)}))


def is_sample(request):
    return "# Rubric item" not in request.prompt


def write_many(path, n):
    """n one-item examples; every third item is met (scores 1, 0, 0, 1, 0, 0...: reversed, no mirror image)."""
    rows = [{"prompt": [{"role": "user", "content": f"Question number {i}?"}],
             "rubrics": [{"criterion": f"Answer {i} is {'MET-ITEM' if i % 3 == 0 else 'UNMET-ITEM'}", "points": 5,
                          "tags": ["axis:accuracy"]}],
             "example_tags": ["theme:hedging"], "prompt_id": f"q{i}", "ideal_completions_data": None}
            for i in range(n)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def many_handler(request, delays=None):
    if is_sample(request):
        number = int(request.prompt.split("number ")[1].rstrip("?"))
        return Reply(content=f"answer {number}", delay=(delays or {}).get(number, 0.0))
    return judge_reply("is MET-ITEM" in request.prompt)


def run_hb(data, server, out, *extra):
    return main(["healthbench", "--data", str(data), "--model", "m", "--grader", "g",
                 "--base-url", server.base_url, "--out", str(out), *extra])


def test_transient_429_and_500_are_retried_and_the_run_completes(tmp_path, capsys, fast_retries):
    data = tmp_path / "hb.jsonl"
    write_data(data)
    with serve(handler=handler, replies=[Reply(status=429), Reply(status=500)]) as server:
        code = run_hb(data, server, tmp_path / "out")
        n_requests = len(server.requests)
    assert code == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["overall"]["mean"] == 0.5 and summary["n_examples"] == 2 and summary["n_errors"] == 0
    assert n_requests == 2 + 2 + 4  # the two failed attempts, then the six calls of a clean run
    assert "Traceback" not in capsys.readouterr().err


def test_a_persistent_failure_is_an_error_record_not_a_crash_and_resume_retries_it(tmp_path, capsys, fast_retries):
    data = tmp_path / "hb.jsonl"
    write_data(data)
    out = tmp_path / "out"

    def broken(request):  # the model fails on p2's prompt, every time
        return Reply(status=500) if is_sample(request) and "button battery" in request.prompt else handler(request)

    with serve(handler=broken) as server:
        code = run_hb(data, server, out)
        p2_attempts = sum(is_sample(r) and "button battery" in r.prompt for r in server.requests)
    assert code == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    error_lines = [line for line in captured.err.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1 and "example p2: ServerError" in error_lines[0]
    assert "2 examples: 1 scored, 1 errors" in captured.err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_examples"] == 1 and summary["n_errors"] == 1
    assert summary["overall"]["mean"] == 0.0  # p1 alone: p2 is excluded, not scored 0
    assert summary["errors"][0]["prompt_id"] == "p2" and p2_attempts == 5  # LLMClient's max_attempts
    records = {json.loads(line)["prompt_id"]: json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()}
    assert records["p2"]["status"] == "error" and "metrics" not in records["p2"]

    with serve(handler=handler) as server:  # the endpoint is back: --resume runs p2 only
        assert run_hb(data, server, out, "--resume") == 0
        assert [r.prompt for r in server.requests if is_sample(r)] == ["My child swallowed a button battery."]
    lines = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert sorted(r["prompt_id"] for r in lines) == ["p1", "p2"] and all(r["status"] == "ok" for r in lines)
    assert json.loads((out / "retried_errors.jsonl").read_text())["prompt_id"] == "p2"
    assert json.loads((out / "summary.json").read_text())["overall"]["mean"] == 0.5


def test_a_killed_run_resumes_without_duplicates_or_resampling(tmp_path, capsys):
    data, out = tmp_path / "hb.jsonl", tmp_path / "out"
    n, k = 6, 2
    write_many(data, n)
    with serve(handler=many_handler) as server:
        assert run_hb(data, server, out) == 0
    first = json.loads((out / "summary.json").read_text())
    results = out / "results.jsonl"
    lines = results.read_text().splitlines(keepends=True)
    results.write_text("".join(lines[:k]) + lines[k][:20])  # killed after k examples, mid-way through one more

    with serve(handler=many_handler) as server:  # a plain rerun refuses instead of appending duplicates
        assert run_hb(data, server, out) == 2
        assert server.requests == []
    assert "--resume" in capsys.readouterr().err

    with serve(handler=many_handler) as server:
        assert run_hb(data, server, out, "--resume") == 0
        assert sum(map(is_sample, server.requests)) == n - k
    ids = [json.loads(line)["prompt_id"] for line in results.read_text().splitlines()]
    assert sorted(ids) == [f"q{i}" for i in range(n)]
    resumed = json.loads((out / "summary.json").read_text())
    assert resumed["n_resumed"] == k and resumed["overall"] == first["overall"]


def test_the_summary_does_not_depend_on_completion_order(tmp_path, capsys):
    data = tmp_path / "hb.jsonl"
    n = 8
    write_many(data, n)
    summaries, orders = [], []
    for name, delays in (("fast_first", {i: 0.04 * i for i in range(n)}),
                         ("slow_first", {i: 0.04 * (n - i) for i in range(n)})):
        out = tmp_path / name
        with serve(handler=lambda request, d=delays: many_handler(request, d)) as server:
            assert run_hb(data, server, out, "--seed", "3") == 0
        summaries.append(json.loads((out / "summary.json").read_text()))
        orders.append([json.loads(line)["prompt_id"] for line in (out / "results.jsonl").read_text().splitlines()])
    assert orders[0] != orders[1]  # the results really were delivered in different orders
    assert summaries[0] == summaries[1]
    assert 0 < summaries[0]["overall"]["bootstrap_std"]


# --- the model under test's options, the examples evaluated ---------------------------------------

def test_system_prompt_temperature_and_max_tokens_reach_the_model_but_not_the_grader(tmp_path, capsys):
    data = tmp_path / "hb.jsonl"
    write_data(data)
    with serve(handler=handler) as server:
        assert run_hb(data, server, tmp_path / "out", "--system-prompt", "You are a careful GP.",
                      "--temperature", "0.3", "--max-tokens", "321") == 0
        samples = [r for r in server.requests if is_sample(r)]
        gradings = [r for r in server.requests if not is_sample(r)]
    assert len(samples) == 2 and len(gradings) == 4
    for request in samples:
        assert request.messages[0] == {"role": "system", "content": "You are a careful GP."}
        assert request.messages[1]["role"] == "user"
        assert request.json["temperature"] == 0.3 and request.json["max_tokens"] == 321
    for request in gradings:  # the judge keeps its own sampling and never sees the system prompt
        assert request.json["temperature"] != 0.3 and request.json["max_tokens"] != 321
        assert "careful GP" not in request.prompt


def test_without_options_the_model_gets_only_the_prompt(tmp_path, capsys):
    data = tmp_path / "hb.jsonl"
    write_data(data)
    with serve(handler=handler) as server:
        assert run_hb(data, server, tmp_path / "out") == 0
        samples = [r for r in server.requests if is_sample(r)]
    assert all(r.messages[0]["role"] == "user" for r in samples)
    assert all("temperature" not in r.json and "max_tokens" not in r.json for r in samples)


def test_the_python_api_sends_the_sampler_options(tmp_path):
    import asyncio

    from clinic_env.bench import llm_grader
    from clinic_env.bench.healthbench import arun_healthbench
    from clinic_rubrics.healthbench import load_examples

    data = tmp_path / "hb.jsonl"
    write_data(data)
    with serve(handler=handler) as server:
        report = asyncio.run(arun_healthbench(
            load_examples(data), LLMClient("m", base_url=server.base_url), llm_grader("g", "healthbench", server.base_url),
            system_prompt="Answer briefly.", sampling={"temperature": 0.0, "max_tokens": 64}, progress=False))
        samples = [r for r in server.requests if is_sample(r)]
    assert report.overall.mean == 0.5
    assert [r.messages[0]["content"] for r in samples] == ["Answer briefly."] * 2
    assert all(r.json["temperature"] == 0.0 and r.json["max_tokens"] == 64 for r in samples)


def test_the_python_api_writes_summary_json_as_the_cli_does(tmp_path):
    import asyncio

    from clinic_env.bench import llm_grader
    from clinic_env.bench.healthbench import arun_healthbench
    from clinic_rubrics.healthbench import load_examples

    data, out = tmp_path / "hb.jsonl", tmp_path / "out"
    write_data(data)
    with serve(handler=handler) as server:
        report = asyncio.run(arun_healthbench(
            load_examples(data), LLMClient("m", base_url=server.base_url), llm_grader("g", "healthbench", server.base_url),
            out=out, progress=False))
    summary = json.loads((out / "summary.json").read_text())
    assert summary == report.to_dict() and summary["overall"]["mean"] == 0.5
    assert not list(out.glob("*.tmp"))  # written through a temporary file, which is gone


def test_examples_n_samples_as_simple_evals_does_not_the_first_n(tmp_path, capsys):
    data = tmp_path / "hb.jsonl"
    write_many(data, 10)
    with serve(handler=many_handler) as server:
        assert run_hb(data, server, tmp_path / "out", "--examples", "4") == 0
        sampled = sorted(r.prompt for r in server.requests if is_sample(r))
    # random.Random(0).sample(ids, 4) == ['q6', 'q9', 'q0', 'q2'], as in simple-evals' HealthBenchEval
    assert sampled == sorted(f"Question number {i}?" for i in (6, 9, 0, 2))
    ids = [json.loads(line)["prompt_id"] for line in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    assert sorted(ids) == ["q0", "q2", "q6", "q9"]
    with serve(handler=many_handler) as server:  # N at least the number of examples: all of them
        assert run_hb(data, server, tmp_path / "all", "--examples", "10") == 0
        assert sum(map(is_sample, server.requests)) == 10
    assert main(["healthbench", "--data", str(data), "--model", "m", "--grader", "g",
                 "--base-url", "http://127.0.0.1:9/v1", "--examples", "0"]) == 2
    assert "must be positive" in capsys.readouterr().err


def test_resume_refuses_another_model_or_system_prompt(tmp_path, capsys):
    data, out = tmp_path / "hb.jsonl", tmp_path / "out"
    write_data(data)
    with serve(handler=handler) as server:
        assert run_hb(data, server, out) == 0
        assert main(["healthbench", "--data", str(data), "--model", "other", "--grader", "g",
                     "--base-url", server.base_url, "--out", str(out), "--resume"]) == 2
        assert "different setup" in capsys.readouterr().err
        assert run_hb(data, server, out, "--resume", "--system-prompt", "Be brief.") == 2
        assert "system_prompt" in capsys.readouterr().err
        n_requests = len(server.requests)
    assert n_requests == 6  # only the first run called anything


def test_data_or_meta_eval_is_required(tmp_path, capsys):
    assert main(["healthbench", "--grader", "g", "--base-url", "http://127.0.0.1:9/v1"]) == 2
    err = capsys.readouterr().err
    assert "exactly one of --data FILE" in err and "Traceback" not in err


def test_a_run_killed_with_sigkill_resumes_to_one_line_per_example(tmp_path):
    import subprocess
    import sys
    import time

    from clinic_env.bench import read_results

    data, out = tmp_path / "hb.jsonl", tmp_path / "out"
    n = 12
    write_many(data, n)
    results = out / "results.jsonl"
    slow = {i: 0.3 for i in range(n)}
    with serve(handler=lambda request: many_handler(request, slow)) as server:
        process = subprocess.Popen(
            [sys.executable, "-m", "clinic_cli", "healthbench", "--data", str(data), "--model", "m",
             "--grader", "g", "--base-url", server.base_url, "--out", str(out), "--concurrency", "2"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None and (
                not results.exists() or len(results.read_text().splitlines()) < 3):
            time.sleep(0.02)
        process.kill()  # SIGKILL: no cleanup, whatever was in flight is lost
        process.wait()
    done, _ = read_results(results, "example")
    assert 3 <= len(done) < n

    with serve(handler=many_handler) as server:
        assert run_hb(data, server, out, "--resume") == 0
        assert sum(map(is_sample, server.requests)) == n - len(done)
    ids = [json.loads(line)["prompt_id"] for line in results.read_text().splitlines()]
    assert sorted(ids) == sorted(f"q{i}" for i in range(n))  # one line per example, no duplicates
