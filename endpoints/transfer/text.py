"""An import's plan and report, and the export, for people reading a terminal (the management commands).

Secrets appear only as their masked hint (``sk-...abcd``) and where they
were read from (``os.environ/OPENAI_API_KEY``).
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from endpoints.transfer.base import ERROR, NOTE, SKIPPED, Environment, ImportRefused, Line
from endpoints.transfer.service import AUTO, FORMATS, MAX_DOCUMENT_BYTES, ImportResult, decode, import_config

if TYPE_CHECKING:
    from endpoints.transfer.base import EndpointPlan, KeyPlan

HEADINGS = {ERROR: "Errors", SKIPPED: "Not imported", NOTE: "Notes"}


def plan_lines(result: ImportResult) -> list[str]:
    """The endpoints, models and keys of an import, one line each."""
    out = [f"Format: {result.format_label}.", "", f"Endpoints ({len(result.endpoints)}):"]
    for endpoint in result.endpoints:
        out.append("  " + _endpoint_line(endpoint))
        for model in endpoint.models:
            params = f"  {json.dumps(model.litellm_params, sort_keys=True)}" if model.litellm_params else ""
            out.append(
                f"    {model.provider}/{model.model_name}  priority {model.priority}  weight {model.weight_label}"
                f"  key {model.key.name}{params}"
            )
    if result.keys:
        out += ["", f"Keys to create ({len(result.keys)}):"] + ["  " + key_line(key) for key in result.keys]
    if result.existing_keys:
        out += ["", f"Keys used ({len(result.existing_keys)}):"]
        out += [f"  {key.name}  {key.provider}" for key in result.existing_keys]
    return out


def _endpoint_line(endpoint: EndpointPlan) -> str:
    parts = [endpoint.name, endpoint.endpoint_type]
    if endpoint.rate_limit_rpm:
        parts.append(f"limit {endpoint.rate_limit_rpm} requests/min")
    if endpoint.rate_limit_tpm:
        parts.append(f"limit {endpoint.rate_limit_tpm} tokens/min")
    if endpoint.endpoint is not None:
        parts.append(f"id {endpoint.endpoint.public_id}")
    return "  ".join(parts)


def key_line(key: KeyPlan) -> str:
    parts = [key.name, key.provider]
    parts += [f"{name} {value}" for name, value in key.destination.items()]
    if key.secret:
        source = f"from {key.secret_from}" if key.secret_from else "written in the file"
        parts.append(f"secret {key.masked_secret} {source}")
    else:
        parts.append("no secret")
    if key.key is not None:
        parts.append(f"id {key.key.public_id}")
    return "  ".join(parts)


def report_lines(lines: list[Line], levels: tuple[str, ...] = (ERROR, SKIPPED, NOTE)) -> list[str]:
    out: list[str] = []
    for level in levels:
        chosen = [line for line in lines if line.level == level]
        if chosen:
            out += ["", f"{HEADINGS[level]} ({len(chosen)}):"] + [f"  {line}" for line in chosen]
    return out


def result_lines(result: ImportResult) -> list[str]:
    out = plan_lines(result) + report_lines(result.lines)
    if result.dry_run:
        out += ["", "Dry run: nothing was created."]
    else:
        out += [
            "",
            f"Created {len(result.endpoints)} endpoint(s) and {len(result.keys)} key(s); their owner manages them. "
            "They are stopped: start each one to serve it.",
        ]
    return out


def refusal_lines(refusal: ImportRefused) -> list[str]:
    heading = [f"Format: {FORMATS[refusal.format]}."] if refusal.format else []
    return [*heading, "Refused: nothing was created.", *report_lines(refusal.lines)]


class ImportCommand(BaseCommand):
    """What the import commands share: read a file, import it as ``--owner``, print the plan or the refusal."""

    format = AUTO

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help=f"The YAML file (at most {MAX_DOCUMENT_BYTES // 1024} KiB); - reads stdin.")
        parser.add_argument("--dry-run", action="store_true", help="Print the plan and create nothing.")
        parser.add_argument(
            "--owner",
            metavar="USERNAME",
            help="Who imports: becomes the manager of every key and endpoint created "
            "(default: the one superuser, when there is exactly one).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        owner = find_owner(options["owner"])
        text = read_path(options["path"])
        try:
            result = import_config(
                text,
                actor=owner,
                format=options.get("format") or self.format,
                dry_run=options["dry_run"],
                environment=Environment.of_process(),
            )
        except ImportRefused as refusal:
            self.stderr.write("\n".join(refusal_lines(refusal)))
            errors = len([line for line in refusal.lines if line.level == ERROR])
            raise CommandError(f"{errors} error(s): nothing was imported.") from None
        self.stdout.write("\n".join(result_lines(result)))


def read_path(path: str) -> str:
    try:
        if path == "-":
            data = sys.stdin.buffer.read(MAX_DOCUMENT_BYTES + 1)
        else:
            with open(path, "rb") as handle:
                data = handle.read(MAX_DOCUMENT_BYTES + 1)
    except OSError as exc:
        raise CommandError(f"Cannot read {path}: {exc.strerror or exc.__class__.__name__}.") from None
    if len(data) > MAX_DOCUMENT_BYTES:
        raise CommandError(f"{path} is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB.")
    try:
        return decode(data)
    except ImportRefused as refusal:
        raise CommandError(str(refusal.lines[0])) from None


def find_owner(username: str | None):
    users = get_user_model()
    if username:
        try:
            user = users._default_manager.get_by_natural_key(username)
        except users.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        if not user.is_active:
            raise CommandError(f"User {username!r} is not active.")
        return user
    superusers = list(users._default_manager.filter(is_superuser=True, is_active=True)[:2])
    if len(superusers) != 1:
        raise CommandError("Pass --owner USERNAME: whoever imports becomes the manager of what is created.")
    return superusers[0]
