"""Small validators for proxied request bodies; the per-route tables that use them are in ``allowlist.py``.

Each validator checks one parsed JSON value and raises :class:`Invalid` in
OpenAI's vocabulary (a ``param`` path such as ``messages[0].role``, a
message, a ``code``). They are plain objects whose bounds are attributes, so
tests can generate values (valid and not) from the same tables.

They run on every proxied request, so they stay cheap: an exact ``type()``
test and a comparison or two per field, a loop for containers, and the
param path is only built when something is wrong (each container prefixes
its part while the exception passes through). ``null`` means "not sent" for
any key of an object (the top-level body included); array items are never
null.
"""

from __future__ import annotations

from typing import Any, NamedTuple

TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    float: "a decimal",
    bool: "a boolean",
    dict: "an object",
    list: "an array",
    type(None): "null",
}


class Invalid(Exception):
    """One problem with a request field. ``message`` spells ``{param}`` once, before any client value."""

    def __init__(self, message: str, code: str, param: str = "") -> None:
        super().__init__(message)
        self.template, self.code, self.param = message, code, param

    def inside(self, prefix: str) -> Invalid:
        self.param = prefix + self.param
        return self

    @property
    def message(self) -> str:
        return self.template.replace("{param}", self.param, 1)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class Validator:
    """Base: ``types`` are the Python types of the JSON values it can accept."""

    types: tuple[type, ...] = ()
    kind = "a value"

    def check(self, value: Any) -> None:
        raise NotImplementedError

    def wrong_type(self, value: Any) -> Invalid:
        got = TYPE_NAMES.get(type(value), "a value")
        return Invalid(f"Invalid type for '{{param}}': expected {self.kind}, but got {got} instead.", "invalid_type")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in vars(self).items())})"


class Str(Validator):
    types, kind = (str,), "a string"

    def __init__(self, *, choices: tuple[str, ...] = (), min_length: int = 0) -> None:
        self.choices, self.min_length = frozenset(choices), min_length

    def check(self, value: Any) -> None:
        if type(value) is not str:
            raise self.wrong_type(value)
        if len(value) < self.min_length:
            raise Invalid(
                f"Invalid '{{param}}': string too short. Expected a string with minimum length {self.min_length}.",
                "string_below_min_length",
            )
        if self.choices and value not in self.choices:
            supported = ", ".join(f"'{c}'" for c in sorted(self.choices))
            raise Invalid(
                f"Invalid value for '{{param}}': {_show(value)}. Supported values are: {supported}.", "invalid_value"
            )


class Bool(Validator):
    types, kind = (bool,), "a boolean"

    def check(self, value: Any) -> None:
        if value is not True and value is not False:
            raise self.wrong_type(value)


class Num(Validator):
    """A number within ``[minimum, maximum]`` (never a boolean, never NaN or infinite)."""

    types, kind, word = (int, float), "a number", "decimal"

    def __init__(self, minimum: float, maximum: float) -> None:
        self.minimum, self.maximum = minimum, maximum

    def check(self, value: Any) -> None:
        if type(value) not in self.types:
            raise self.wrong_type(value)
        if self.minimum <= value <= self.maximum:
            return
        if value > self.maximum:
            raise Invalid(
                f"Invalid '{{param}}': {self.word} above maximum value. "
                f"Expected a value <= {self.maximum}, but got {_show(value)} instead.",
                f"{self.word}_above_max_value",
            )
        if value < self.minimum:
            raise Invalid(
                f"Invalid '{{param}}': {self.word} below minimum value. "
                f"Expected a value >= {self.minimum}, but got {_show(value)} instead.",
                f"{self.word}_below_min_value",
            )
        raise Invalid("Invalid '{param}': expected a finite number.", "invalid_value")  # NaN


class Int(Num):
    types, kind, word = (int,), "an integer", "integer"


class Upload(Validator):
    """A multipart file part, as ``_read_multipart`` passes it on: ``(name, bytes, content type)``."""

    types, kind = (tuple,), "a file"

    def check(self, value: Any) -> None:
        if type(value) is not tuple:
            raise self.wrong_type(value)


class Obj(Validator):
    """An object: typed known keys (others allowed unless ``closed``), or one validator for every value."""

    types, kind = (dict,), "an object"

    def __init__(
        self,
        fields: dict[str, Validator] | None = None,
        *,
        required: tuple[str, ...] = (),
        closed: bool = False,
        values: Validator | None = None,
    ) -> None:
        self.fields, self.required, self.closed, self.values = fields or {}, required, closed, values

    def check(self, value: Any) -> None:
        if type(value) is not dict:
            raise self.wrong_type(value)
        check_object(value, self.fields, self.required, self.closed, self.values)


class Part(Obj):
    """A content part or block: its ``type`` names the key that carries it, which must be there.

    ``{"type": "image_url"}`` without ``image_url`` crashes LiteLLM (a 502);
    the public APIs require the key anyway.
    """

    def __init__(self, fields: dict[str, Validator]) -> None:
        super().__init__(fields, required=("type",))

    def check(self, value: Any) -> None:
        super().check(value)
        kind = value["type"]
        if kind != "type" and kind in self.fields and value.get(kind) is None:
            raise Invalid("Missing required parameter: '{param}'.", "missing_required_parameter", f".{kind}")


def check_object(
    value: dict, fields: dict[str, Validator], required: tuple[str, ...], closed: bool, values: Validator | None
) -> None:
    for name in required:
        if value.get(name) is None:
            raise Invalid("Missing required parameter: '{param}'.", "missing_required_parameter", f".{name}")
    for name, item in value.items():
        validator = fields.get(name, values)
        if validator is None:
            if closed:
                raise Invalid("Unrecognized request argument supplied: {param}", "unknown_parameter", f".{name}")
        elif item is not None:
            try:
                validator.check(item)
            except Invalid as problem:
                raise problem.inside(f".{name}") from None


class Arr(Validator):
    types, kind = (list,), "an array"

    def __init__(self, items: Validator | None = None, *, max_items: int | None = None) -> None:
        self.items, self.max_items = items, max_items

    def check(self, value: Any) -> None:
        if type(value) is not list:
            raise self.wrong_type(value)
        if self.max_items is not None and len(value) > self.max_items:
            raise Invalid(
                f"Invalid '{{param}}': array too long. Expected an array with maximum length {self.max_items}.",
                "array_above_max_length",
            )
        if self.items is not None:
            check = self.items.check
            for index, item in enumerate(value):
                try:
                    check(item)
                except Invalid as problem:
                    raise problem.inside(f"[{index}]") from None


class AnyOf(Validator):
    """Accepts what any option of the right type accepts."""

    def __init__(self, *options: Validator) -> None:
        self.options = options
        self.types = tuple(t for option in options for t in option.types)
        self.kind = " or ".join(dict.fromkeys(option.kind for option in options))

    def check(self, value: Any) -> None:
        best: Invalid | None = None
        for option in self.options:
            if type(value) in option.types:
                try:
                    option.check(value)
                    return
                except Invalid as problem:
                    # The option that got deepest into the value explains it best.
                    if best is None or len(problem.param) > len(best.param):
                        best = problem
        raise best or self.wrong_type(value)


class Anything(Validator):
    """Any JSON value: a field of a body in a model's own format, which its provider checks."""

    kind = "any value"

    def check(self, value: Any) -> None:
        return None


ANYTHING = Anything()


class OpenFields(dict):
    """The field table of a body in a model's own format (Bedrock's InvokeModel): any other field is allowed.

    Only where nothing reads the body but the provider: the direct path sends
    it as it came to the key's URL with the key's credential, so no field of
    it can move the call. The names that would move a LiteLLM call
    (``refused``) are refused all the same, as on every other route: a client
    never gets to name a destination or a credential.
    """

    def __init__(self, refused: frozenset[str]) -> None:
        super().__init__()
        self.refused = refused

    def get(self, name: str, default: Any = None) -> Validator | None:
        return None if name in self.refused else super().get(name, ANYTHING)


class Role(NamedTuple):
    """What a message of one role may carry as ``content``; ``required`` refuses a missing or null one."""

    content: Validator
    required: bool = True


class Message(Validator):
    """A chat message: an object with a known ``role``, the ``content`` that role allows, typed other keys."""

    types, kind = (dict,), "an object"

    def __init__(self, roles: dict[str, Role], fields: dict[str, Validator] | None = None) -> None:
        self.roles, self.fields = roles, fields or {}
        self.supported = ", ".join(f"'{r}'" for r in roles)

    def check(self, value: Any) -> None:
        if type(value) is not dict:
            raise self.wrong_type(value)
        role = self.roles.get(value.get("role"))  # type: ignore[arg-type]
        if role is None:
            if value.get("role") is None:
                raise Invalid("Missing required parameter: '{param}'.", "missing_required_parameter", ".role")
            shown = _show(value["role"])
            raise Invalid(
                f"Invalid value for '{{param}}': {shown}. Supported values are: {self.supported}.",
                "invalid_value",
                ".role",
            )
        content = value.get("content")
        if content is None:
            if role.required:
                raise Invalid("Missing required parameter: '{param}'.", "missing_required_parameter", ".content")
        else:
            try:
                role.content.check(content)
            except Invalid as problem:
                raise problem.inside(".content") from None
        check_object(value, self.fields, (), False, None)


def check_body(fields: dict[str, Validator], required: tuple[str, ...], body: dict[str, Any]) -> None:
    """Raise :class:`Invalid` for the first problem in ``body``. ``model`` is the resolver's business."""
    for name, value in body.items():
        validator = fields.get(name)
        if validator is None:
            if name == "model":
                continue
            raise Invalid("Unrecognized request argument supplied: {param}", "unknown_parameter", name)
        if value is not None:
            try:
                validator.check(value)
            except Invalid as problem:
                raise problem.inside(name) from None
    for name in required:
        if body.get(name) in (None, "", []):
            raise Invalid("Missing required parameter: '{param}'.", "missing_required_parameter", name)
