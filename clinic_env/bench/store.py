"""The crash-safe results store of a run directory: one JSON record per line, each with a "key".

Every finished record is appended to ``OUT/results.jsonl`` at once (by whichever process
made it), so an interrupted run, or a worker that dies, loses only the work in flight.
``prepare_resume`` reads the file back (a torn last line left by a crash is dropped and
reported), keeps the finished ("ok") records, moves the failed ones of this plan to
``retried_errors.jsonl`` and refuses a directory written by a different setup: every key
appears in ``results.jsonl`` at most once. ``DirLock`` keeps two runs out of one directory.
The benchmark (episodes) and HealthBench (examples) share it; ``item`` names what a record is.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from clinic_env.bench.config import CONFIG_FILE, LOCK_FILE, RESULTS_FILE, RETRIED_FILE, BenchError

try:  # POSIX: an advisory lock keeps two runs from writing one results file
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


def json_default(value: Any) -> Any:
    item = getattr(value, "item", None)  # numpy scalars
    return item() if callable(item) else str(value)


def dumps(record: Mapping[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, default=json_default)


def read_results(path: str | Path, item: str = "episode") -> tuple[list[dict[str, Any]], str | None]:
    """The records of a results file and a note if its last line was torn (and is ignored).

    A bad line anywhere but last is an error: only a crash mid-write tears the last line.
    """
    path = Path(path)
    if not path.exists():
        return [], None
    lines = path.read_bytes().split(b"\n")
    numbered = [(i, line) for i, line in enumerate(lines, 1) if line.strip()]
    records, torn = [], None
    for position, (lineno, line) in enumerate(numbered):
        try:
            record = json.loads(line.decode("utf-8"))
            if not isinstance(record, dict) or not isinstance(record.get("key"), str):
                raise ValueError("no 'key' field")
        except (ValueError, UnicodeDecodeError) as err:
            if position == len(numbered) - 1:
                torn = (f"{path}: ignored a torn last line ({len(line)} bytes, line {lineno}), "
                        f"left by an interrupted write; that {item} runs again")
                break
            raise BenchError(f"{path}:{lineno}: not a valid {item} record ({err}); only a torn last line is "
                             "tolerated. Fix or remove that line, then --resume") from None
        records.append(record)
    return records, torn


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class Appender:
    """Appends one record per line to results.jsonl, shared safely by worker processes.

    ``write`` hands the whole line to the OS in one ``write`` on an ``O_APPEND`` descriptor,
    so it survives a crash or Ctrl-C of this process at once, and lines of several
    processes never interleave. Flushing to disk (``fsync``) is a group commit: at most one
    runs at a time, in a worker thread, covering every line written before it started, so
    a fast run does not pay one disk flush per record and no record waits for the disk.
    """

    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.keys: set[str] = set()
        self._dirty = False
        self._syncer: asyncio.Future | None = None

    def write(self, record: Mapping[str, Any]) -> None:
        if record["key"] in self.keys:
            raise RuntimeError(f"internal error: record {record['key']!r} written twice")
        self.keys.add(record["key"])
        data = memoryview((dumps(record) + "\n").encode("utf-8"))
        while data:
            data = data[os.write(self.fd, data):]
        self._dirty = True
        if self._syncer is None or self._syncer.done():
            self._syncer = asyncio.ensure_future(self._sync_while_dirty())

    async def _sync_while_dirty(self) -> None:
        while self._dirty:
            self._dirty = False
            await asyncio.to_thread(self._fsync)

    def _fsync(self) -> None:
        try:
            os.fsync(self.fd)
        except (OSError, ValueError):  # closed by an interrupt meanwhile: the lines are already in the OS
            pass

    async def aclose(self) -> None:
        """Wait for the pending flush, flush the rest and close."""
        if self._syncer is not None:
            await self._syncer
        self.close()

    def close(self) -> None:
        if self.fd >= 0:
            self._fsync()
            os.close(self.fd)
            self.fd = -1


class DirLock:
    """An advisory lock on the output directory for the whole run (released if the process dies)."""

    def __init__(self, out: Path) -> None:
        self.file = (out / LOCK_FILE).open("a")
        if fcntl is not None:
            try:
                fcntl.flock(self.file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self.file.close()
                raise BenchError(f"another run is writing to {out}; wait for it or choose another --out") from None

    def release(self) -> None:
        self.file.close()  # closing releases the lock


def prepare_resume(out: Path, plan_keys: set[str], identity: dict[str, Any], resume: bool,
                   notes: list[str], item: str = "episode") -> dict[str, dict[str, Any]]:
    """Check the directory and return the finished ("ok") records, by key; rewrites
    results.jsonl when a torn line or records to retry must leave it."""
    results = out / RESULTS_FILE
    if not results.exists() or results.stat().st_size == 0:
        return {}
    if not resume:
        n = sum(1 for line in results.read_bytes().split(b"\n") if line.strip())
        raise BenchError(f"{results} already holds {n} {item} record(s); pass --resume (resume=True) to finish "
                         "that run, or choose another --out")
    config_path = out / CONFIG_FILE
    if config_path.exists():
        try:
            before = json.loads(config_path.read_text(encoding="utf-8")).get("identity", {})
        except ValueError:
            before = {}
        changed = [f"{k}: {before[k]!r} there, {identity[k]!r} now" for k in identity
                   if k in before and before[k] != identity[k]]
        if changed:
            raise BenchError(f"{out} holds results of a different setup ({'; '.join(changed)}); resume with the "
                             "same settings or choose another --out")
    records, torn = read_results(results, item)
    if torn:
        notes.append(torn)
    done: dict[str, dict[str, Any]] = {}
    for r in records:
        if r.get("status") == "ok":
            done.setdefault(r["key"], r)
    keep: list[dict[str, Any]] = []
    retried: list[dict[str, Any]] = []
    seen: set[str] = set()
    for r in records:
        key = r["key"]
        if key in seen:
            continue  # a duplicate (never written by the runner): the first finished record wins
        if key in done:
            if r is done[key]:
                keep.append(r)
                seen.add(key)
        elif key in plan_keys:
            retried.append(r)  # failed before: it runs again
        else:
            keep.append(r)  # a record of another plan: left alone
            seen.add(key)
    if retried:
        with (out / RETRIED_FILE).open("a", encoding="utf-8") as f:
            f.writelines(dumps(r) + "\n" for r in retried)
        notes.append(f"retrying {len({r['key'] for r in retried})} {item}(s) that failed before; their error "
                     f"records moved to {out / RETRIED_FILE}")
    if torn or len(keep) != len(records):
        write_atomic(results, "".join(dumps(r) + "\n" for r in keep))
    return done


@contextlib.contextmanager
def open_run(out: Path, plan_keys: set[str], identity: dict[str, Any], settings: dict[str, Any], resume: bool,
             notes: list[str], item: str = "episode") -> Iterator[dict[str, dict[str, Any]]]:
    """Lock ``out`` for the run, prepare it (``prepare_resume``) and record the setup in
    config.json; yields the records already finished, by key. The lock is released on exit."""
    out.mkdir(parents=True, exist_ok=True)
    lock = DirLock(out)
    try:
        done = prepare_resume(out, plan_keys, identity, resume, notes, item)
        write_atomic(out / CONFIG_FILE, json.dumps({"identity": identity, "last_run": settings}, indent=2))
        yield done
    finally:
        lock.release()


def records_in_order(out: Path, keys: Sequence[str], notes: list[str],
                     item: str = "episode") -> tuple[list[dict[str, Any]], int]:
    """The records of ``keys`` in that order (missing ones left out) and how many records of
    results.jsonl are outside them (another plan's)."""
    records, torn = read_results(out / RESULTS_FILE, item)
    if torn:  # cannot happen after a clean run; kept loud if it does
        notes.append(torn)
    by_key = {r["key"]: r for r in records}
    ordered = [by_key[k] for k in keys if k in by_key]
    return ordered, len(records) - len(ordered)
