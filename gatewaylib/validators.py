"""Validators for text the gateway stores and shows back: no control characters.

A NUL cannot be stored in PostgreSQL text at all (the save would fail with a
500), and other control characters in names end up in log lines, headers and
pages where they can forge content. Names allow none; free text keeps tabs
and line breaks.

A plain callable rather than an inverse ``RegexValidator``: drf-spectacular
publishes a RegexValidator's pattern as one that values must *match*, which
would document the opposite of the rule.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

_LINE_BREAKS = frozenset("\t\n\r")


@deconstructible
class NoControlCharacters:
    message = "Remove the control characters from this text."
    code = "control_characters"

    def __init__(self, *, multiline: bool = False) -> None:
        self.multiline = multiline

    def __call__(self, value: str) -> None:
        allowed = _LINE_BREAKS if self.multiline else frozenset()
        if any((ord(char) < 32 or ord(char) == 127) and char not in allowed for char in str(value)):
            raise ValidationError(self.message, code=self.code)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NoControlCharacters) and other.multiline == self.multiline

    def __hash__(self) -> int:
        return hash((type(self), self.multiline))


no_control_characters = NoControlCharacters()
no_control_characters_multiline = NoControlCharacters(multiline=True)
