"""Import and export of endpoints: LiteLLM proxy configs, MLflow AI Gateway configs and the gateway's own format.

The management commands (``import_litellm_config``, ``import_mlflow_config``,
``import_endpoints``, ``export_endpoints``), the API
(``endpoints/import``, ``endpoints/export``) and the import page all call
``import_config`` and ``export_endpoints`` (``service``). Each format has its
reader: ``litellm``, ``mlflow``, ``native`` (which also writes the export);
``base`` holds the report lines, the plan and the environment references,
``text`` the terminal output and the commands' shared code.
"""

from __future__ import annotations

from endpoints.transfer.base import DOCUMENT, ERROR, NOTE, SKIPPED, Environment, ImportRefused, Line
from endpoints.transfer.service import (
    AUTO,
    FORMATS,
    MAX_DOCUMENT_BYTES,
    ImportResult,
    check_size,
    decode,
    detect,
    export_endpoints,
    import_config,
    load,
    read_upload,
)

__all__ = [
    "AUTO",
    "DOCUMENT",
    "ERROR",
    "FORMATS",
    "MAX_DOCUMENT_BYTES",
    "NOTE",
    "SKIPPED",
    "Environment",
    "ImportRefused",
    "ImportResult",
    "Line",
    "check_size",
    "decode",
    "detect",
    "export_endpoints",
    "import_config",
    "load",
    "read_upload",
]
