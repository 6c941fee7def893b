"""Validators for text the gateway stores and shows back: no control characters.

A NUL cannot be stored in PostgreSQL text at all (the save would fail with a
500), and other control characters in names end up in log lines, headers and
pages where they can forge content. Names allow none; free text keeps tabs
and line breaks.
"""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.utils.deconstruct import deconstructible


@deconstructible
class NoControlCharacters(RegexValidator):
    def __init__(self, *, multiline: bool = False) -> None:
        allowed = "\t\n\r" if multiline else ""
        forbidden = "".join(chr(code) for code in (*range(32), 127) if chr(code) not in allowed)
        super().__init__(
            regex=f"[{forbidden}]",
            inverse_match=True,
            message="Remove the control characters from this text.",
            code="control_characters",
        )
        self.multiline = multiline

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NoControlCharacters) and other.multiline == self.multiline


no_control_characters = NoControlCharacters()
no_control_characters_multiline = NoControlCharacters(multiline=True)
