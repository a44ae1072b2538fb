"""`clinic-env serve` without vLLM: the command line it builds, waiting for health, metrics, and
clear errors, against a stand-in ``vllm.entrypoints.openai.api_server`` module (the real
server is exercised in tests/serving)."""

from __future__ import annotations

import importlib.util
import json
import sys

import pytest

from clinic_agents.serve import ServeError, VLLMServer, quantization_of, vllm_command
from clinic_cli.main import main

FAKE_SERVER = '''
import http.server, json, os, sys
args = sys.argv[1:]
open(os.environ["FAKE_ARGV"], "w").write(json.dumps(args))
if os.environ.get("FAKE_MODE") == "nofit":
    print("ValueError: No available memory for the cache blocks. Try increasing gpu_memory_utilization")
    sys.exit(1)
port = int([args[i + 1] for i, a in enumerate(args) if a == "--port"][-1])  # the last --port wins, as in vLLM
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if os.environ.get("FAKE_SERVED"):
            open(os.environ["FAKE_SERVED"], "a").write(f"{port} {self.path}\\n")
        body = b"ok" if self.path == "/health" else (
            b"# HELP x\\nvllm:spec_decode_num_draft_tokens_total{engine=\\"0\\"} 12.0\\n"
            b"vllm:spec_decode_num_accepted_tokens_total{engine=\\"0\\"} 9.0\\nvllm:x_bucket{le=\\"1\\"} 3.0\\n")
        self.send_response(200); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
server = http.server.HTTPServer(("127.0.0.1", port), Handler)
if os.environ.get("FAKE_MODE") == "once":  # answer one request (the first /health), then exit
    server.handle_request()
else:
    server.serve_forever()
'''


@pytest.fixture
def fake_vllm(tmp_path):
    package = tmp_path / "fake" / "vllm" / "entrypoints" / "openai"
    package.mkdir(parents=True)
    for folder in (package, package.parent, package.parent.parent):
        (folder / "__init__.py").write_text("")
    (package / "api_server.py").write_text(FAKE_SERVER)
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text(json.dumps({"quantization_config": {
        "quant_method": "compressed-tensors", "format": "pack-quantized",
        "config_groups": {"group_0": {"weights": {"num_bits": 4, "group_size": 128}}},
        "kv_cache_scheme": {"num_bits": 8, "type": "float"}}}))
    return model, {"PYTHONPATH": str(tmp_path / "fake"), "FAKE_ARGV": str(tmp_path / "argv.json")}


def test_the_server_starts_with_the_deployment_flags_and_reports_metrics(fake_vllm, tmp_path):
    model, env = fake_vllm
    with VLLMServer(model, env=env, kv_cache_dtype="fp8", draft="drafts/eagle3", num_speculative_tokens=4,
                    api_key="k", max_model_len=4096, extra=["--enforce-eager"], startup_timeout=30) as server:
        metrics = server.metrics()
        assert server.base_url == f"http://127.0.0.1:{server.port}/v1"
    assert server.process.poll() is not None  # stopped on leaving
    argv = json.loads((tmp_path / "argv.json").read_text())
    assert argv[argv.index("--kv-cache-dtype") + 1] == "fp8" and argv[argv.index("--api-key") + 1] == "k"
    assert json.loads(argv[argv.index("--speculative-config") + 1]) == {
        "method": "eagle3", "model": "drafts/eagle3", "num_speculative_tokens": 4}
    assert argv[argv.index("--max-model-len") + 1] == "4096" and argv[-1] == "--enforce-eager"
    assert metrics["vllm:spec_decode_num_accepted_tokens_total"] == 9.0 and "vllm:x_bucket" not in metrics
    assert "4-bit weights (group 128), 8-bit float KV-cache scales" in quantization_of(model)


def test_a_model_that_does_not_fit_gets_a_one_line_reason(fake_vllm):
    model, env = fake_vllm
    with pytest.raises(ServeError, match="the checkpoint does not fit") as failure:
        VLLMServer(model, env={**env, "FAKE_MODE": "nofit"}, startup_timeout=30).start()
    assert "No available memory for the cache blocks" in str(failure.value)  # the log's end follows


def test_clear_errors_from_the_command_line(tmp_path, capsys):
    assert main(["serve", str(tmp_path)]) == 2
    assert "not a model directory (no config.json)" in capsys.readouterr().err
    (tmp_path / "config.json").write_text("{}")
    if importlib.util.find_spec("vllm") is None:
        assert main(["serve", str(tmp_path), "--python", sys.executable]) == 2
        assert "vLLM is not installed" in capsys.readouterr().err
    assert main(["serve", str(tmp_path), "--python", str(tmp_path / "no-such-python")]) == 2
    err = capsys.readouterr().err
    assert "cannot run" in err and "no-such-python" in err and "Traceback" not in err
    with pytest.raises(ServeError, match="--num-speculative-tokens must be >= 1"):
        vllm_command(tmp_path, 8000, draft="d", num_speculative_tokens=0)


OPTIONS = ["--port", "8801", "--log", "LOG", "--python", "/envs/vllm/bin/python", "--kv-cache-dtype", "fp8",
           "--draft", "runs/eagle3", "--num-speculative-tokens", "4", "--api-key", "k", "--max-model-len", "4096",
           "--served-model-name", "doctor"]


@pytest.mark.parametrize("where", ["before", "after", "mixed"])
@pytest.mark.parametrize("vllm_args", [[], ["--enforce-eager", "--port", "9", "--api-key", "other"]])
def test_the_command_line_options_reach_the_server_and_only_the_args_after_dashdash_reach_vllm(
        fake_vllm, tmp_path, monkeypatch, where, vllm_args):
    import clinic_agents.serve as serve

    model, _ = fake_vllm
    built = []

    class Recording(serve.VLLMServer):
        def start(self):
            built.append(self)
            raise ServeError("not starting in this test")

    monkeypatch.setattr(serve, "VLLMServer", Recording)
    options = [str(tmp_path / "vllm.log") if arg == "LOG" else arg for arg in OPTIONS]
    argv = {"before": ["serve", *options, str(model)], "after": ["serve", str(model), *options],
            "mixed": ["serve", *options[:8], str(model), *options[8:]]}[where]
    assert main(argv + (["--", *vllm_args] if vllm_args else [])) == 2
    (server,) = built
    assert (server.port, server.python, server.log_path, server.served_name, server.api_key) == (
        8801, "/envs/vllm/bin/python", tmp_path / "vllm.log", "doctor", "k")
    assert server.command == vllm_command(model, 8801, "/envs/vllm/bin/python", served_name="doctor",
                                          kv_cache_dtype="fp8", draft="runs/eagle3", num_speculative_tokens=4,
                                          api_key="k", max_model_len=4096) + vllm_args


def test_serve_with_the_port_after_the_model_waits_on_that_port(fake_vllm, tmp_path, monkeypatch, capsys):
    """End to end through main(): the README's order (options after MODEL_DIR); the stand-in server
    answers one /health on the port it was given, then exits, so serve returns."""
    import clinic_agents.serve as serve

    model, env = fake_vllm
    for key, value in {**env, "FAKE_MODE": "once", "FAKE_SERVED": str(tmp_path / "served")}.items():
        monkeypatch.setenv(key, value)

    class Quick(serve.VLLMServer):  # a regression fails in minutes instead of waiting 600 s for health
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **{**kwargs, "startup_timeout": 180})

    monkeypatch.setattr(serve, "VLLMServer", Quick)
    python = tmp_path / "python"  # --python is honoured: vLLM's interpreter leaves a mark
    python.write_text(f"#!/bin/sh\necho used >> {tmp_path / 'python-used'}\nexec {sys.executable} \"$@\"\n")
    python.chmod(0o755)
    port, log = serve.free_port(), tmp_path / "vllm.log"
    assert main(["serve", str(model), "--port", str(port), "--log", str(log), "--python", str(python),
                 "--", "--enforce-eager"]) == 0
    assert (tmp_path / "served").read_text() == f"{port} /health\n"
    assert f"serving model at http://127.0.0.1:{port}/v1" in capsys.readouterr().out
    argv = json.loads((tmp_path / "argv.json").read_text())
    assert argv.count("--port") == 1 and argv[argv.index("--port") + 1] == str(port)
    assert argv[-1] == "--enforce-eager" and "--log" not in argv and "--python" not in argv and "--" not in argv
    assert log.is_file() and (tmp_path / "python-used").is_file()
