"""Typed doctor actions, the text protocol that writes them, and OpenAI tool schemas for them.

The text protocol (one command per message; the first command line wins; keywords are
case-insensitive and may be wrapped in markdown such as ``**ASK:**``)::

    ASK: <what you say to the patient>
    EXAMINE: <system>[, <system> ...]          e.g. EXAMINE: respiratory, cardiovascular
    ORDER: <test>[; <test> ...]                 e.g. ORDER: complete blood count; chest x-ray
    DIAGNOSE: <most likely>; <next>; ...        ranked differential, most likely first
    PLAN: <management and disposition>          (on the lines after DIAGNOSE)
    END: <closing words>                        ends the visit without a diagnosis

Text with no command line is speech to the patient, so a plain chat reply is a valid
action. ``<think>...</think>`` reasoning blocks are ignored. ``parse_action`` accepts any
string and never raises: the worst it does is treat the text as speech.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from clinic_env.exam_systems import EXAM_SYSTEMS


@dataclass(frozen=True)
class Ask:
    """Say something to the patient (a question, an explanation, reassurance)."""

    text: str


@dataclass(frozen=True)
class Examine:
    """Examine one or more body systems; the examiner answers from the case."""

    systems: tuple[str, ...]


@dataclass(frozen=True)
class OrderTests:
    """Order one or more investigations; each adds its cost and turnaround."""

    tests: tuple[str, ...]


@dataclass(frozen=True)
class Diagnose:
    """Commit to a ranked differential (most likely first) and a plan; ends the visit."""

    differential: tuple[str, ...]
    plan: str = ""


@dataclass(frozen=True)
class End:
    """End the visit without a diagnosis."""

    text: str = ""


Action = Ask | Examine | OrderTests | Diagnose | End

_COMMANDS = {
    "ask": "ask", "say": "ask", "question": "ask",
    "examine": "examine", "exam": "examine", "examination": "examine",
    "order": "order", "test": "order", "tests": "order", "order test": "order", "order tests": "order",
    "order_test": "order", "investigate": "order",
    "diagnose": "diagnose", "diagnosis": "diagnose", "differential": "diagnose", "final diagnosis": "diagnose",
    "plan": "plan",
    "end": "end",
}
_COMMAND_LINE = re.compile(
    r"^[ \t>*_#`-]*(" + "|".join(sorted((re.escape(k) for k in _COMMANDS), key=len, reverse=True))
    + r")[ \t*_`]*:[ \t*_`]*(.*)$",
    re.IGNORECASE | re.MULTILINE,
)
_THINK_BLOCK = re.compile(r"<think>.*?(?:</think>|\Z)", re.IGNORECASE | re.DOTALL)
_LIST_MARKER = re.compile(r"^\s*(?:\d+[.)]|[-*•])\s*")
_MAX_PARSE_CHARS = 200_000


_OPENING_BULLET = re.compile(r"^(?:[^:\n]{1,30}:)?\s*([-•·*])\s+")


def _bullets_as_lines(text: str) -> str:
    """A list written in one line as its items, one a line ("Pre-op: - FBC - U&E - PT/INR",
    "• LFTs • amylase"): a line that opens with a bullet splits at that bullet, and a round bullet
    splits anywhere; a dash between words elsewhere is a detail ("CT angio aorta - arch to iliacs")."""
    lines = []
    for line in text.split("\n"):
        opening = _OPENING_BULLET.match(line)
        if opening:
            line = "\n".join(re.split(rf"\s+{re.escape(opening[1])}\s+", line[opening.end():]))
        lines.append(re.sub(r"\s*[•·]\s*", "\n", line))
    return "\n".join(lines)


def _split_items(text: str, separators: str) -> tuple[str, ...]:
    """Split a command argument into clean items, dropping list numbering and empties."""
    items = re.split(separators, text)
    cleaned = (_LIST_MARKER.sub("", item).strip(" \t.*_`") for item in items)
    return tuple(item for item in cleaned if item)


def _command_blocks(text: str) -> list[tuple[str, str]]:
    """(command, argument text) for each command line; an argument runs until the next command."""
    matches = list(_COMMAND_LINE.finditer(text))
    blocks = []
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        rest = match.group(2) + text[match.end():end]
        blocks.append((_COMMANDS[match.group(1).lower()], rest.strip()))
    return blocks


def parse_action(text: Any) -> Action:
    """Read a doctor's message as an action. Never raises; unreadable text is speech."""
    if isinstance(text, (Ask, Examine, OrderTests, Diagnose, End)):
        return text
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    text = _THINK_BLOCK.sub("", text[:_MAX_PARSE_CHARS]).strip()
    blocks = _command_blocks(text)
    if not blocks:
        return Ask(text)
    command, argument = blocks[0]
    if command == "examine":
        systems = _split_items(argument.split("\n")[0], r"[,;]| and ")
        return Examine(systems) if systems else Ask(text)
    if command == "order":
        tests = _split_items(_bullets_as_lines(argument), _ORDER_SEPARATORS)
        return OrderTests(tests) if tests else Ask(text)
    if command in ("diagnose", "plan"):
        return _parse_diagnosis(blocks)
    if command == "end":
        return End(argument)
    return Ask(argument)


# Tests are separated by ";", lines or commas, except a comma inside parentheses, before a lone
# letter or digit or between digits, which continues one test's name ("hep A, B, C, E serology",
# "blood cultures (x2, peripheral)", "1,25-dihydroxy vitamin D"), and a numbered list inside a line
# ("1) CBC 2) PT/INR") is its items.
_ORDER_SEPARATORS = r"[;\n]|,(?![^()]*\))(?!\s*[A-Za-z0-9](?:\s|,|$))(?!(?<=\d,)\d)|\s+(?=\d{1,2}[.)]\s)"
# Diagnoses are separated by ";", lines or ">"; commas only when nothing else separates them, because
# a diagnosis is often qualified with commas ("Anorexia nervosa, binge-purge type, high risk; bulimia").
_DIAGNOSIS_SEPARATORS = r"[;\n]|\s+>\s+"


def _parse_diagnosis(blocks: list[tuple[str, str]]) -> Diagnose:
    differential: tuple[str, ...] = ()
    plan = ""
    for command, argument in blocks:
        if command == "diagnose" and not differential:
            differential = _split_items(argument, _DIAGNOSIS_SEPARATORS if re.search(r"[;\n>]", argument.strip())
                                        else r",(?![^()]*\))")
        elif command == "plan" and not plan:
            plan = argument
    return Diagnose(differential, plan)


def format_action(action: Action) -> str:
    """The protocol text for an action; ``parse_action(format_action(a)) == a`` for clean items."""
    if isinstance(action, Ask):
        return f"ASK: {action.text}"
    if isinstance(action, Examine):
        return "EXAMINE: " + ", ".join(action.systems)
    if isinstance(action, OrderTests):
        return "ORDER: " + "; ".join(action.tests)
    if isinstance(action, Diagnose):
        text = "DIAGNOSE: " + "; ".join(action.differential)
        return text + (f"\nPLAN: {action.plan}" if action.plan else "")
    if isinstance(action, End):
        return f"END: {action.text}".rstrip()
    raise TypeError(f"not a doctor action: {action!r}")


def spoken_text(action: Action) -> str:
    """What the patient hears of an action: speech, the explanation of a diagnosis, goodbyes."""
    if isinstance(action, Ask):
        return action.text
    if isinstance(action, Diagnose):
        ranked = ", then ".join(action.differential) or "I'm not certain yet"
        return f"My assessment: most likely {ranked}." + (f" Plan: {action.plan}" if action.plan else "")
    if isinstance(action, End):
        return action.text
    return ""


PROTOCOL_HELP = """You are the doctor in a consultation. Reply with exactly one command per message:
ASK: <what you say to the patient>
EXAMINE: <body system>[, <body system> ...]   systems: """ + ", ".join(EXAM_SYSTEMS) + """
ORDER: <test>[; <test> ...]
DIAGNOSE: <most likely diagnosis>; <next most likely>; ...
PLAN: <treatment, disposition and safety-netting>   (on the line after DIAGNOSE)
END: <closing words>   (ends without a diagnosis)
A message with no command is said to the patient. DIAGNOSE ends the consultation."""


TOOL_SCHEMAS: list[dict[str, Any]] = [
    {"type": "function", "function": {
        "name": "ask_patient",
        "description": "Say something to the patient: a question, an explanation or reassurance.",
        "parameters": {"type": "object", "properties": {"message": {"type": "string"}},
                       "required": ["message"], "additionalProperties": False}}},
    {"type": "function", "function": {
        "name": "examine",
        "description": "Examine body systems. The examiner reports the findings.",
        "parameters": {"type": "object", "properties": {
            "systems": {"type": "array", "items": {"type": "string", "enum": list(EXAM_SYSTEMS)}, "minItems": 1}},
            "required": ["systems"], "additionalProperties": False}}},
    {"type": "function", "function": {
        "name": "order_tests",
        "description": "Order investigations by name (e.g. 'complete blood count', 'chest x-ray'). Each has a cost.",
        "parameters": {"type": "object", "properties": {
            "tests": {"type": "array", "items": {"type": "string"}, "minItems": 1}},
            "required": ["tests"], "additionalProperties": False}}},
    {"type": "function", "function": {
        "name": "diagnose",
        "description": "Give a ranked differential diagnosis (most likely first) and a management plan. Ends the consultation.",
        "parameters": {"type": "object", "properties": {
            "differential": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "plan": {"type": "string"}},
            "required": ["differential", "plan"], "additionalProperties": False}}},
    {"type": "function", "function": {
        "name": "end_consultation",
        "description": "End the consultation without a diagnosis.",
        "parameters": {"type": "object", "properties": {"message": {"type": "string"}},
                       "required": [], "additionalProperties": False}}},
]


class ToolCallError(ValueError):
    """A tool call that does not fit the schemas; the message names the tool and the argument."""


def action_from_tool_call(name: str, arguments: str | dict[str, Any]) -> Action:
    """The action for an OpenAI tool call (``arguments`` as the JSON string the API returns)."""
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments or "{}")
        except json.JSONDecodeError as err:
            raise ToolCallError(f"tool call {name!r}: arguments are not valid JSON ({err.msg})") from None
    if not isinstance(arguments, dict):
        raise ToolCallError(f"tool call {name!r}: arguments must be a JSON object")

    def strings(key: str) -> tuple[str, ...]:
        value = arguments.get(key)
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise ToolCallError(f"tool call {name!r}: argument {key!r} must be a non-empty list of strings")
        return tuple(v.strip() for v in value if v.strip())

    if name == "ask_patient":
        message = arguments.get("message")
        if not isinstance(message, str):
            raise ToolCallError(f"tool call {name!r}: argument 'message' must be a string")
        return Ask(message)
    if name == "examine":
        return Examine(strings("systems"))
    if name == "order_tests":
        return OrderTests(strings("tests"))
    if name == "diagnose":
        return Diagnose(strings("differential"), str(arguments.get("plan", "")))
    if name == "end_consultation":
        return End(str(arguments.get("message", "")))
    known = [tool["function"]["name"] for tool in TOOL_SCHEMAS]
    raise ToolCallError(f"unknown tool {name!r}; known tools: {known}")
