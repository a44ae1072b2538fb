"""What a user installs: a light core, layers that only import downwards, a complete wheel that
works away from the source tree, installed names that clash with no popular package, and a
suite that skips cleanly where optional extras are missing."""

import ast
import configparser
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

import clinic_env
from clinic_env.cases.library import builtin_cases

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "transformers", "vllm", "accelerate")
# The repository's folders and the names they install as (setup.cfg's package_dir).
INSTALLED_AS = {"clinic_env": "clinic_env", "rubrics": "clinic_rubrics", "agents": "clinic_agents", "cli": "clinic_cli"}
# What the optional extras bring; with `.[test]` alone, tests needing them must skip.
OPTIONAL = ("torch", "transformers", "trl", "vllm", "llmcompressor", "accelerate", "datasets")


def _setup_cfg() -> configparser.ConfigParser:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    return config


def test_core_requirements_have_no_heavy_dependencies():
    config = _setup_cfg()
    core = config["options"]["install_requires"].lower()
    assert not any(name in core for name in HEAVY), core
    assert "torch" in config["options.extras_require"]["train"]


def test_importing_the_env_and_scripted_doctor_loads_no_heavy_module():
    code = ("import sys, gymnasium as gym, clinic_env, clinic_agents.scripted_doctor; "
            "from clinic_env import consultation_v0; gym.make('clinic_env/Consultation-v0'); "
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


def _imports(package: str) -> set[str]:
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    return found


def _named_modules(package: str) -> set[str]:
    """Top-level names of our packages that ``package``'s code spells in strings (entry points such
    as "clinic_agents.x:Y", importlib calls): docstrings excluded, they only describe."""
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text())
        docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                      if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                      and node.body and isinstance(node.body[0], ast.Expr)
                      and isinstance(node.body[0].value, ast.Constant)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                found |= {name for name in ("clinic_env", "clinic_rubrics", "clinic_agents", "clinic_cli")
                          if re.search(rf"\b{name}\.\w", node.value)}
    return found


def test_layers_only_import_downwards_under_their_installed_names():
    assert not {"clinic_env", "clinic_agents", "clinic_cli", "agents", "rubrics"} & _imports("rubrics")
    assert not {"clinic_agents", "clinic_cli", "agents", "rubrics"} & _imports("clinic_env")
    assert not {"clinic_cli", "agents", "rubrics"} & _imports("agents")
    assert "clinic_rubrics" in _imports("clinic_env") and "clinic_env" in _imports("agents")
    assert {"clinic_env", "clinic_agents"} <= _imports("cli")  # the command line sits on top of all three


def test_no_layer_names_a_layer_above_it_even_in_strings():
    """Entry-point strings are imports too: clinic_env reaches clinic_agents' doctors only through
    the entry points clinic_agents declares (setup.cfg), as Gymnasium's registry would."""
    assert not {"clinic_env", "clinic_agents", "clinic_cli"} & _named_modules("rubrics")
    assert not {"clinic_agents", "clinic_cli"} & _named_modules("clinic_env")
    assert not {"clinic_cli"} & _named_modules("agents")
    assert "clinic_agents" in _named_modules("cli")  # the check sees strings: the CLI's train commands


def test_the_repository_folders_install_under_names_of_our_own():
    options = _setup_cfg()["options"]
    mapping = dict(line.split(" = ") for line in options["package_dir"].strip().splitlines())
    assert mapping == {"clinic_rubrics": "rubrics", "clinic_agents": "agents", "clinic_cli": "cli"}
    packages = set(options["packages"].split())
    folders = {str(p.parent.relative_to(ROOT)).replace("/", ".") for folder in INSTALLED_AS
               for p in (ROOT / folder).rglob("__init__.py")}
    installed = {INSTALLED_AS[f.split(".")[0]] + f[len(f.split(".")[0]):] for f in folders}
    assert packages == installed  # every package with an __init__.py is listed, under its name


# --- the wheel, installed into a fresh environment away from the source tree ---------------------

@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel pip builds from a copy of this checkout (offline: the build backend installed
    with the [test] extra, no build isolation)."""
    pytest.importorskip("setuptools")
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv*", "venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
        ".hypothesis", "runs", "tests", "benchmarks", "examples"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--wheel-dir", str(tmp / "dist"), str(source)],
                   check=True, capture_output=True, text=True)
    (built,) = (tmp / "dist").glob("clinic_env-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A new virtual environment holding only the wheel; its dependencies are this environment's,
    added after its own site-packages so the wheel's copy of clinic-env is the one imported."""
    venv = tmp_path_factory.mktemp("venv") / "fresh"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
                    "--no-index", str(wheel)], check=True, capture_output=True, text=True)
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    ours = {sysconfig.get_paths()[k] for k in ("purelib", "platlib")}
    (site / "zz_dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")
    return venv


def _run(venv: Path, program: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``program`` (python, clinic-env) of that environment, from ``cwd``, without PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    return subprocess.run([str(venv / "bin" / program), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


def test_the_wheel_holds_every_file_the_code_reads_and_only_our_names(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    tops = {name.split("/")[0] for name in names}
    assert tops == {"clinic_env", "clinic_rubrics", "clinic_agents", "clinic_cli",
                    f"clinic_env-{clinic_env.__version__}.dist-info"}
    for folder, installed_name in INSTALLED_AS.items():
        shipped = {f"{installed_name}/{p.relative_to(ROOT / folder)}" for p in (ROOT / folder).rglob("*")
                   if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}
        assert shipped <= names, sorted(shipped - names)[:5]
    data = [n for n in names if n.startswith("clinic_env/cases/") and n.endswith(".json")]
    assert any("/condition_templates/" in n for n in data) and any("/data/" in n for n in data)
    assert f"clinic_env-{clinic_env.__version__}.dist-info/licenses/LICENSE" in names


def test_the_installed_wheel_runs_the_first_commands_a_user_runs(installed, tmp_path):
    where = _run(installed, "python", "-c", "import clinic_env, clinic_rubrics, clinic_agents; "
                 "print(clinic_env.__file__, clinic_rubrics.__file__, clinic_agents.__file__)", cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    site = str(installed)
    assert all(path.startswith(site) for path in where.stdout.split()), where.stdout  # not the checkout

    version = _run(installed, "clinic-env", "--version", cwd=tmp_path)
    assert version.stdout.strip() == f"clinic-env {clinic_env.__version__}"

    listed = _run(installed, "clinic-env", "cases", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[-1].startswith(f"{len(builtin_cases())} cases (")

    generated = _run(installed, "python", "-c", "import gymnasium as gym, clinic_env; "
                     "env = gym.make('clinic_env/Consultation-v0', cases='generated'); "
                     "obs, info = env.reset(seed=3); print(len(obs) > 0 and len(info['messages']) > 0)", cwd=tmp_path)
    assert generated.returncode == 0 and generated.stdout.split()[-1] == "True", generated.stderr

    bench = _run(installed, "clinic-env", "bench", "--cases", "generated:3", "--out", "runs/generated", cwd=tmp_path)
    assert bench.returncode == 0, bench.stderr
    assert len((tmp_path / "runs/generated/results.jsonl").read_text().splitlines()) == 3


def test_the_installed_wheel_runs_the_main_job(installed, tmp_path):
    """The README's first command, after `pip install .`: the scripted doctor on every builtin case."""
    bench = _run(installed, "clinic-env", "bench", "--out", "runs/bench", cwd=tmp_path)
    assert bench.returncode == 0, bench.stderr
    summary = json.loads((tmp_path / "runs/bench/summary.json").read_text())
    results = (tmp_path / "runs/bench/results.jsonl").read_text().splitlines()
    assert len(results) == len(builtin_cases()) and "Score:" in bench.stdout
    assert all((tmp_path / "runs/bench" / name).is_file() for name in ("report.md", "report.html"))
    assert summary


# --- no clash with the OpenAI Agents SDK, which installs a top-level `agents` --------------------

COEXIST = """
import gymnasium as gym
from agents import Agent, function_tool          # the OpenAI Agents SDK
import agents, clinic_env, clinic_agents
from clinic_agents.scripted_doctor import ScriptedDoctor
from clinic_env.rollout import run_consultation
assert Agent.__module__.startswith("agents."), Agent.__module__
doctor_agent = Agent(name="doctor", instructions="Take a history, examine, order tests, then diagnose.")
result = run_consultation(gym.make("clinic_env/Consultation-v0"), ScriptedDoctor(), seed=0, case_id="gi_appendicitis")
assert result.terminated and 0 < result.score <= 1, result
print(agents.__file__)
print(clinic_agents.__file__)
"""


def _openai_agents_or_skip() -> importlib.metadata.Distribution:
    try:
        return importlib.metadata.distribution("openai-agents")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("openai-agents is not installed (it comes with the [test] extra)")


@pytest.mark.parametrize("where", ["this environment", "the installed wheel"])
def test_clinic_env_and_the_openai_agents_sdk_work_side_by_side(where, request, tmp_path):
    sdk = _openai_agents_or_skip()
    sdk_agents = Path(sdk.locate_file("agents/__init__.py")).resolve()
    if where == "this environment":
        python = [sys.executable]
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        run = subprocess.run(python + ["-c", COEXIST], cwd=tmp_path, env=env, capture_output=True, text=True)
    else:
        run = _run(request.getfixturevalue("installed"), "python", "-c", COEXIST, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    sdk_file, ours = run.stdout.split()
    assert Path(sdk_file).resolve() == sdk_agents
    assert Path(ours).parent.name in {"clinic_agents", "agents"} and Path(ours).resolve() != sdk_agents


# --- with `.[test]` alone, the optional extras' tests skip instead of erroring -------------------

def _without_the_extras(tmp_path: Path) -> dict[str, str]:
    """The environment variables for a python of this environment in which the optional extras
    are not installed: its sitecustomize puts, in place of site-packages, a folder of links to
    everything there but their packages and metadata, so an import fails and importlib's
    find_spec answers None, as on a machine that never installed them."""
    shadow = tmp_path / "site-packages"
    shadow.mkdir()
    real = sorted({sysconfig.get_paths()[k] for k in ("purelib", "platlib")})
    for site_dir in real:
        for entry in Path(site_dir).iterdir():
            name = entry.name.split("-")[0].split(".")[0].lower()
            if name not in OPTIONAL and entry.suffix != ".pth" and not (shadow / entry.name).exists():
                (shadow / entry.name).symlink_to(entry)
    (tmp_path / "sitecustomize.py").write_text(
        f"import sys\nsys.path[:] = [{str(shadow)!r} if p in {real!r} else p for p in sys.path]\n")
    return {**os.environ, "PYTHONPATH": str(tmp_path)}


def test_the_extras_are_really_absent_in_that_environment(tmp_path):
    probe = ("import importlib.util, json; "
             f"print(json.dumps({{m: importlib.util.find_spec(m) is None for m in {OPTIONAL!r}}})); "
             "import clinic_env, clinic_rubrics, clinic_agents.scripted_doctor")
    run = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=_without_the_extras(tmp_path),
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {m: True for m in OPTIONAL}


def test_without_the_optional_extras_the_suite_runs_and_skips_what_needs_them(tmp_path):
    """The whole suite but this file, in a python without torch, transformers, TRL, vLLM,
    llm-compressor, accelerate or datasets: nothing fails or errors (at collection or in a test
    that imports one of them late), and the modules that need them are skipped."""
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                          "--ignore", str(Path(__file__)), str(ROOT / "tests")],
                         cwd=ROOT, env=_without_the_extras(tmp_path), capture_output=True, text=True)
    last = run.stdout.strip().splitlines()[-1]
    assert run.returncode == 0 and "failed" not in last and "error" not in last, run.stdout[-4000:] + run.stderr[-2000:]
    skipped = " ".join(line for line in run.stdout.splitlines() if line.startswith("SKIPPED"))
    for module in ("tests/test_kv_cache.py", "tests/test_grpo_training.py", "tests/test_trl_integration.py",
                   "tests/serving/test_vllm_sampler.py", "tests/serving/test_quantize.py"):
        assert module in skipped, (module, skipped[:2000])
    assert int(last.split(" passed")[0].split()[-1]) > 400  # the core suite ran, not just skipped
