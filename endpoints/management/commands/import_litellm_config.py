"""Import a LiteLLM proxy config's model_list as endpoints, their models and keys (see endpoints.transfer.litellm)."""

from __future__ import annotations

from endpoints.transfer import litellm
from endpoints.transfer.text import ImportCommand


class Command(ImportCommand):
    help = (
        "Import a LiteLLM proxy config (model_list): the deployments sharing a model_name become one endpoint, "
        "each api_key an encrypted key (os.environ/NAME read from this environment). Nothing is created when "
        "anything cannot be imported; --dry-run prints the plan only."
    )
    format = litellm.FORMAT
