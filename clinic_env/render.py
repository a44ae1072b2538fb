"""Transcripts of a consultation: plain text for terminals and logs, HTML for notebooks."""

from __future__ import annotations

import html
import warnings

from clinic_env.consultation import Consultation

RENDER_MODES = ("ansi", "html", "human")

_LABELS = {"patient": "Patient", "doctor": "Doctor", "examiner": "Examiner"}
_COLOURS = {"patient": "#eef5ff", "doctor": "#f1f8ee", "examiner": "#fff7e6"}


def _header(consultation: Consultation) -> str:
    case, d = consultation.case, consultation.case.demographics
    return f"Case {case.id} ({case.specialty}): {case.title} - {d.age_years:g} y {d.sex}"


def _footer(consultation: Consultation, score: float) -> str:
    totals = consultation.totals()
    state = "ended" if consultation.ended else "in progress"
    return (f"[{state}] doctor turns {totals['doctor_turns']}, exams {totals['exams']}, tests {totals['tests']}, "
            f"cost ${totals['cost']:g}, turnaround {totals['turnaround_hours']:g} h, score {score:.3f}")


def render(consultation: Consultation | None, mode: str | None) -> str | None:
    """Gymnasium's render contract for both envs: "ansi" and "html" return the transcript,
    "human" prints it, None warns (as Gymnasium's envs do) and returns nothing."""
    if mode is None:
        warnings.warn("render() called with render_mode=None; pass render_mode='ansi', 'html' or 'human'", stacklevel=3)
        return None
    if consultation is None:
        return None
    if mode == "html":
        return render_html(consultation, consultation.score)
    text = render_ansi(consultation, consultation.score)
    if mode == "human":
        print(text)
        return None
    return text


def check_render_mode(mode: str | None) -> None:
    if mode is not None and mode not in RENDER_MODES:
        raise ValueError(f"render_mode must be one of {list(RENDER_MODES)}, got {mode!r}")


def render_ansi(consultation: Consultation, score: float = 0.0) -> str:
    """The transcript as text, one block per turn."""
    lines = [_header(consultation), "=" * 72]
    for turn in consultation.turns:
        label = _LABELS[turn.speaker]
        body = turn.text.replace("\n", "\n" + " " * (len(label) + 2))
        lines.append(f"{label}: {body}")
    lines += ["=" * 72, _footer(consultation, score)]
    return "\n".join(lines)


def render_html(consultation: Consultation, score: float = 0.0) -> str:
    """The transcript as a self-contained HTML fragment (all text escaped), for notebooks."""
    rows = []
    for turn in consultation.turns:
        align = "right" if turn.speaker == "doctor" else "left"
        rows.append(
            f'<div style="text-align:{align};margin:4px 0">'
            f'<div style="display:inline-block;max-width:80%;text-align:left;padding:6px 10px;border-radius:8px;'
            f'background:{_COLOURS[turn.speaker]};white-space:pre-wrap">'
            f"<b>{_LABELS[turn.speaker]}</b><br>{html.escape(turn.text)}</div></div>"
        )
    return (
        '<div class="clinic-env-transcript" style="font-family:sans-serif;font-size:14px">'
        f"<h4>{html.escape(_header(consultation))}</h4>{''.join(rows)}"
        f"<p><i>{html.escape(_footer(consultation, score))}</i></p></div>"
    )
