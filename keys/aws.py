"""A Bedrock key's AWS credential: an access key (id, secret, optional session token) kept as one secret.

A Bedrock key's secret is either a Bedrock API key (sent as a bearer token)
or an AWS access key, which the forms and the API take as three fields and
store, encrypted like any secret, as one JSON document:
``{"aws_access_key_id": ..., "aws_secret_access_key": ..., "aws_session_token": ...}``.
Requests are then signed with it (Signature Version 4) for the key's region.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

ACCESS_KEY_ID, SECRET_ACCESS_KEY, SESSION_TOKEN = "aws_access_key_id", "aws_secret_access_key", "aws_session_token"
FIELDS = (ACCESS_KEY_ID, SECRET_ACCESS_KEY, SESSION_TOKEN)
PROVIDERS = frozenset({"bedrock"})
DEFAULT_REGION = "us-east-1"  # LiteLLM's and the AWS SDKs' default


@dataclass(frozen=True, slots=True)
class AwsCredentials:
    access_key_id: str = field(repr=False)  # shown only as its masked hint, like every secret
    secret_access_key: str = field(repr=False)
    session_token: str = field(default="", repr=False)

    @classmethod
    def from_secret(cls, secret: str) -> AwsCredentials | None:
        """The access key a stored secret holds, or None when it is something else (a Bedrock API key)."""
        if not secret.startswith("{"):
            return None
        try:
            data = json.loads(secret)
        except ValueError:
            return None
        if not isinstance(data, dict) or not data.get(ACCESS_KEY_ID) or not data.get(SECRET_ACCESS_KEY):
            return None
        return cls(data[ACCESS_KEY_ID], data[SECRET_ACCESS_KEY], data.get(SESSION_TOKEN) or "")

    def as_secret(self) -> str:
        """The stored document: the same names LiteLLM's parameters have."""
        return json.dumps(self.litellm_params())

    def litellm_params(self) -> dict[str, str]:
        params = {ACCESS_KEY_ID: self.access_key_id, SECRET_ACCESS_KEY: self.secret_access_key}
        if self.session_token:
            params[SESSION_TOKEN] = self.session_token
        return params


def hint_of(secret: str) -> str:
    """What a secret's masked hint is made from: an access key's id, or the secret itself."""
    credentials = AwsCredentials.from_secret(secret)
    return credentials.access_key_id if credentials is not None else secret


def _checked(name: str, value: str, limit: int) -> str:
    value = value.strip()
    if len(value) > limit or any(ord(char) < 33 or ord(char) == 127 for char in value):
        raise ValidationError({name: [f"Use at most {limit} characters, without spaces or control characters."]})
    return value


def compose(provider: str, fields: dict[str, str | None]) -> str | None:
    """The secret the three access-key fields make, or None when none was sent.

    Errors are reported under the field at fault and never echo a value.
    """
    sent = {name: value for name, value in fields.items() if name in FIELDS and value}
    if not sent:
        return None
    if provider not in PROVIDERS:
        raise ValidationError({name: ["AWS access keys apply to Bedrock keys only."] for name in sent})
    missing = [name for name in (ACCESS_KEY_ID, SECRET_ACCESS_KEY) if not sent.get(name)]
    if missing:
        raise ValidationError(
            {name: ["Enter the access key id and its secret access key together."] for name in missing}
        )
    credentials = AwsCredentials(
        _checked(ACCESS_KEY_ID, sent[ACCESS_KEY_ID], 128),
        _checked(SECRET_ACCESS_KEY, sent[SECRET_ACCESS_KEY], 256),
        _checked(SESSION_TOKEN, sent.get(SESSION_TOKEN) or "", 8192),
    )
    return credentials.as_secret()
