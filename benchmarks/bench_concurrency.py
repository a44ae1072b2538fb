"""Episodes per second against an LLM endpoint with a fixed 50 ms latency, at concurrency 1, 8, 32, 128.

    python benchmarks/bench_concurrency.py [--latency 0.05] [--levels 1 8 32 128] [--workers 2]

The doctor is ``openai:bench`` (the OpenAI-compatible chat doctor through LLMClient); the
endpoint is the tests' local OpenAI-style server, run in its own process so its threads
do not share this process's interpreter lock. Every call waits ``latency`` seconds and
answers like a doctor (one question, then a diagnosis: two calls per episode); patient
and grader are offline. Targets: speed-up >= 0.8 x N up to N = 32, and >= 50x at 128.

Every level is measured warm: one untimed pass over the cases first builds what a process
caches per case (rubrics, compiled matchers), which would otherwise slow only the first
level and flatter the speed-ups. ``--workers`` (default: one per CPU core) is the
runner's ``workers`` option (its processes are started and warmed once, then reused, as
the runner does in one Python session). A level runs ``16 x N`` episodes (at least 54, so the baseline is not a 2-second sample),
with 1 worker and with ``--workers``; the last line judges each level by its better
configuration.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the local test server

from openai_server import Reply, serve  # noqa: E402

from clinic_env.bench import run_benchmark  # noqa: E402


def _doctor_reply(latency: float):
    def handler(request):
        turns = sum(m["role"] == "assistant" for m in request.messages)
        content = "ASK: When did it start?" if turns == 0 else "DIAGNOSE: pneumonia\nPLAN: antibiotics; review"
        return Reply(content=content, delay=latency)
    return handler


def _serve_forever(latency: float, port_out) -> None:
    with serve(handler=_doctor_reply(latency)) as server:
        port_out.put(server.base_url)
        while True:
            time.sleep(3600)


def episodes_per_second(concurrency: int, episodes: int, workers: int) -> float:
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        result = run_benchmark(doctor="openai:bench", cases="split:train", episodes_per_case=-(-episodes // 18),
                               concurrency=concurrency, workers=workers, out=out, progress=False)
        elapsed = time.perf_counter() - start
    assert result.summary["n_errors"] == 0, result.summary["errors"]
    return result.n_run / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 8, 32, 128])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    queue: multiprocessing.Queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=_serve_forever, args=(args.latency, queue), daemon=True)
    server.start()
    try:
        os.environ["OPENAI_BASE_URL"], os.environ["OPENAI_API_KEY"] = queue.get(timeout=30), "bench"
        for workers in sorted({1, args.workers}):
            episodes_per_second(concurrency=8, episodes=18, workers=workers)  # warm-up, untimed
        print(f"{os.cpu_count()} CPU cores; endpoint latency {args.latency * 1000:.0f} ms, 2 calls per episode")
        base = None
        verdicts = []
        for n in args.levels:
            target = 50 if n >= 128 else 0.8 * n
            best = (0.0, 1)
            for workers in sorted({1, min(args.workers, n)}):
                rate = episodes_per_second(n, max(54, 16 * n), workers)
                base = base or rate  # the first level with one worker is the baseline
                best = max(best, (rate / base, workers))
                print(f"concurrency {n:4d}, workers {workers}: {rate:7.1f} episodes/s  speed-up {rate / base:6.1f}x",
                      flush=True)
            verdicts.append(f"N={n}: {best[0]:.1f}x with --workers {best[1]} (target >= {target:.1f}x: "
                            f"{'met' if best[0] >= target else 'NOT met'})")
        print("best per level: " + "; ".join(verdicts))
    finally:
        server.terminate()


if __name__ == "__main__":
    main()
