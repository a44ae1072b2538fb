"""Record and replay: a run's requests and answers as JSONL lines, and answering from them.

The replay key leaves out the endpoint, so a run recorded against one server replays
anywhere; identical requests are answered in recorded order.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from clinic_env.llm.errors import ConfigurationError


class Recording:
    """The answers of a recorded run, by request key, served in recorded order."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.answers: dict[str, list[dict[str, Any]]] = {}
        self.served: dict[str, int] = {}
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as err:
            raise ConfigurationError(f"cannot read the recording {path}: {err}") from None
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                self.answers.setdefault(entry["key"], []).append(entry["response"])
            except (ValueError, KeyError, TypeError) as err:
                raise ConfigurationError(f"{path}:{number} is not a recorded request "
                                         f"({type(err).__name__}: {err})") from None

    def __len__(self) -> int:
        return sum(len(answers) for answers in self.answers.values())

    def take(self, key: str) -> dict[str, Any] | None:
        answers = self.answers.get(key)
        if not answers:
            return None
        index = self.served.get(key, 0)
        self.served[key] = index + 1
        return answers[min(index, len(answers) - 1)]  # more repeats than recorded: the last again


class Recorder:
    """Appends recorded lines to a JSONL file; a lock keeps lines of concurrent threads whole."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def append(self, line: str) -> None:
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as file:
                file.write(line)
