"""The examples run as users would run them: the script as a process, the notebook headless."""

import os
import subprocess
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_quickstart_script_runs():
    env = {**os.environ, "PYTHONPATH": str(EXAMPLES.parent)}  # the checkout, installed or not
    out = subprocess.run([sys.executable, str(EXAMPLES / "quickstart.py")], capture_output=True, text=True,
                         cwd=EXAMPLES.parent, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    assert "Patient:" in out.stdout and "score" in out.stdout


def test_quickstart_notebook_executes_headless():
    notebook = nbformat.read(EXAMPLES / "quickstart.ipynb", as_version=4)
    NotebookClient(notebook, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(EXAMPLES.parent)}}).execute()
    last = notebook.cells[-1]["outputs"]
    html = [o for o in last if "data" in o and "text/html" in o["data"]]
    assert html and "clinic-env-transcript" in html[0]["data"]["text/html"]


def test_grpo_notebook_trains_headless():
    notebook = nbformat.read(EXAMPLES / "grpo_actions.ipynb", as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(EXAMPLES.parent)}}).execute()
    printed = "".join(o.get("text", "") for o in notebook.cells[2]["outputs"])
    before, after = (float(x) for x in printed.split("reward ")[1].split(" -> "))
    assert after > before  # the policy learned something in 25 steps


def test_the_example_training_config_loads():
    from agents.train_grpo import load_config

    config = load_config(EXAMPLES / "grpo_actions.json")
    assert config["policy"]["kind"] == "actions" and config["stages"][0]["kind"] == "consultation"
