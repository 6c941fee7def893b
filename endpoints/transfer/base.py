"""What the importers share: report lines, the refusal, environment references, the plan and the key book.

An importer reads a parsed YAML document into a :class:`Plan` (endpoints,
their models and the keys to create), writing a :class:`Line` for anything
it cannot carry over, with the YAML path it is about
(``model_list[3].litellm_params.foo``). ``service`` then applies the plan
through the normal services. No message here ever contains a secret or a
value read from the environment: they name paths and variables only, and a
secret is shown as its masked hint at most.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError

from catalog import services as catalog
from gatewaylib.endpoint_types import ENDPOINT_TYPES, TYPES
from gatewaylib.provider_apis import ANTHROPIC_BASE, GEMINI_BASE, OPENAI_COMPATIBLE
from keys import aws, crypto
from keys.models import DESTINATION_FIELDS

if TYPE_CHECKING:
    from endpoints.models import Endpoint
    from keys.models import Key

# -- report lines ------------------------------------------------------------------------------------

ERROR = "error"  # stops the import: nothing is created
SKIPPED = "skipped"  # in the file, not carried over; the rest is imported
NOTE = "note"  # carried over, but changed on the way (a name, weights)
REPORT_LEVELS = (ERROR, SKIPPED, NOTE)
LEVELS = (ERROR, SKIPPED, NOTE)

# Where a problem with the document as a whole is reported (the API's input field).
DOCUMENT = "config"


@dataclass(frozen=True)
class Line:
    """One line of an import's report: its level, the YAML path it is about ("" for the whole file), a sentence."""

    level: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message

    def as_dict(self) -> dict[str, str]:
        return {"level": self.level, "path": self.path, "message": self.message}


class Report:
    """The lines an import writes, in the order it finds them."""

    def __init__(self) -> None:
        self.lines: list[Line] = []

    def error(self, path: str, message: str) -> None:
        self.lines.append(Line(ERROR, path, message))

    def skipped(self, path: str, message: str) -> None:
        self.lines.append(Line(SKIPPED, path, message))

    def note(self, path: str, message: str) -> None:
        self.lines.append(Line(NOTE, path, message))

    def of(self, level: str) -> list[Line]:
        return [line for line in self.lines if line.level == level]

    @property
    def has_errors(self) -> bool:
        return any(line.level == ERROR for line in self.lines)


class ImportRefused(ValidationError):
    """An import that found errors and created nothing.

    A Django ``ValidationError`` of messages per YAML path
    (``{"model_list[0].litellm_params.api_key": ["..."]}``; the whole file's
    problems under ``config``), so the API answers it as any refusal (400,
    DRF's shape). ``lines`` is the whole report (what would have been skipped
    too) and ``format`` the format read, for the command and the page.
    """

    def __init__(self, lines: list[Line], format: str = "") -> None:
        problems: dict[str, list[str]] = defaultdict(list)
        for line in lines:
            if line.level == ERROR:
                problems[line.path or DOCUMENT].append(line.message)
        super().__init__(dict(problems))
        self.lines = lines
        self.format = format


def refuse(message: str, path: str = "") -> ImportRefused:
    return ImportRefused([Line(ERROR, path, message)])


# -- YAML paths ---------------------------------------------------------------------------------------


def at(path: str, name: Any) -> str:
    """``path`` one key deeper (``model_list[0]`` + ``litellm_params``)."""
    label = _label(name)
    return f"{path}.{label}" if path else label


def item(path: str, index: int) -> str:
    return f"{path}[{index}]"


def _label(name: Any) -> str:
    text = str(name)
    text = "".join(char if char.isprintable() else "?" for char in text)
    return text if len(text) <= 80 else text[:79] + "…"


# -- reading values -------------------------------------------------------------------------------------


def kind(value: Any) -> str:
    """What a YAML value is, in words, for a message that must not repeat the value."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "another kind of value"


def text_value(report: Report, path: str, value: Any, *, max_length: int = 2000) -> str | None:
    """A non-empty string without control characters, or None (reported)."""
    if not isinstance(value, str):
        report.error(path, f"Must be text, not {kind(value)}.")
        return None
    value = value.strip()
    if not value:
        report.error(path, "Must not be empty.")
        return None
    if len(value) > max_length:
        report.error(path, f"Must be at most {max_length} characters.")
        return None
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        report.error(path, "Must not contain control characters.")
        return None
    return value


def mapping(report: Report, path: str, value: Any, *, optional: bool = True) -> dict | None:
    if value is None and optional:
        return {}
    if not isinstance(value, dict):
        report.error(path, f"Must be a mapping, not {kind(value)}.")
        return None
    return value


# -- environment references -----------------------------------------------------------------------

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")
MAX_ENVIRONMENT = 200
MAX_VALUE = 64 * 1024  # a secret's own limit (keys.services.MAX_SECRET_LENGTH)


class Environment:
    """Where ``os.environ/NAME`` and ``$NAME`` references are looked up.

    The management commands read the process environment (the operator's
    shell). The web page and the API never do: any signed-in user could
    otherwise copy the server's own secrets (its encryption key, its
    database password) into a key pointed at a server of theirs. They look
    references up in the values given with the upload instead.
    """

    def __init__(self, values: Mapping[str, str], *, from_process: bool) -> None:
        self._values = values
        self.from_process = from_process

    def __repr__(self) -> str:  # never the values
        return f"<Environment {'process' if self.from_process else 'given'} names={len(self._values)}>"

    @classmethod
    def of_process(cls) -> Environment:
        return cls(os.environ, from_process=True)

    @classmethod
    def given(cls, values: Mapping[str, Any] | None) -> Environment:
        """Values sent with an upload; a bad name or value is a ``ValidationError`` under ``environment``."""
        values = dict(values or {})
        problems = []
        if len(values) > MAX_ENVIRONMENT:
            problems.append(f"Give at most {MAX_ENVIRONMENT} variables.")
        for name, value in values.items():
            if not isinstance(name, str) or not ENV_NAME.match(name):
                problems.append("Each name must be letters, digits and underscores, not starting with a digit.")
            elif not isinstance(value, str):
                problems.append(f"The value of {name} must be text.")
            elif len(value) > MAX_VALUE:
                problems.append(f"The value of {name} is longer than {MAX_VALUE} characters.")
        if problems:
            raise ValidationError({"environment": sorted(set(problems))})
        return cls(values, from_process=False)

    def with_overlay(self, values: Mapping[str, str]) -> Environment:
        """This environment with ``values`` in front (a LiteLLM config's own ``environment_variables``)."""
        return Environment({**self._values, **values}, from_process=self.from_process)

    def resolve(self, report: Report, path: str, name: str) -> str | None:
        """The value of variable ``name``, or None (reported at ``path``, by name only)."""
        if not ENV_NAME.match(name):
            report.error(path, "The reference does not name an environment variable (letters, digits, underscores).")
            return None
        value = self._values.get(name)
        if value is None:
            if self.from_process:
                report.error(path, f"The environment variable {name} is not set.")
            else:
                report.error(
                    path,
                    f"No value was given for the environment variable {name}: the web page and the API never "
                    "read the server's environment; give the value with the upload.",
                )
            return None
        if not value.strip():
            report.error(path, f"The environment variable {name} is empty.")
            return None
        return value


# -- endpoint names and types ---------------------------------------------------------------------

MAX_NAME = 64
_NOT_IN_NAME = re.compile(r"[^a-z0-9]+")


def endpoint_name(raw: str) -> str:
    """``raw`` as an endpoint name: lowercase letters, digits and dashes (``Claude 3.5`` -> ``claude-3-5``)."""
    return _NOT_IN_NAME.sub("-", raw.lower()).strip("-")[:MAX_NAME].rstrip("-")


def types_for_mode(mode: str) -> list[str]:
    """The endpoint types a model of catalog ``mode`` can serve, its own first (``chat`` -> chat, completion)."""
    served = [entry.value for entry in ENDPOINT_TYPES if mode in entry.modes]
    return sorted(served, key=lambda value: value != mode)


def is_endpoint_type(value: Any) -> bool:
    return isinstance(value, str) and value in TYPES


# -- providers -----------------------------------------------------------------------------------------

# The provider's own API, which a key leaves empty (the catalog then checks its models by name).
_OWN_BASES = {
    **{provider: base for provider, base in OPENAI_COMPATIBLE.items() if base and not catalog.is_self_hosted(provider)},
    "anthropic": ANTHROPIC_BASE,
    "gemini": GEMINI_BASE,
}


def own_api_base(provider: str, api_base: str) -> bool:
    """Whether ``api_base`` is just ``provider``'s own API (``https://api.openai.com/v1`` for openai)."""
    base = _OWN_BASES.get(provider)
    if not base:
        return False
    given = api_base.strip().rstrip("/")
    return given in {base.rstrip("/"), base.rstrip("/").removesuffix("/v1"), base.rstrip("/") + "/v1"}


def providers_listing(model_name: str) -> list[str]:
    """The catalog providers that list ``model_name``, by name."""
    return [p["name"] for p in catalog.list_providers() if catalog.get_model(p["name"], model_name) is not None]


# -- the plan --------------------------------------------------------------------------------------------

# A key's destination fields, less the provider (a plan holds that apart).
KEY_DESTINATION = tuple(name for name in DESTINATION_FIELDS if name != "provider")


@dataclass(eq=False)
class KeyPlan:
    """A key to create. ``secret`` never leaves this object except into ``keys.services.create_key``."""

    name: str
    provider: str
    destination: dict[str, str]
    secret: str = field(repr=False)
    secret_from: str = ""  # "os.environ/NAME", "$NAME", or "" (written in the file)
    paths: dict[str, str] = field(default_factory=dict)  # the key's fields -> where they came from
    key: Key | None = None  # once created
    failed: bool = False

    @property
    def masked_secret(self) -> str:
        return crypto.mask(aws.hint_of(self.secret))

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.key.public_id if self.key is not None else None,
            "name": self.name,
            "provider": self.provider,
            **{name: self.destination.get(name, "") for name in KEY_DESTINATION},
            "masked_secret": self.masked_secret,
            "secret_from": self.secret_from,
        }


@dataclass(eq=False)
class ExistingKey:
    """A key of the gateway, referenced by name (the gateway's own format)."""

    key: Key

    @property
    def name(self) -> str:
        return self.key.name

    failed = False


@dataclass(eq=False)
class ModelPlan:
    provider: str
    model_name: str
    key: KeyPlan | ExistingKey
    weight: float | None
    priority: int
    litellm_params: dict[str, Any]
    path: str  # the YAML entry this model came from
    paths: dict[str, str] = field(default_factory=dict)  # a ModelSpec field -> its YAML path

    def where(self, name: str) -> str:
        return self.paths.get(name, self.path)

    @property
    def weight_label(self) -> str:
        """The weight as people read it: 0.75, 1, 0.3333."""
        return f"{self.weight if self.weight is not None else 1.0:.4g}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "model_name": self.model_name,
            "key": self.key.name,
            "weight": self.weight if self.weight is not None else 1.0,
            "priority": self.priority,
            "litellm_params": dict(self.litellm_params),
        }


@dataclass(eq=False)
class EndpointPlan:
    name: str
    endpoint_type: str
    path: str
    models: list[ModelPlan] = field(default_factory=list)
    description: str = ""
    rate_limit_rpm: int | None = None
    rate_limit_tpm: int | None = None
    paths: dict[str, str] = field(default_factory=dict)  # an endpoint field -> its YAML path
    endpoint: Endpoint | None = None  # once created

    def where(self, name: str) -> str:
        return self.paths.get(name, self.path)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.endpoint.public_id if self.endpoint is not None else None,
            "name": self.name,
            "endpoint_type": self.endpoint_type,
            "description": self.description,
            "rate_limit_rpm": self.rate_limit_rpm,
            "rate_limit_tpm": self.rate_limit_tpm,
            "models": [model.as_dict() for model in self.models],
        }


@dataclass
class Plan:
    """What an importer read: the endpoints to create, the keys they need, and the report."""

    format: str
    endpoints: list[EndpointPlan] = field(default_factory=list)
    keys: list[KeyPlan] = field(default_factory=list)
    report: Report = field(default_factory=Report)


class KeyBook:
    """The keys an import creates: one per provider, secret and destination, each with a name of its own.

    A key is named after the first endpoint that needs it (``chat-prod-openai``);
    a name already taken, among the importer's keys or this import's, gets
    ``-2``, ``-3``, ... .
    """

    MAX_NAME = 100

    def __init__(self, taken: Iterable[str]) -> None:
        self._taken = set(taken)
        self._keys: dict[tuple[str, ...], KeyPlan] = {}

    @property
    def keys(self) -> list[KeyPlan]:
        return list(self._keys.values())

    def key_for(
        self,
        endpoint: str,
        provider: str,
        secret: str,
        destination: Mapping[str, str],
        *,
        secret_from: str,
        paths: Mapping[str, str],
    ) -> KeyPlan:
        destination = {name: value for name, value in destination.items() if value}
        identity = (provider, secret, *(destination.get(name, "") for name in KEY_DESTINATION))
        if identity not in self._keys:
            self._keys[identity] = KeyPlan(
                name=self._name(f"{endpoint}-{provider}"),
                provider=provider,
                destination=destination,
                secret=secret,
                secret_from=secret_from,
                paths=dict(paths),
            )
        return self._keys[identity]

    def _name(self, wanted: str) -> str:
        base = wanted[: self.MAX_NAME]
        name, number = base, 1
        while name in self._taken:
            number += 1
            suffix = f"-{number}"
            name = base[: self.MAX_NAME - len(suffix)] + suffix
        self._taken.add(name)
        return name
