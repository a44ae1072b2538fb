"""The examples run as users would run them: the script as a process, the notebook headless."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_quickstart_script_runs():
    env = {**os.environ, "PYTHONPATH": str(EXAMPLES.parent)}  # the checkout, installed or not
    out = subprocess.run([sys.executable, str(EXAMPLES / "quickstart.py")], capture_output=True, text=True,
                         cwd=EXAMPLES.parent, timeout=1800, env=env)  # only a hung run reaches it
    assert out.returncode == 0, out.stderr
    assert "Patient:" in out.stdout and "score" in out.stdout


def test_quickstart_notebook_executes_headless():
    notebook = nbformat.read(EXAMPLES / "quickstart.ipynb", as_version=4)
    NotebookClient(notebook, timeout=1800, startup_timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(EXAMPLES.parent)}}).execute()
    last = notebook.cells[-1]["outputs"]
    html = [o for o in last if "data" in o and "text/html" in o["data"]]
    assert html and "clinic-env-transcript" in html[0]["data"]["text/html"]


TEST_STEPS = 6  # of the notebook's 25: enough for the policy to gain, a fifth of the run time


def test_grpo_notebook_trains_headless():
    """The notebook as users run it, shortened as papermill would: a cell after its
    "parameters" cell sets fewer steps. The per-cell timeout only catches a hung kernel."""
    pytest.importorskip("torch")  # the [train] extra
    notebook = nbformat.read(EXAMPLES / "grpo_actions.ipynb", as_version=4)
    cells = notebook.cells
    parameters = next(i for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", []))
    cells.insert(parameters + 1, nbformat.v4.new_code_cell(f"steps = {TEST_STEPS}"))
    cells.append(nbformat.v4.new_code_cell("import json; print(json.dumps({'history': history, 'before': before, "
                                           "'after': after, 'step': trainer.step_count}))"))
    NotebookClient(notebook, timeout=1800, startup_timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(EXAMPLES.parent)}}).execute()
    trained = json.loads("".join(o.get("text", "") for o in cells[-1]["outputs"]))
    assert trained["step"] == len(trained["history"]) == TEST_STEPS  # one logged reward per update
    assert all(math.isfinite(reward) for reward in trained["history"])
    printed = "".join(o.get("text", "") for c in cells if "trainer.step(groups)" in c.source for o in c["outputs"])
    assert f"mean rubric reward {trained['before']:.3f} -> {trained['after']:.3f}" in printed
    assert trained["after"] > trained["before"]  # the policy learned something in those steps


def test_the_example_training_config_loads():
    pytest.importorskip("torch")  # the [train] extra
    from clinic_agents.train_grpo import load_config

    config = load_config(EXAMPLES / "grpo_actions.json")
    assert config.policy.kind == "actions" and config.stages[0].kind == "consultation"
