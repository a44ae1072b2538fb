"""The ``clinic-env`` command line: list cases, run a consultation, benchmark a doctor, run HealthBench."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from clinic_env import __version__
from clinic_env.cases.library import CaseError, load_case_file, load_cases
from clinic_env.gym_env import ConsultationEnv
from clinic_env.persona import Persona
from clinic_env.registry import make
from clinic_env.rollout import run_consultation
from clinic_rubrics.grading import GradingError


def _cmd_cases(args: argparse.Namespace) -> int:
    source = [c for path in args.file for c in load_case_file(path)] if args.file else None
    cases = load_cases(split=args.split, specialty=args.specialty, source=source)
    if args.json:
        print(json.dumps([{"id": c.id, "specialty": c.specialty, "split": c.split, "difficulty": c.difficulty,
                           "title": c.title} for c in cases], indent=2))
        return 0
    for case in cases:
        print(f"{case.id:32s} {case.specialty:24s} {case.split:5s} {case.difficulty:6s} {case.title}")
    counts = Counter(c.split for c in cases)
    print(f"{len(cases)} cases ({counts['train']} train, {counts['test']} test) "
          f"over {len({c.specialty for c in cases})} specialties")
    return 0


def _cmd_cases_check(args: argparse.Namespace) -> int:
    """Validate case files and scan them for leaks; every problem on its own line, exit 1 if any."""
    from clinic_env.cases.library import check_case_file
    from clinic_env.leaks import case_leaks

    n_cases = n_problems = 0
    for path in args.files:
        cases, problems = check_case_file(path)
        n_cases += len(cases)
        for problem in problems:
            print(f"INVALID {problem}")
        for case in cases:
            for where, name in case_leaks(case):
                print(f"LEAK {path}: case {case.id}: field {where}: gives away {name!r}")
                problems.append(where)
        n_problems += len(problems)
    print(f"{n_cases} valid case(s) in {len(args.files)} file(s); {n_problems} problem(s)")
    return 1 if n_problems else 0


def _cmd_cases_import(args: argparse.Namespace) -> int:
    """Convert AgentClinic JSONL into case JSONL; reports skipped records and leaks."""
    from clinic_env.cases.agentclinic import import_agentclinic

    report = import_agentclinic(args.file, on_leak=args.leaks, split=args.split, prefix=args.prefix)
    out = Path(args.out)
    if out.exists() and not args.force:
        print(f"clinic-env cases import: {out} exists; pass --force to overwrite", file=sys.stderr)
        return 2
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(c.model_dump_json(exclude_none=True) + "\n" for c in report.cases), encoding="utf-8")
    for reason in report.skipped:
        print(f"skipped {reason}")
    for case_id, where, name in report.flagged:
        print(f"leak in {case_id}: field {where}: {name!r}")
    print(f"{len(report.cases)} case(s) written to {out}; {len(report.skipped)} record(s) skipped; "
          f"{len({c for c, _, _ in report.flagged})} case(s) with leaks ({args.leaks}: "
          f"{len(report.dropped)} dropped, {len(report.redacted)} redacted)")
    return 0


def _train(module: str, args: argparse.Namespace, summary: Callable[[dict], str]) -> int:
    """Run a training command's module (the [train] extra, so it is imported only here) and print
    the summary of its result."""
    train = importlib.import_module(module)
    result = train.run(train.load_config(args.config), out=args.out, resume=args.resume, progress=not args.no_progress)
    print(f"trained: {summary(result)}")
    return 0


def _cmd_train_grpo(args: argparse.Namespace) -> int:
    return _train("clinic_agents.train_grpo", args, lambda result: f"last step reward {result['last'].get('reward')}, log "
                  f"{result['out']}/log.jsonl, checkpoint {result['checkpoint']}")


def _cmd_train_mid(args: argparse.Namespace) -> int:
    return _train("clinic_agents.train_mid", args, lambda result: f"last step loss {result['last'].get('loss')}, kl "
                  f"{result['last'].get('kl')}, log {result['out']}/log.jsonl, model {result['model']}")


def _cmd_run(args: argparse.Namespace) -> int:
    env = ConsultationEnv(
        cases=[args.case] if args.case else None,
        split=args.split,
        persona=Persona.from_spec(args.persona) if args.persona else None,
        patient=make("patient", args.patient),
        max_turns=args.max_turns,
        reward_mode="terminal",
        render_mode="html" if args.html else "ansi",
    )
    result = run_consultation(env, make("doctor", args.doctor), seed=args.seed)
    transcript = env.render()
    if args.html:
        Path(args.html).write_text(transcript, encoding="utf-8")
        print(f"HTML transcript written to {args.html}")
    else:
        print(transcript)
    breakdown = result.info["reward_breakdown"]
    rubric = getattr(env.unwrapped.consultation.reward, "rubric", None)
    if rubric is not None and not args.html:
        print("Rubric:")
        for criterion in rubric.criteria:
            mark = "x" if breakdown["verdicts"][criterion.id] else " "
            print(f"  [{mark}] {criterion.points:+3d} {criterion.text}")
    summary = {"case_id": result.case_id, "seed": args.seed, "score": result.score,
               "doctor_turns": result.doctor_turns, "terminated": result.terminated,
               "truncated": result.truncated, "cost": result.info["cost"]}
    summary.update({k: v for k, v in breakdown.items() if k != "verdicts"})
    print(json.dumps(summary))
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from clinic_env.bench import RESULTS_FILE, BenchConfig, run_benchmark
    from clinic_env.bench.report import format_stat

    config = BenchConfig(doctor=args.doctor, patient=args.patient, grader=args.grader, cases=args.cases,
                         episodes_per_case=args.episodes_per_case, concurrency=args.concurrency, seed=args.seed,
                         out=args.out, resume=args.resume, max_turns=args.max_turns, persona=args.persona,
                         progress=False if args.no_progress else None, workers=args.workers)
    try:
        result = run_benchmark(config)
    except KeyboardInterrupt:
        print(f"clinic-env bench: interrupted; every finished episode is saved in {Path(args.out) / RESULTS_FILE}. "
              "Run the same command with --resume to finish.", file=sys.stderr)
        return 130
    s = result.summary
    print(f"Results: {result.results_path} ({s['n_episodes']} of {s['n_planned']} episodes: {s['n_ok']} scored, "
          f"{s['n_errors']} errors; {result.n_run} run now, {result.n_skipped} already done)")
    print(f"Summary: {result.summary_path}")
    print(f"Reports: {result.report_md}, {result.report_html}")
    if s["n_errors"]:
        kinds = ", ".join(f"{n} {kind}" for kind, n in s["errors"]["by_type"].items())
        print(f"Errors: {kinds} (excluded from the scores; --resume retries them)")
    if s["overall"] is None:
        print("Score: n/a (no episode was scored)")
        return 1
    print(f"Score: {format_stat(s['overall'])} (mean, {int(s['ci']['level'] * 100)}% bootstrap CI; "
          f"{s['n_ok']} episodes over {s['n_cases']} cases)")
    return 0


def _cmd_grader_eval(args: argparse.Namespace) -> int:
    """The table on stdout and summary.json in --out; exit 0 whether or not the targets are met
    (1 only when no visit could be scored)."""
    from clinic_env.bench.grader_eval import format_report, run_grader_eval

    try:
        summary = run_grader_eval(args.data, grader=args.grader, out=args.out, cases=args.cases,
                                  concurrency=args.concurrency, resume=args.resume,
                                  progress=False if args.no_progress else None)
    except KeyboardInterrupt:
        print(f"clinic-env grader-eval: interrupted; every finished visit is saved in {Path(args.out) / 'results.jsonl'}."
              " Run the same command with --resume to finish.", file=sys.stderr)
        return 130
    print(format_report(summary))
    print(f"Summary: {Path(args.out) / 'summary.json'}")
    return 1 if summary["n_errors"] == summary["n_visits"] else 0


def _cmd_patient_eval(args: argparse.Namespace) -> int:
    """The table on stdout and summary.json in --out; exit 0 whether or not the target is met
    (1 only when no question could be answered)."""
    from clinic_env.bench.patient_eval import format_report, run_patient_eval

    try:
        summary = run_patient_eval(args.data, patient=args.patient, persona=args.persona, out=args.out,
                                   cases=args.cases, concurrency=args.concurrency, resume=args.resume,
                                   progress=False if args.no_progress else None)
    except KeyboardInterrupt:
        print(f"clinic-env patient-eval: interrupted; every finished question is saved in "
              f"{Path(args.out) / 'results.jsonl'}. Run the same command with --resume to finish.", file=sys.stderr)
        return 130
    print(format_report(summary))
    print(f"Summary: {Path(args.out) / 'summary.json'}")
    return 1 if summary["n_questions"] and summary["n_errors"] == summary["n_questions"] else 0


def _cmd_quantize(args: argparse.Namespace) -> int:
    """W4A16 (+ fp8 KV scales) through llm-compressor (the [quantize] extra), with its report."""
    from clinic_agents import quantize

    report = quantize.quantize(args.model_dir, args.out, scheme=args.scheme, method=args.method,
                               group_size=args.group_size, kv_cache=args.kv_cache, calibration=args.calibration,
                               heldout=args.heldout, max_seq_length=args.max_seq_length)
    held, size = report["heldout"], report["linear_bytes"]
    print(f"quantized {args.model_dir} -> {args.out} ({args.scheme}, {args.method}, group {args.group_size}, "
          f"kv cache {args.kv_cache or 'unchanged'}) in {report['seconds']} s: linear weights {size['bf16']:,} -> "
          f"{size['quantized']:,} bytes ({size['ratio']:.2f}x smaller than bf16); held-out logits error "
          f"{held['relative_error']:.4f}, top-1 agreement {held['top1_agreement']:.3f} over {held['positions']} "
          f"tokens; report {args.out}/quantization_report.json")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    """vLLM's OpenAI-compatible server for a model directory, until Ctrl-C."""
    from clinic_agents import serve

    server = serve.VLLMServer(args.model_dir, port=args.port, python=args.python or sys.executable,
                              log_path=args.log, served_name=args.served_model_name, kv_cache_dtype=args.kv_cache_dtype,
                              draft=args.draft, num_speculative_tokens=args.num_speculative_tokens,
                              api_key=args.api_key, max_model_len=args.max_model_len,
                              extra=list(args.vllm_args))
    try:
        print(f"starting vLLM for {args.model_dir} ({serve.quantization_of(args.model_dir)}); log {server.log_path}",
              file=sys.stderr)
        server.start()
    except serve.ServeError as err:
        print(f"clinic-env: error: {err}", file=sys.stderr)
        return 2
    print(f"serving {server.served_name} at {server.base_url}\n"
          f"  OPENAI_BASE_URL={server.base_url} OPENAI_API_KEY={args.api_key or 'none'} "
          f"clinic-env bench --doctor openai:{server.served_name}", flush=True)
    try:
        server.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def _cmd_healthbench(args: argparse.Namespace) -> int:
    """Print the report as JSON on stdout; on stderr, one line per failed example and the
    counts, as ``bench`` does. Exit 1 when no example could be scored."""
    from clinic_env.bench import llm_grader
    from clinic_env.bench.healthbench import arun_healthbench, arun_meta_eval
    from clinic_rubrics.healthbench import load_examples, load_meta_eval
    from clinic_rubrics.healthbench_eval import sample_examples

    if (args.data is None) == (args.meta_eval is None):
        raise ValueError("healthbench needs exactly one of --data FILE (evaluate --model) and --meta-eval FILE "
                         "(evaluate --grader against physicians)")
    judge = llm_grader(args.grader, mode="healthbench", base_url=args.grader_base_url or args.base_url,
                       max_concurrency=args.concurrency)
    options = {"out": args.out, "concurrency": args.concurrency, "resume": args.resume,
               "progress": False if args.no_progress else None}
    try:
        if args.meta_eval:
            rows = sample_examples(load_meta_eval(args.meta_eval), args.examples)
            report = asyncio.run(arun_meta_eval(rows, judge, **options))
        else:
            report = asyncio.run(arun_healthbench(sample_examples(load_examples(args.data), args.examples),
                                                  _model_under_test(args), judge, seed=args.seed,
                                                  system_prompt=args.system_prompt, sampling=_sampling(args),
                                                  **options))
    except KeyboardInterrupt:
        saved = f"every graded item is saved in {Path(args.out) / 'results.jsonl'}; rerun with --resume to " \
            "finish" if args.out else "nothing was saved (no --out)"
        print(f"clinic-env healthbench: interrupted; {saved}", file=sys.stderr)
        return 130
    summary = report.to_dict()
    print(json.dumps(summary, indent=2))  # with --out, the runner has written it to OUT/summary.json too
    if args.meta_eval:
        _print_problems(summary, "row", "key", summary["n_rows"])
        return 0 if summary["grader"]["macro_f1"] is not None else 1
    _print_problems(summary, "example", "prompt_id", summary["n_examples"])
    return 0 if summary["overall"] is not None else 1


def _model_under_test(args: argparse.Namespace) -> Any:
    from clinic_env.llm import LLMClient

    if not args.model:
        raise ValueError("healthbench --data needs --model (the model to evaluate)")
    return LLMClient(args.model, base_url=args.base_url)  # None: OPENAI_BASE_URL, else OpenAI


def _sampling(args: argparse.Namespace) -> dict[str, Any]:
    """The request options of the model under test that were given."""
    return {k: v for k, v in (("temperature", args.temperature), ("max_tokens", args.max_tokens)) if v is not None}


def _print_problems(summary: dict[str, Any], item: str, id_field: str, n_scored: int) -> None:
    """On stderr (stdout stays the JSON report): one line per failed item, then the counts."""
    for error in summary["errors"]:
        message = " ".join(error["message"].split())  # one line, whatever the server echoed
        print(f"error: {item} {error[id_field]}: {error['type']}: {message}", file=sys.stderr)
    n_items = n_scored + summary["n_errors"]
    note = "; errors are excluded from the scores, --resume retries them" if summary["n_errors"] else ""
    print(f"{n_items} {item}s: {n_scored} scored, {summary['n_errors']} errors "
          f"({n_items - summary['n_resumed']} run now, {summary['n_resumed']} already done{note})",
          file=sys.stderr)


class _Parser(argparse.ArgumentParser):
    """argparse's parser, with one addition for commands that start another program (``serve``):
    when ``passthrough`` names an attribute, everything after the first ``--`` goes to that
    attribute untouched (even what looks like one of this command's options), this command's
    own options are parsed before it in any order, and anything else before it is an error
    (exit 2) rather than passed on."""

    passthrough: str | None = None  # the attribute for the arguments after --
    passthrough_to = "the program it starts"  # who gets them, for the error message

    def parse_known_args(self, args=None, namespace=None):
        if self.passthrough is None:
            return super().parse_known_args(args, namespace)
        args = list(sys.argv[1:] if args is None else args)
        rest: list[str] = []
        if "--" in args:
            split = args.index("--")
            args, rest = args[:split], args[split + 1:]
        namespace, unknown = super().parse_known_args(args, namespace)
        if unknown:
            self.error(f"unrecognized arguments: {' '.join(unknown)} ({self.passthrough_to}'s own arguments go "
                       f"after a literal --, e.g. {self.prog} MODEL_DIR [options] -- {' '.join(unknown)})")
        setattr(namespace, self.passthrough, rest)
        return namespace, []


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="clinic-env", description="A virtual clinic for doctor models.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    cases = sub.add_parser("cases", help="list (and validate) cases")
    cases.add_argument("--split", choices=["train", "test"])
    cases.add_argument("--specialty")
    cases.add_argument("--file", action="append", default=[], help="case file(s) instead of the builtin library")
    cases.add_argument("--json", action="store_true", help="print JSON")
    cases.set_defaults(func=_cmd_cases)
    cases_sub = cases.add_subparsers(dest="cases_command", metavar="{check,import}")
    check = cases_sub.add_parser("check", help="validate case files and flag every place the diagnosis leaks")
    check.add_argument("files", nargs="+", help=".json / .jsonl case files")
    check.set_defaults(func=_cmd_cases_check)
    importer = cases_sub.add_parser("import", help="convert cases from another format")
    importer.add_argument("format", choices=["agentclinic"])
    importer.add_argument("file", help="AgentClinic OSCE JSONL file")
    importer.add_argument("--out", required=True, help="case JSONL to write")
    importer.add_argument("--leaks", choices=["drop", "keep", "redact"], default="redact",
                          help="what to do with a case whose diagnosis shows in patient or exam text (default redact)")
    importer.add_argument("--split", choices=["train", "test"], default="test")
    importer.add_argument("--prefix", default="agentclinic", help="case id prefix (ids are PREFIX_LINE)")
    importer.add_argument("--force", action="store_true", help="overwrite --out")
    importer.set_defaults(func=_cmd_cases_import)

    run = sub.add_parser("run", help="run one consultation and print the transcript and score")
    run.add_argument("--case", help="case id (default: drawn from the pool with the seed)")
    run.add_argument("--split", choices=["train", "test"])
    run.add_argument("--doctor", default="scripted", help="registered doctor or 'package.module:Name'")
    run.add_argument("--patient", default="offline", help="registered patient or 'package.module:Name'")
    run.add_argument("--persona", help="persona spec, e.g. 'anxious+low_literacy' (default: sampled from the seed)")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--max-turns", type=int, default=30)
    run.add_argument("--html", help="write the transcript as HTML to this file instead of printing it")
    run.set_defaults(func=_cmd_run)

    bench = sub.add_parser("bench", help="benchmark a doctor over many cases; results, summary and reports in --out")
    bench.add_argument("--doctor", default="scripted", help="registered doctor, 'scheme:ARG' or 'package.module:Name'")
    bench.add_argument("--patient", default="offline", help="registered patient, 'scheme:ARG' or 'package.module:Name'")
    bench.add_argument("--grader", default="offline", help="'offline', 'llm:MODEL' (endpoint: OPENAI_BASE_URL) or "
                                                           "'package.module:Name'")
    bench.add_argument("--cases", default="builtin", help="builtin, split:test, specialty:cardiology, ids:a,b,c, "
                                                          "a .json/.jsonl file, or filters joined by '+'")
    bench.add_argument("--episodes-per-case", type=int, default=1)
    bench.add_argument("--concurrency", type=int, default=8, help="episodes in flight at once")
    bench.add_argument("--workers", type=int, default=1, help="processes sharing the episodes and the concurrency "
                                                              "(more CPU cores for offline grading and HTTP work)")
    bench.add_argument("--seed", type=int, default=0, help="run seed: episode seeds and the bootstrap derive from it")
    bench.add_argument("--out", default="runs/bench", help="directory for results.jsonl, summary.json and reports")
    bench.add_argument("--resume", action="store_true", help="run only the episodes missing (or failed) in --out")
    bench.add_argument("--max-turns", type=int, default=30)
    bench.add_argument("--persona", help="one persona spec for every episode (default: sampled per episode)")
    bench.add_argument("--no-progress", action="store_true", help="no progress bar")
    bench.set_defaults(func=_cmd_bench)

    ge = sub.add_parser("grader-eval", help="measure a grader on a labelled development set: ordering of excellent / "
                                            "safe-mediocre / dangerous visits, harm recall, negation pairs, "
                                            "criterion-level macro-F1")
    ge.add_argument("--data", required=True, metavar="DIR", help="folder of consultations_*.jsonl, pairs_*.jsonl and "
                                                                 "verdicts_*.jsonl")
    ge.add_argument("--grader", default="offline", help="'offline', 'llm:MODEL' (endpoint: OPENAI_BASE_URL) or "
                                                        "'package.module:Name'")
    ge.add_argument("--cases", default="builtin", help="the cases the rows name (a spec as for bench)")
    ge.add_argument("--out", default="runs/grader-eval", help="directory for results.jsonl and summary.json")
    ge.add_argument("--resume", action="store_true", help="play only the visits missing (or failed) in --out")
    ge.add_argument("--concurrency", type=int, default=8, help="visits in flight at once")
    ge.add_argument("--no-progress", action="store_true", help="no progress bar")
    ge.set_defaults(func=_cmd_grader_eval)

    pe = sub.add_parser("patient-eval", help="measure a simulated patient on labelled doctor questions: whether each "
                                             "reply gives the facts, denial or answer the question asks for")
    pe.add_argument("--data", required=True, metavar="DIR", help="folder of utterances_*.jsonl and/or orders*.jsonl")
    pe.add_argument("--patient", default="offline", help="'offline', 'llm:MODEL' (endpoint: OPENAI_BASE_URL) or "
                                                         "'package.module:Name'")
    pe.add_argument("--persona", default="typical", help="the persona spec every question is asked of")
    pe.add_argument("--cases", default="builtin", help="the cases the rows name (a spec as for bench)")
    pe.add_argument("--out", default="runs/patient-eval", help="directory for results.jsonl and summary.json")
    pe.add_argument("--resume", action="store_true", help="ask only the questions missing (or failed) in --out")
    pe.add_argument("--concurrency", type=int, default=8, help="questions in flight at once")
    pe.add_argument("--no-progress", action="store_true", help="no progress bar")
    pe.set_defaults(func=_cmd_patient_eval)

    train = sub.add_parser("train", help="train a doctor policy (needs the [train] extra)")
    train_sub = train.add_subparsers(dest="train_command", required=True)
    for name, func, summary in (
            ("grpo", _cmd_train_grpo, "GRPO stages from a JSON config (see clinic_agents.train_grpo)"),
            ("mid", _cmd_train_mid, "mid-training on a medical : general : math mixture with KL to the starting "
                                    "model, from a JSON config (see clinic_agents.train_mid)")):
        command = train_sub.add_parser(name, help=summary)
        command.add_argument("config")
        command.add_argument("--out", help="output directory (default: the config's 'out')")
        command.add_argument("--resume", action="store_true", help="carry on from the last checkpoint in --out")
        command.add_argument("--no-progress", action="store_true")
        command.set_defaults(func=func)

    hb = sub.add_parser("healthbench", help="sample a model on HealthBench prompts, grade with an LLM judge, report; "
                                            "or measure the judge against physicians (--meta-eval)")
    hb.add_argument("--data", help="HealthBench JSONL file (main, hard or consensus)")
    hb.add_argument("--meta-eval", metavar="FILE", help="HealthBench meta-eval JSONL: grade its rows with --grader and "
                                                        "report agreement and macro-F1 against the physicians")
    hb.add_argument("--model", help="model name at the OpenAI-compatible endpoint (with --data)")
    hb.add_argument("--base-url", help="endpoint of the model (default: OPENAI_BASE_URL, else OpenAI's)")
    hb.add_argument("--system-prompt", help="system message sent to the model before each prompt")
    hb.add_argument("--temperature", type=float, help="the model's sampling temperature (default: the endpoint's)")
    hb.add_argument("--max-tokens", type=int, help="the model's answer length limit (default: the endpoint's)")
    hb.add_argument("--grader", required=True, help="grader model name")
    hb.add_argument("--grader-base-url", help="endpoint of the grader (default: --base-url)")
    hb.add_argument("--examples", type=int, help="evaluate N examples (or rows) sampled as simple-evals does "
                                                 "(random.Random(0).sample)")
    hb.add_argument("--concurrency", type=int, default=8, help="examples in flight at once")
    hb.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    hb.add_argument("--out", help="directory for results.jsonl (one line per graded example) and summary.json")
    hb.add_argument("--resume", action="store_true", help="run only the examples missing (or failed) in --out")
    hb.add_argument("--no-progress", action="store_true", help="no progress bar")
    hb.set_defaults(func=_cmd_healthbench)

    quant = sub.add_parser("quantize", help="4-bit weights (+ fp8 KV-cache scales) with llm-compressor "
                                            "(the [quantize] extra); writes a vLLM-loadable checkpoint and a report")
    quant.add_argument("model_dir")
    quant.add_argument("--out", required=True, help="directory for the quantized checkpoint")
    quant.add_argument("--scheme", default="w4a16", choices=["w4a16"])
    quant.add_argument("--method", default="gptq", choices=["gptq", "rtn"])
    quant.add_argument("--group-size", type=int, default=128, help="inputs per weight scale")
    quant.add_argument("--kv-cache", choices=["fp8"], help="add static fp8 k/v scales to every attention layer")
    quant.add_argument("--calibration", default="consultations:32",
                       help="consultations:N (this model as the doctor) or a .txt / .jsonl file")
    quant.add_argument("--heldout", help="held-out text for the report (same forms; default: held out from "
                                         "--calibration)")
    quant.add_argument("--max-seq-length", type=int, default=2048)
    quant.set_defaults(func=_cmd_quantize)

    srv = sub.add_parser(
        "serve", help="serve a model with vLLM's OpenAI-compatible server (the [vllm] extra)",
        usage="%(prog)s MODEL_DIR [options] [-- VLLM_ARG ...]",
        description="Serve MODEL_DIR with vLLM's OpenAI-compatible server until Ctrl-C. The options below may "
                    "come before or after MODEL_DIR, in any order. Arguments for vLLM itself go after a literal "
                    "--: everything after the first -- is passed to vLLM verbatim, even what looks like one of "
                    "these options (in 'serve M --port 8801 -- --max-num-seqs 8' the port is 8801 and vLLM also "
                    "gets '--max-num-seqs 8'). An unknown option before -- is an error, never passed on.")
    srv.passthrough, srv.passthrough_to = "vllm_args", "vLLM"
    srv.add_argument("model_dir", metavar="MODEL_DIR", help="the model's directory (with its config.json)")
    srv.add_argument("--port", type=int, default=8000, help="the port to serve (and wait for /health) on "
                                                            "(default 8000)")
    srv.add_argument("--kv-cache-dtype", choices=["auto", "fp8"], help="fp8: half the KV-cache memory")
    srv.add_argument("--draft", metavar="DIR", help="an EAGLE-3 draft head's directory, for speculative decoding")
    srv.add_argument("--num-speculative-tokens", type=int, default=3, metavar="K",
                     help="tokens the draft proposes per step (default 3)")
    srv.add_argument("--api-key", metavar="KEY", help="require this key from clients")
    srv.add_argument("--max-model-len", type=int, metavar="N", help="the longest context vLLM allows")
    srv.add_argument("--served-model-name", metavar="NAME",
                     help="the model name clients ask for (default: the directory's name)")
    srv.add_argument("--python", help="the python of the environment that has vLLM (default: this one)")
    srv.add_argument("--log", metavar="FILE", help="the server's log file (default: a temporary file)")
    srv.set_defaults(vllm_args=[])
    srv.set_defaults(func=_cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (CaseError, KeyError, ValueError, ImportError, GradingError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"clinic-env: error: {message}", file=sys.stderr)
        return 2

