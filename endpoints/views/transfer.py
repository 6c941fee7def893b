"""The import page (``/endpoints/import``) and the export download (``/endpoints/export``).

The rules are ``endpoints.transfer``'s; this module reads the upload and
shows the plan. A preview is a dry run; its "Import" button sends back a
sealed copy of what was uploaded (encrypted and authenticated with a key of
its own, bound to the user, valid for an hour), so the page never has to
show the YAML or the environment values again: they may hold secrets.
"""

from __future__ import annotations

import base64
import json
import zlib
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet, InvalidToken
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.crypto import salted_hmac
from django.views.decorators.http import require_GET, require_http_methods

from endpoints import transfer
from endpoints.transfer.base import ENV_NAME

if TYPE_CHECKING:
    from django.http import HttpRequest

PREVIEW_TTL_SECONDS = 3600
MAX_ENVIRONMENT_CHARS = 256 * 1024
FORMAT_CHOICES = [(transfer.AUTO, "Detect from the file"), *transfer.FORMATS.items()]


class ImportForm(forms.Form):
    """The upload: a file or pasted text, its format, and values for its environment references."""

    format = forms.ChoiceField(choices=FORMAT_CHOICES, initial=transfer.AUTO, label="Format")
    file = forms.FileField(required=False, label="YAML file")
    text = forms.CharField(required=False, strip=False, label="Or paste the YAML")
    environment = forms.CharField(required=False, strip=False, max_length=MAX_ENVIRONMENT_CHARS)

    def clean_file(self) -> str | None:
        upload = self.cleaned_data.get("file")
        if not upload:
            return None
        if upload.size is not None and upload.size > transfer.MAX_DOCUMENT_BYTES:
            raise ValidationError("The file is larger than 1 MiB.")
        try:
            return transfer.read_upload(upload)
        except transfer.ImportRefused as refusal:
            raise ValidationError([line.message for line in refusal.lines]) from None

    def clean_text(self) -> str:
        text = self.cleaned_data.get("text") or ""
        try:
            transfer.check_size(text)
        except transfer.ImportRefused as refusal:
            raise ValidationError([line.message for line in refusal.lines]) from None
        return text

    def clean_environment(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for number, line in enumerate((self.cleaned_data.get("environment") or "").splitlines(), start=1):
            if not line.strip():
                continue
            name, equals, value = line.partition("=")
            name = name.strip()
            if not equals or not ENV_NAME.match(name):
                # Never the line itself: it may hold a secret.
                raise ValidationError(f"Line {number} is not NAME=value.")
            values[name] = value
        return values

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        text, document = data.get("text") or "", data.get("file")
        if document is not None and text.strip():
            raise ValidationError("Upload a file or paste the YAML, not both.")
        if document is None and not text.strip():
            raise ValidationError("Upload a YAML file or paste its text.")
        data["document"] = document if document is not None else text
        return data


@login_required
@require_http_methods(["GET", "POST"])
def endpoint_import(request: HttpRequest) -> HttpResponse:
    """GET: the upload form. POST: a preview (dry run), an import, or the import of a previewed upload."""
    if request.method == "GET":
        return _page(request, ImportForm())
    if "sealed" in request.POST:
        upload = _unseal(request, request.POST["sealed"])
        if upload is None:
            problem = "This preview is too old or not yours: upload the file again."
            return _page(request, ImportForm(), page_errors=[problem], status=400)
        return _run(request, ImportForm(initial={"format": upload["format"]}), upload, dry_run=False)
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, form, status=400)
    upload = {
        "format": form.cleaned_data["format"],
        "text": form.cleaned_data["document"],
        "environment": form.cleaned_data["environment"],
    }
    return _run(request, form, upload, dry_run=request.POST.get("action") != "import")


def _run(request: HttpRequest, form: ImportForm, upload: dict[str, Any], *, dry_run: bool) -> HttpResponse:
    try:
        result = transfer.import_config(
            upload["text"],
            actor=request.user,
            format=upload["format"],
            dry_run=dry_run,
            environment=transfer.Environment.given(upload["environment"]),
        )
    except transfer.ImportRefused as refusal:
        return _page(request, form, refusal=refusal, status=400)
    except ValidationError as exc:
        return _page(request, form, page_errors=exc.messages, status=400)
    if dry_run:
        return _page(request, form, preview=result, sealed=_seal(request, upload))
    messages.success(
        request,
        f"Imported {len(result.endpoints)} endpoint(s) and {len(result.keys)} key(s). "
        "They are stopped: start each one to serve it.",
    )
    return _page(request, ImportForm(), imported=result)


def _page(request: HttpRequest, form: ImportForm, *, status: int = 200, **context: Any) -> HttpResponse:
    refusal = context.get("refusal")
    if refusal is not None:
        context["errors"] = [line for line in refusal.lines if line.level == transfer.ERROR]
        context["skipped"] = [line for line in refusal.lines if line.level == transfer.SKIPPED]
        context["notes"] = [line for line in refusal.lines if line.level == transfer.NOTE]
    context.update(form=form, formats=transfer.FORMATS)
    return render(request, "endpoints/import.html", context, status=status)


@login_required
@require_GET
def endpoint_export(request: HttpRequest) -> HttpResponse:
    """The endpoints the user can READ, as the gateway's YAML (no secrets), downloaded."""
    response = HttpResponse(transfer.export_endpoints(request.user), content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="endpoints.yaml"'
    return response


# -- the sealed upload -----------------------------------------------------------------------------------


def _fernet() -> Fernet:
    # A key of its own (not the keys' encryption key), derived from SECRET_KEY for this one purpose.
    digest = salted_hmac("endpoints.views.transfer.preview", "fernet", algorithm="sha256").digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _seal(request: HttpRequest, upload: dict[str, Any]) -> str:
    payload = json.dumps({"user": request.user.pk, **upload}).encode()
    return _fernet().encrypt(zlib.compress(payload)).decode()


def _unseal(request: HttpRequest, token: str) -> dict[str, Any] | None:
    try:
        payload = json.loads(zlib.decompress(_fernet().decrypt(token.encode(), ttl=PREVIEW_TTL_SECONDS)))
    except (InvalidToken, ValueError, TypeError, zlib.error):
        return None
    if not isinstance(payload, dict) or payload.get("user") != request.user.pk:
        return None
    if not all(isinstance(payload.get(name), kind) for name, kind in (("format", str), ("text", str))):
        return None
    if not isinstance(payload.get("environment"), dict):
        return None
    return payload
