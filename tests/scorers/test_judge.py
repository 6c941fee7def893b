"""The judge's prompt and the reading of its answer (no I/O)."""

from __future__ import annotations

import pytest

from scorers import judge
from scorers.models import AnswerKind


def test_the_instructions_get_the_samples_values_in_place_of_their_variables():
    text = judge.render("Q: {{ inputs }}\nA: {{outputs}}", {"inputs": "2+2?", "outputs": {"answer": 4}})
    assert text == 'Q: 2+2?\nA: {\n  "answer": 4\n}'


def test_a_sample_value_is_not_read_as_a_template():
    assert judge.render("{{ outputs }}", {"outputs": "{{ inputs }} {% debug %}"}) == "{{ inputs }} {% debug %}"


@pytest.mark.parametrize(
    ("instructions", "message"),
    [
        ("Rate it.", "Use at least one of {{ inputs }}, {{ outputs }} or {{ expectations }}."),
        ("Rate {{ output }}.", "Unknown variable {{ output }}; use {{ inputs }}, {{ outputs }} or {{ expectations }}."),
    ],
)
def test_instructions_must_use_known_variables(instructions, message):
    with pytest.raises(judge.TemplateError) as caught:
        judge.variables_in(instructions)
    assert str(caught.value) == message


def test_a_variable_the_instructions_use_must_be_given():
    with pytest.raises(judge.SampleError) as caught:
        judge.render("{{ outputs }} vs {{ expectations }}", {"outputs": "x"})
    assert (caught.value.field, str(caught.value)) == (
        "expectations",
        "These instructions use {{ expectations }}; give expectations.",
    )


def test_the_system_prompt_asks_for_the_scorers_answer_kind():
    system, user = judge.messages("{{ outputs }}", AnswerKind.SCALE, {"outputs": "x"})
    assert system["role"] == "system" and '"score": an integer from 1 (worst) to 5 (best)' in system["content"]
    assert user == {"role": "user", "content": "x"}


@pytest.mark.parametrize(
    ("text", "kind", "score", "reason"),
    [
        ('{"score": "yes", "reason": "Right."}', AnswerKind.YES_NO, "yes", "Right."),
        ('```json\n{"score": "No", "reason": "Wrong city."}\n```', AnswerKind.YES_NO, "no", "Wrong city."),
        ('{"result": true, "rationale": "ok"}', AnswerKind.YES_NO, "yes", "ok"),
        ('Here: {"score": 4, "reason": "Mostly."}', AnswerKind.SCALE, 4, "Mostly."),
        ('{"score": "5", "reason": "Perfect."}', AnswerKind.SCALE, 5, "Perfect."),
        ('{"score": 2.0, "reason": "Weak."}', AnswerKind.SCALE, 2, "Weak."),
        ("Yes. It names Paris.", AnswerKind.YES_NO, "yes", "Yes. It names Paris."),
        ("I'd give it 3: partly right.", AnswerKind.SCALE, 3, "I'd give it 3: partly right."),
    ],
)
def test_a_judges_answer_is_read(text, kind, score, reason):
    verdict = judge.read_answer(text, kind)
    assert (verdict.score, verdict.reason) == (score, reason)


NOT_A_SCALE_SCORE = "The judge's answer has no whole number from 1 to 5 as its score."


@pytest.mark.parametrize(
    ("text", "kind", "message"),
    [
        ('{"score": 7, "reason": "?"}', AnswerKind.SCALE, NOT_A_SCALE_SCORE),
        ('{"score": "maybe"}', AnswerKind.YES_NO, 'The judge\'s answer has no "yes" or "no" as its score.'),
        ('{"score": true}', AnswerKind.SCALE, NOT_A_SCALE_SCORE),
        ("I cannot tell.", AnswerKind.YES_NO, 'The judge\'s answer holds no "yes" or "no".'),
        ("Ten out of ten.", AnswerKind.SCALE, "The judge's answer holds no whole number from 1 to 5."),
    ],
)
def test_an_answer_without_a_score_of_the_right_kind_is_refused(text, kind, message):
    with pytest.raises(judge.AnswerError) as caught:
        judge.read_answer(text, kind)
    assert str(caught.value) == message and caught.value.answer == text
