"""The judge's prompt and the reading of its answer: no I/O, no database.

Instructions are a template with three variables, written ``{{ inputs }}``,
``{{ outputs }}`` and ``{{ expectations }}`` (MLflow's judge templates use the
same names). They are filled in by plain substitution, not by Django's
template engine: the instructions and the sample are user text, and neither
may reach tags, filters or the context of a server-side template.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from scorers.models import AnswerKind

VARIABLES = ("inputs", "outputs", "expectations")
KNOWN = "{{ inputs }}, {{ outputs }} or {{ expectations }}"
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
ANSWER_TEXT_LIMIT = 300  # of an unreadable answer, quoted back in the error

ANSWER_FORMATS = {
    AnswerKind.YES_NO: '"score": "yes" or "no"',
    AnswerKind.SCALE: '"score": an integer from 1 (worst) to 5 (best)',
}
SYSTEM_PROMPT = (
    "You are a judge that rates an AI system's answer by the instructions you are given. "
    'Reply with one JSON object and nothing else: {{{answer}, "reason": one or two sentences explaining the score}}.'
)


class TemplateError(ValueError):
    """Instructions that name no variable, or an unknown one."""


class SampleError(ValueError):
    """A sample that lacks a value the instructions use; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class AnswerError(ValueError):
    """A judge's reply that holds no score of the scorer's kind; ``answer`` is the reply, cut short."""

    def __init__(self, message: str, answer: str) -> None:
        super().__init__(message)
        self.answer = answer[:ANSWER_TEXT_LIMIT]


def variables_in(instructions: str) -> list[str]:
    """The variables the instructions use, in the order they appear; refuses unknown ones and none at all."""
    names = list(dict.fromkeys(PLACEHOLDER.findall(instructions)))
    unknown = [name for name in names if name not in VARIABLES]
    if unknown:
        listed = ", ".join("{{ " + name + " }}" for name in unknown)
        raise TemplateError(f"Unknown variable {listed}; use {KNOWN}.")
    if not names:
        raise TemplateError(f"Use at least one of {KNOWN}.")
    return names


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)


def render(instructions: str, sample: dict[str, Any]) -> str:
    """The instructions with the sample's values in place of their variables."""
    for name in variables_in(instructions):
        value = sample.get(name)
        if value is None or value == "":
            raise SampleError(name, f"These instructions use {{{{ {name} }}}}; give {name}.")
    return PLACEHOLDER.sub(lambda match: _text(sample[match.group(1)]), instructions)


def messages(instructions: str, answer_kind: str, sample: dict[str, Any]) -> list[dict[str, str]]:
    """The chat messages that ask the judge."""
    system = SYSTEM_PROMPT.format(answer=ANSWER_FORMATS[AnswerKind(answer_kind)])
    return [{"role": "system", "content": system}, {"role": "user", "content": render(instructions, sample)}]


@dataclass(frozen=True)
class Verdict:
    score: str | int  # "yes"/"no", or 1..5
    reason: str


JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)
YES_NO_WORD = re.compile(r"\b(yes|no)\b", re.IGNORECASE)
SCALE_DIGIT = re.compile(r"\b([1-5])\b")


def read_answer(text: str, answer_kind: str) -> Verdict:
    """The score and reason in a judge's reply.

    Judges are asked for a JSON object; many wrap it in prose or a code
    fence, so the outermost ``{...}`` is read. A reply with no JSON object
    whose first word of the right kind is a score ("Yes. The answer...")
    is read too; anything else is an AnswerError.
    """
    kind = AnswerKind(answer_kind)
    document = _json_object(text)
    if document is not None:
        score = _score(document.get("score", document.get("result")), kind)
        if score is None:
            raise AnswerError(f"The judge's answer has no {_expected(kind)} as its score.", text)
        reason = document.get("reason", document.get("rationale", ""))
        return Verdict(score=score, reason=reason if isinstance(reason, str) else _text(reason))
    match = (YES_NO_WORD if kind == AnswerKind.YES_NO else SCALE_DIGIT).search(text)
    if match is None:
        raise AnswerError(f"The judge's answer holds no {_expected(kind)}.", text)
    score = match.group(1).lower() if kind == AnswerKind.YES_NO else int(match.group(1))
    return Verdict(score=score, reason=text.strip())


def _json_object(text: str) -> dict[str, Any] | None:
    match = JSON_OBJECT.search(text)
    if match is None:
        return None
    try:
        document = json.loads(match.group(0))
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def _score(value: Any, kind: AnswerKind) -> str | int | None:
    if kind == AnswerKind.YES_NO:
        if isinstance(value, bool):
            return "yes" if value else "no"
        word = str(value).strip().lower() if isinstance(value, str) else ""
        return word if word in ("yes", "no") else None
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value if isinstance(value, int) and 1 <= value <= 5 else None


def _expected(kind: AnswerKind) -> str:
    return '"yes" or "no"' if kind == AnswerKind.YES_NO else "whole number from 1 to 5"
