"""The core install stays light and layered: no torch, and imports only point down."""

import ast
import configparser
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "transformers", "vllm", "accelerate")


def test_core_requirements_have_no_heavy_dependencies():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    core = config["options"]["install_requires"].lower()
    assert not any(name in core for name in HEAVY), core
    assert "torch" in config["options.extras_require"]["train"]


def test_importing_the_env_and_scripted_doctor_loads_no_heavy_module():
    code = ("import sys, gymnasium as gym, clinic_env, agents.scripted_doctor; "
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


def test_layers_only_import_downwards():
    assert not {"clinic_env", "agents"} & _imports("rubrics")
    assert "agents" not in _imports("clinic_env")


def test_case_files_ship_with_the_package():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    assert "cases/data/*.json" in config["options.package_data"]["clinic_env"]
