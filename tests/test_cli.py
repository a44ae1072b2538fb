import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import clinic_env
from clinic_cli.main import build_parser, main
from clinic_env.registry import load_entry_point, make


def test_cases_lists_the_library(capsys, cases):
    assert main(["cases"]) == 0
    out = capsys.readouterr().out
    assert all(c.id in out for c in cases)
    assert f"{len(cases)} cases" in out


def test_cases_json_filters(capsys):
    assert main(["cases", "--split", "test", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed and all(item["split"] == "test" for item in listed)


def test_cases_validates_a_file(tmp_path, capsys, pneumonia_case):
    data = json.loads(pneumonia_case.model_dump_json())
    data["exam"]["aura"] = "glowing"
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(data))
    assert main(["cases", "--file", str(path)]) == 2
    err = capsys.readouterr().err
    assert "mine.json" in err and "pulm_cap_adult" in err and "exam.aura" in err


def test_run_prints_transcript_and_score(capsys):
    assert main(["run", "--case", "pulm_cap_adult", "--doctor", "scripted", "--seed", "0"]) == 0
    out = capsys.readouterr().out
    assert "Case pulm_cap_adult" in out and "Patient:" in out and "Doctor:" in out
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["case_id"] == "pulm_cap_adult" and 0.0 <= summary["score"] <= 1.0
    assert summary["terminated"] or summary["truncated"]


def test_run_writes_html(tmp_path, capsys):
    out = tmp_path / "t.html"
    assert main(["run", "--case", "pulm_cap_adult", "--seed", "1", "--html", str(out)]) == 0
    assert out.read_text().startswith('<div class="clinic-env-transcript"')


def test_run_reports_bad_input(capsys):
    assert main(["run", "--case", "no_such_case"]) == 2
    assert "unknown case id(s) ['no_such_case']" in capsys.readouterr().err
    assert main(["run", "--case", "pulm_cap_adult", "--doctor", "oracle"]) == 2
    assert "unknown doctor 'oracle'" in capsys.readouterr().err
    assert main(["run", "--case", "pulm_cap_adult", "--persona", "grumpy"]) == 2
    assert "unknown persona preset 'grumpy'" in capsys.readouterr().err


def test_registry_entry_points():
    assert load_entry_point("clinic_env.patient:OfflinePatient").__name__ == "OfflinePatient"
    assert type(make("patient", "clinic_env.patient:OfflinePatient")).__name__ == "OfflinePatient"
    with pytest.raises(ValueError, match="must look like"):
        load_entry_point("clinic_env.patient")
    with pytest.raises(ImportError, match="has no attribute 'Nope'"):
        load_entry_point("clinic_env.patient:Nope")
    with pytest.raises(ImportError, match="cannot import 'no_such_pkg.mod'"):
        load_entry_point("no_such_pkg.mod:X")


def test_doctors_come_from_the_packages_that_register_them(tmp_path, monkeypatch):
    """clinic_env names no doctor; clinic_agents registers its own through package metadata, and so
    can any installed package (a dist-info folder on sys.path is what pip would write)."""
    from clinic_env.registry import BUILTIN_NAMES, BUILTIN_SCHEMES, names, schemes

    assert BUILTIN_NAMES["doctor"] == {} and BUILTIN_SCHEMES["doctor"] == {}
    assert names("doctor")["scripted"] == "clinic_agents.scripted_doctor:ScriptedDoctor"
    assert {"openai", "openai-tools"} <= set(schemes("doctor"))
    assert type(make("doctor", "scripted")).__name__ == "ScriptedDoctor"
    dist = tmp_path / "my_clinic_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: my-clinic-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[clinic_env.patients]\nstoic = clinic_env.patient:OfflinePatient\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert names("patient")["stoic"] == "clinic_env.patient:OfflinePatient"
    assert type(make("patient", "stoic")).__name__ == "OfflinePatient"
    with pytest.raises(ValueError, match=r"registered: \['offline', 'stoic'\]"):
        make("patient", "nobody")


# `clinic-env serve`: its own options anywhere around MODEL_DIR; only what follows the first `--` is vLLM's.
SERVE_OPTIONS = [("--port", "8801"), ("--log", "/tmp/vllm.log"), ("--python", "/envs/vllm/bin/python"),
                 ("--kv-cache-dtype", "fp8"), ("--draft", "runs/eagle3"), ("--num-speculative-tokens", "4"),
                 ("--api-key", "k"), ("--max-model-len", "4096"), ("--served-model-name", "doctor")]
SERVE_PARSED = {"model_dir": "runs/doctor-w4a16", "port": 8801, "log": "/tmp/vllm.log",
                "python": "/envs/vllm/bin/python", "kv_cache_dtype": "fp8", "draft": "runs/eagle3",
                "num_speculative_tokens": 4, "api_key": "k", "max_model_len": 4096, "served_model_name": "doctor"}


def _flat(pairs):
    return [arg for pair in pairs for arg in pair]


SERVE_ORDERS = {
    "options before MODEL": lambda model: ["serve", *_flat(SERVE_OPTIONS), model],
    "options after MODEL (the README's order)": lambda model: ["serve", model, *_flat(SERVE_OPTIONS)],
    "mixed": lambda model: ["serve", *_flat(SERVE_OPTIONS[::2]), model, *_flat(SERVE_OPTIONS[1::2])],
    "reversed, with --opt=value": lambda model: ["serve", model, *[f"{o}={v}" for o, v in reversed(SERVE_OPTIONS)]],
}
# After `--`, everything is vLLM's verbatim: even our own option names and a second `--` or `-h`.
VLLM_TAILS = {"no --": [], "bare --": ["--"],
              "-- with vLLM arguments": ["--", "--enforce-eager", "--port", "9", "--log", "x", "--", "-h"]}


@pytest.mark.parametrize("tail", VLLM_TAILS.values(), ids=VLLM_TAILS.keys())
@pytest.mark.parametrize("order", SERVE_ORDERS.values(), ids=SERVE_ORDERS.keys())
def test_serve_parses_its_options_in_any_order_and_passes_on_only_what_follows_dashdash(order, tail):
    args = build_parser().parse_args(order("runs/doctor-w4a16") + tail)
    assert {key: getattr(args, key) for key in SERVE_PARSED} == SERVE_PARSED
    assert args.vllm_args == tail[1:]


def test_serve_defaults_and_our_option_names_after_dashdash_are_vllms():
    args = build_parser().parse_args(["serve", "M", "--", "--port", "9", "--python", "p"])
    assert (args.port, args.python, args.log, args.num_speculative_tokens) == (8000, None, None, 3)
    assert args.vllm_args == ["--port", "9", "--python", "p"]
    assert build_parser().parse_args(["serve", "M"]).vllm_args == []


@pytest.mark.parametrize("argv, named", [
    (["serve", "M", "--enforce-eager"], "--enforce-eager"),
    (["serve", "--enforce-eager", "M", "--port", "8801"], "--enforce-eager"),
    (["serve", "M", "--port", "8801", "--max-num-seqs", "8", "--", "--trust-remote-code"], "--max-num-seqs 8"),
    (["serve", "M", "stray"], "stray"),
])
def test_serve_rejects_an_unknown_argument_before_dashdash(argv, named, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    error_lines = [line for line in err.splitlines() if "error:" in line]
    assert len(error_lines) == 1, err
    assert error_lines[0].startswith("clinic-env serve: error: unrecognized arguments: " + named)
    assert f"go after a literal --, e.g. clinic-env serve MODEL_DIR [options] -- {named}" in error_lines[0]


def test_serve_help_documents_the_dashdash_convention(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--help"])
    assert exit_.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert out.startswith("usage: clinic-env serve MODEL_DIR [options] [-- VLLM_ARG ...]")
    assert "may come before or after MODEL_DIR" in out and "everything after the first -- is passed to vLLM" in out


def test_other_commands_parse_as_before():
    parser = build_parser()
    assert parser.parse_args(["cases", "check", "--", "-odd.json"]).files == ["-odd.json"]
    args = parser.parse_args(["run", "--seed", "3", "--case", "pulm_cap_adult"])
    assert (args.seed, args.case, args.doctor) == (3, "pulm_cap_adult", "scripted")
    assert not hasattr(args, "vllm_args")
    with pytest.raises(SystemExit):
        parser.parse_args(["run", "--no-such-option"])


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"clinic-env {clinic_env.__version__}\n"


def test_version_from_the_installed_script():
    script = Path(sys.executable).with_name("clinic-env")
    script = str(script) if script.exists() else shutil.which("clinic-env")
    if script is None:
        pytest.skip("the clinic-env console script is not installed")
    done = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"clinic-env {clinic_env.__version__}\n", "")
