"""Copy-paste examples for calling an endpoint, per endpoint type."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from endpoints.routing import native_apis
from gatewaylib.endpoint_types import BEDROCK, GEMINI, GEMINI_VERSION, NATIVE_API_PREFIXES, VERTEX, VERTEX_VERSION

if TYPE_CHECKING:
    from django.http import HttpRequest

    from endpoints.models import Endpoint, EndpointModel

TOKEN_PLACEHOLDER = "<your gateway token>"

# endpoint type -> (OpenAI-compatible path, example JSON body, OpenAI SDK call)
EXAMPLES: dict[str, tuple[str, dict, str]] = {
    "chat": (
        "chat/completions",
        {"messages": [{"role": "user", "content": "Hello!"}]},
        'response = client.chat.completions.create(\n    model="{name}",\n'
        '    messages=[{{"role": "user", "content": "Hello!"}}],\n)\nprint(response.choices[0].message.content)',
    ),
    "completion": (
        "completions",
        {"prompt": "Once upon a time", "max_tokens": 64},
        'response = client.completions.create(model="{name}", prompt="Once upon a time", max_tokens=64)\n'
        "print(response.choices[0].text)",
    ),
    "embedding": (
        "embeddings",
        {"input": ["The quick brown fox"]},
        'response = client.embeddings.create(model="{name}", input=["The quick brown fox"])\n'
        "print(len(response.data[0].embedding))",
    ),
    "image_generation": (
        "images/generations",
        {"prompt": "A lighthouse at dawn, watercolor", "n": 1},
        'response = client.images.generate(model="{name}", prompt="A lighthouse at dawn, watercolor")\n'
        "print(response.data[0].url)",
    ),
    "audio_speech": (
        "audio/speech",
        {"input": "Hello from the gateway.", "voice": "alloy"},
        'response = client.audio.speech.create(model="{name}", voice="alloy", input="Hello from the gateway.")\n'
        'response.write_to_file("speech.mp3")',
    ),
    "audio_transcription": (
        "audio/transcriptions",
        {},
        'with open("audio.mp3", "rb") as audio:\n'
        '    response = client.audio.transcriptions.create(model="{name}", file=audio)\nprint(response.text)',
    ),
    "moderation": (
        "moderations",
        {"input": "Some text to check"},
        'response = client.moderations.create(model="{name}", input="Some text to check")\n'
        "print(response.results[0].flagged)",
    ),
    "rerank": (
        "rerank",
        {"query": "capital of France", "documents": ["Paris is in France.", "Berlin is in Germany."]},
        "",
    ),
    "search": ("search", {"query": "latest LLM gateway releases", "max_results": 5}, ""),
}


# endpoint type -> the google-genai call, for the types Gemini's API serves.
GEMINI_EXAMPLES: dict[str, str] = {
    "chat": 'response = client.models.generate_content(model="{name}", contents="Hello!")\nprint(response.text)',
    "embedding": 'result = client.models.embed_content(model="{name}", contents=["The quick brown fox"])\n'
    "print(len(result.embeddings[0].values))",
}


def usage_snippets(endpoint: Endpoint, request: HttpRequest, models: list[EndpointModel]) -> dict[str, str]:
    """``{"curl": ..., "python": ...}`` for the endpoint's type; ``"gemini"``, ``"vertex"``, ``"bedrock"`` where
    those APIs serve it."""
    path, body, sdk_call = EXAMPLES[endpoint.endpoint_type]
    url = request.build_absolute_uri(endpoint.invocation_path)
    base_url = request.build_absolute_uri("/v1")
    snippets = {"curl": _curl(url, body), "python": _python(endpoint.name, base_url, path, body, sdk_call)}
    apis = native_apis(endpoint.endpoint_type, models)
    if GEMINI in apis:
        gemini_base = request.build_absolute_uri(NATIVE_API_PREFIXES[GEMINI])
        snippets["gemini"] = _gemini(endpoint.name, gemini_base, endpoint.endpoint_type)
    if VERTEX in apis:
        vertex_base = request.build_absolute_uri(NATIVE_API_PREFIXES[VERTEX])
        snippets["vertex"] = _vertex(endpoint.name, vertex_base, endpoint.endpoint_type)
    if BEDROCK in apis:
        bedrock_url = request.build_absolute_uri(NATIVE_API_PREFIXES[BEDROCK])
        snippets["bedrock"] = _bedrock(endpoint.name, bedrock_url, endpoint.endpoint_type)
    return snippets


# endpoint type -> the boto3 bedrock-runtime call, for the types Bedrock's API serves.
BEDROCK_EXAMPLES: dict[str, str] = {
    "chat": 'response = client.converse(\n    modelId="{name}",\n'
    '    messages=[{{"role": "user", "content": [{{"text": "Hello!"}}]}}],\n)\n'
    'print(response["output"]["message"]["content"][0]["text"])',
    # InvokeModel takes the model's own body: Titan's here.
    "embedding": "response = client.invoke_model(\n"
    '    modelId="{name}", body=json.dumps({{"inputText": "The quick brown fox"}})\n)\n'
    'print(len(json.loads(response["body"].read())["embedding"]))',
}


def _bedrock(name: str, endpoint_url: str, endpoint_type: str) -> str:
    # boto3 signs with the token as its access key id; the secret and region are the SDK's to need, not ours.
    imports = "import json\n\nimport boto3" if endpoint_type == "embedding" else "import boto3"
    return (
        f"{imports}\n\nclient = boto3.client(\n"
        f'    "bedrock-runtime",\n    endpoint_url="{endpoint_url}",\n    region_name="us-east-1",\n'
        f'    aws_access_key_id="{TOKEN_PLACEHOLDER}",\n    aws_secret_access_key="unused",\n)\n\n'
        + BEDROCK_EXAMPLES[endpoint_type].format(name=name)
    )


def _gemini(name: str, base_url: str, endpoint_type: str) -> str:
    return (
        "from google import genai\nfrom google.genai import types\n\nclient = genai.Client(\n"
        f'    api_key="{TOKEN_PLACEHOLDER}",\n'
        f'    http_options=types.HttpOptions(base_url="{base_url}", api_version="{GEMINI_VERSION}"),\n)\n\n'
        + GEMINI_EXAMPLES[endpoint_type].format(name=name)
    )


def _vertex(name: str, base_url: str, endpoint_type: str) -> str:
    # The project and location are the SDK's to send and the key's to decide: any values do.
    return (
        "from google import genai\nfrom google.genai import types\n"
        "from google.oauth2.credentials import Credentials\n\n"
        'client = genai.Client(\n    vertexai=True,\n    project="gateway",\n    location="global",\n'
        f'    credentials=Credentials(token="{TOKEN_PLACEHOLDER}"),\n'
        f'    http_options=types.HttpOptions(base_url="{base_url}", api_version="{VERTEX_VERSION}"),\n)\n\n'
        + GEMINI_EXAMPLES[endpoint_type].format(name=name)
    )


def _curl(url: str, body: dict) -> str:
    lines = [f"curl {url}", '  -H "Authorization: Bearer $GATEWAY_TOKEN"']
    if body:
        payload = json.dumps(body).replace("'", "'\\''")
        lines += ['  -H "Content-Type: application/json"', f"  -d '{payload}'"]
    else:
        lines.append("  -F file=@audio.mp3")
    return " \\\n".join(lines)


def _python(name: str, base_url: str, path: str, body: dict, sdk_call: str) -> str:
    if not sdk_call:
        # The OpenAI SDK has no rerank or search call; any HTTP client does.
        payload = json.dumps({"model": name, **body}, indent=4)
        return (
            f'import httpx\n\nresponse = httpx.post(\n    "{base_url}/{path}",\n'
            f'    headers={{"Authorization": "Bearer {TOKEN_PLACEHOLDER}"}},\n'
            f"    json={payload.replace(chr(10), chr(10) + '    ')},\n)\nprint(response.json())"
        )
    return (
        f'from openai import OpenAI\n\nclient = OpenAI(base_url="{base_url}", api_key="{TOKEN_PLACEHOLDER}")\n\n'
        + sdk_call.format(name=name)
    )
