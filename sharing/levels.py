"""The four permission levels. Each level includes the ones below it.

A level is stored as one guardian object permission per principal whose
codename is ``<level>_<model>`` (``read_key``, ``manage_endpoint``...).
"""

from __future__ import annotations

import enum


class Level(enum.IntEnum):
    READ = 1
    USE = 2
    EDIT = 3
    MANAGE = 4

    @classmethod
    def parse(cls, value: str) -> Level:
        try:
            return cls[str(value).upper()]
        except KeyError:
            raise ValueError(f"Unknown level {value!r}; choose one of {', '.join(cls.__members__)}.") from None

    def codename(self, model_name: str) -> str:
        return f"{self.name.lower()}_{model_name}"


LEVEL_DESCRIPTIONS = {
    Level.READ: "Can see it",
    Level.USE: "Can use it",
    Level.EDIT: "Can change it",
    Level.MANAGE: "Can delete and share it",
}


def level_permissions(model_name: str) -> list[tuple[str, str]]:
    """``Meta.permissions`` for a shareable model."""
    return [(level.codename(model_name), f"{level.name.title()}: {LEVEL_DESCRIPTIONS[level]}") for level in Level]


def level_from_codename(codename: str) -> Level | None:
    prefix = codename.split("_", 1)[0].upper()
    return Level.__members__.get(prefix)
