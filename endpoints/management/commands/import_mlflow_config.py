"""Import an MLflow AI Gateway config's endpoints (see endpoints.transfer.mlflow)."""

from __future__ import annotations

from endpoints.transfer import mlflow
from endpoints.transfer.text import ImportCommand


class Command(ImportCommand):
    help = (
        "Import an MLflow AI Gateway / deployments server config (endpoints, routes): each endpoint with its "
        "model, each *_api_key an encrypted key ($NAME read from this environment). Nothing is created when "
        "anything cannot be imported; --dry-run prints the plan only."
    )
    format = mlflow.FORMAT
