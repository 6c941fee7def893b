"""Bedrock Runtime's own API through the gateway, with boto3's ``bedrock-runtime`` client as the caller.

A team whose code already calls Bedrock points boto3's ``endpoint_url`` at
``<gateway>/bedrock`` and signs with a gateway token as its access key id (or
sends the token as a Bedrock API key); the endpoint's name stands where the
model id would. The key's own AWS access key signs what goes upstream, for
the key's region; the client's token and signature never go further.
"""

from __future__ import annotations

import json

import boto3
import httpx
import litellm
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError, EventStreamError

from endpoints.routing import endpoint_secrets
from gatewaylib import eventstream
from sharing.levels import Level

pytestmark = pytest.mark.django_db(transaction=True)

ACCESS_KEY_ID = "AKIAGATEWAYTESTKEY01"
SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYgatewaySECRET"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEGatewaySessionToken0123456789"
BEDROCK_API_KEY = "ABSKQmVkcm9ja0FQSUtleS1nYXRld2F5LXRlc3Q="
CLAUDE = "anthropic.claude-3-5-haiku-20241022-v1:0"
NOVA = "amazon.nova-lite-v1:0"


def client_for(gateway, token: str):
    """boto3 as a team's code builds it, with the gateway token as the access key id (any secret signs)."""
    return boto3.client(
        "bedrock-runtime",
        region_name="eu-west-3",  # the client's region is not the one called: the key's is
        endpoint_url=f"{gateway.url}/bedrock",
        aws_access_key_id=token,
        aws_secret_access_key="not-checked",
        config=Config(retries={"max_attempts": 1}, read_timeout=30),
    )


@pytest.fixture
def aws_key(world):
    """alice's Bedrock key: an AWS access key with a session token, for eu-central-1, at the fake upstream."""
    return world.make_key(
        "bedrock",
        name="bedrock",
        secret="",
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
        aws_session_token=SESSION_TOKEN,
        region="eu-central-1",
        api_base=world.upstream.url,
    )


def bedrock_model(key, name: str, **extra) -> dict:
    return {"provider": "bedrock", "model_name": name, "key_id": key.public_id, "litellm_params": {}, **extra}


@pytest.fixture
def chat(world, aws_key):
    """``ask``: a running chat endpoint of two Bedrock models, 70/30."""
    models = [bedrock_model(aws_key, CLAUDE, weight=0.7), bedrock_model(aws_key, NOVA, weight=0.3)]
    return world.endpoint(name="ask", models=models)


def assert_signed_by_the_key(call: dict) -> None:
    """The upstream request carries a valid Signature Version 4 of the key's access key, for its region."""
    headers = call["headers"]
    credential = headers["authorization"].split("Credential=")[1].split(",")[0]
    key_id, day, region, service, _ = credential.split("/")
    assert (key_id, region, service) == (ACCESS_KEY_ID, "eu-central-1", "bedrock")
    assert headers["x-amz-security-token"] == SESSION_TOKEN
    signed = headers["authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    request = AWSRequest(
        method="POST",
        url=f"http://{headers['host']}{call['raw_path']}",
        data=call["raw"].encode(),
        headers={name: headers[name] for name in signed},
    )
    request.context["timestamp"] = headers["x-amz-date"]
    auth = SigV4Auth(Credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY, SESSION_TOKEN), "bedrock", "eu-central-1")
    canonical = auth.canonical_request(request)
    assert (
        auth.signature(auth.string_to_sign(request, canonical), request)
        == headers["authorization"].split("Signature=")[1]
    )
    assert day == headers["x-amz-date"][:8]


# -- boto3's calls ---------------------------------------------------------------------------------


def test_converse_reaches_a_bedrock_model_signed_with_the_keys_access_key_and_is_metered(gateway, world, chat):
    client = client_for(gateway, world.token(world.alice))

    response = client.converse(modelId="ask", messages=[{"role": "user", "content": [{"text": "Say hello there"}]}])

    text = response["output"]["message"]["content"][0]["text"]
    assert text in {f"Hello from {CLAUDE}", f"Hello from {NOVA}"}
    assert response["usage"] == {"inputTokens": 3, "outputTokens": 3, "totalTokens": 6}
    [call] = world.calls_to("/converse")
    assert call["model"] == text.removeprefix("Hello from ")
    assert call["raw_path"] == f"/model/{call['model'].replace(':', '%3A')}/converse"
    assert_signed_by_the_key(call)
    assert world.token(world.alice) not in str(call["headers"])
    assert call["json"] == {"messages": [{"role": "user", "content": [{"text": "Say hello there"}]}]}
    [row] = world.logged(chat)
    assert (row.status_code, row.prompt_tokens, row.completion_tokens) == (200, 3, 3)
    assert row.model_served == f"bedrock/{call['model']}"
    assert row.user_id == world.alice.pk


def test_a_converse_stream_arrives_event_by_event_and_its_usage_is_recorded(gateway, world, chat):
    world.upstream.configure("*", chunks=["one", " two", " three", " four"])
    client = client_for(gateway, world.token(world.alice))

    response = client.converse_stream(
        modelId="ask",
        messages=[{"role": "user", "content": [{"text": "count to four"}]}],
        inferenceConfig={"maxTokens": 20, "temperature": 0.5},
    )
    events = list(response["stream"])

    deltas = [event["contentBlockDelta"]["delta"]["text"] for event in events if "contentBlockDelta" in event]
    assert deltas == ["one", " two", " three", " four"]
    assert events[-1]["metadata"]["usage"] == {"inputTokens": 3, "outputTokens": 4, "totalTokens": 7}
    [call] = world.calls_to("/converse-stream")
    assert call["headers"]["accept"] == "application/vnd.amazon.eventstream"
    assert call["json"]["inferenceConfig"] == {"maxTokens": 20, "temperature": 0.5}
    assert_signed_by_the_key(call)
    [row] = world.logged(chat)
    assert (row.status_code, row.stream, row.prompt_tokens, row.completion_tokens) == (200, True, 3, 4)
    assert row.ttft_ms is not None


def test_invoke_model_passes_the_models_own_body_and_counts_bedrocks_usage_headers(gateway, world, aws_key):
    endpoint = world.endpoint(name="claude", models=[bedrock_model(aws_key, CLAUDE)])
    client = client_for(gateway, world.token(world.alice))
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 64,
        "messages": [{"role": "user", "content": "four words in here"}],
    }

    response = client.invoke_model(modelId="claude", body=json.dumps(body))

    answer = json.loads(response["body"].read())
    assert answer["content"] == [{"type": "text", "text": f"Hello from {CLAUDE}"}]
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-bedrock-input-token-count"] == "4"
    [call] = world.calls_to("/invoke")
    assert call["json"] == body  # the model's own format, unchanged
    assert_signed_by_the_key(call)
    [row] = world.logged(endpoint)
    assert (row.status_code, row.prompt_tokens, row.completion_tokens) == (200, 4, 3)


def test_invoke_with_response_stream_relays_the_models_chunks_and_reads_the_invocation_metrics(gateway, world, aws_key):
    endpoint = world.endpoint(name="claude", models=[bedrock_model(aws_key, CLAUDE)])
    world.upstream.configure(CLAUDE, chunks=["a", "b"])
    client = client_for(gateway, world.token(world.alice))
    body = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}

    response = client.invoke_model_with_response_stream(modelId="claude", body=json.dumps(body))
    pieces = [json.loads(event["chunk"]["bytes"]) for event in response["body"]]

    texts = [piece["delta"]["text"] for piece in pieces if piece["type"] == "content_block_delta"]
    assert texts == ["a", "b"]
    assert pieces[-1]["amazon-bedrock-invocationMetrics"]["outputTokenCount"] == 2
    [row] = world.logged(endpoint)
    assert (row.status_code, row.stream, row.prompt_tokens, row.completion_tokens) == (200, True, 1, 2)


def test_a_keys_bedrock_api_key_goes_upstream_as_a_bearer_token(gateway, world):
    key = world.make_key("bedrock", name="bedrock-api-key", secret=BEDROCK_API_KEY, api_base=world.upstream.url)
    world.endpoint(name="ask", models=[bedrock_model(key, NOVA)])

    response = client_for(gateway, world.token(world.alice)).converse(
        modelId="ask", messages=[{"role": "user", "content": [{"text": "hi"}]}]
    )

    assert response["output"]["message"]["content"][0]["text"] == f"Hello from {NOVA}"
    [call] = world.calls_to("/converse")
    assert call["headers"]["authorization"] == f"Bearer {BEDROCK_API_KEY}"
    assert "x-amz-security-token" not in call["headers"]


def test_the_gateway_token_as_a_bearer_token_authenticates_too(gateway, world, chat):
    """What boto3 sends with ``AWS_BEARER_TOKEN_BEDROCK`` set (it sends a bearer over HTTPS only)."""
    response = httpx.post(
        f"{gateway.url}/bedrock/model/ask/converse",
        headers={"Authorization": f"Bearer {world.token(world.alice)}"},
        json={"messages": [{"role": "user", "content": [{"text": "hi"}]}]},
    )

    assert response.status_code == 200
    assert response.json()["output"]["message"]["role"] == "assistant"


# -- routing -----------------------------------------------------------------------------------------


def test_a_failing_first_priority_fails_over_to_the_fallback(gateway, world, aws_key):
    endpoint = world.endpoint(
        name="ask", models=[bedrock_model(aws_key, CLAUDE), bedrock_model(aws_key, NOVA, priority=2)]
    )
    world.upstream.configure(CLAUDE, fail_status=500)
    client = client_for(gateway, world.token(world.alice))

    response = client.converse(modelId="ask", messages=[{"role": "user", "content": [{"text": "hi"}]}])

    assert response["output"]["message"]["content"][0]["text"] == f"Hello from {NOVA}"
    [row] = world.logged(endpoint)
    assert (row.model_served, row.attempts) == (f"bedrock/{NOVA}", 2)
    assert [attempt["model"] for attempt in row.failed_attempts] == [f"bedrock/{CLAUDE}"]


def test_a_provider_throttle_comes_back_as_awss_throttling_exception(gateway, world, aws_key):
    world.endpoint(name="ask", models=[bedrock_model(aws_key, CLAUDE)])
    world.upstream.configure(CLAUDE, rate_limit=True, retry_after=7)
    client = client_for(gateway, world.token(world.alice))

    with pytest.raises(ClientError) as raised:
        client.converse(modelId="ask", messages=[{"role": "user", "content": [{"text": "hi"}]}])

    error = raised.value.response
    assert error["Error"] == {
        "Code": "ThrottlingException",
        "Message": "The provider is rate limiting this endpoint; retry later.",
    }
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert error["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "7"


def test_a_stream_that_breaks_off_ends_with_an_exception_boto3_raises(gateway, world, aws_key, monkeypatch):
    world.endpoint(name="ask", models=[bedrock_model(aws_key, CLAUDE)])
    world.upstream.configure(CLAUDE, chunks=["one", "two"])
    from proxy import direct

    real = eventstream.message_end
    seen = []

    def broken(buffer):  # the provider's second message arrives cut in half
        end = real(buffer)
        if end != -1:
            seen.append(end)
            if len(seen) == 2:
                raise eventstream.MalformedMessage("cut")
        return end

    monkeypatch.setattr(direct.eventstream, "message_end", broken)
    client = client_for(gateway, world.token(world.alice))

    response = client.converse_stream(modelId="ask", messages=[{"role": "user", "content": [{"text": "hi"}]}])
    with pytest.raises(EventStreamError) as raised:
        list(response["stream"])

    assert raised.value.response["Error"] == {
        "Code": "internalServerException",
        "Message": "The provider's stream broke off.",
    }


# -- who may call, and what is refused ---------------------------------------------------------------


def test_a_bad_token_is_refused_in_awss_shape(gateway, world, chat):
    with pytest.raises(ClientError) as raised:
        client_for(gateway, "gw_not-a-token").converse(
            modelId="ask", messages=[{"role": "user", "content": [{"text": "hi"}]}]
        )

    assert raised.value.response["Error"] == {
        "Code": "UnrecognizedClientException",
        "Message": "Invalid or expired gateway token.",
    }
    assert world.calls_to("/converse") == []


def test_no_token_at_all_says_how_to_send_one(gateway, world, chat):
    response = httpx.post(f"{gateway.url}/bedrock/model/ask/converse", json={"messages": []})

    assert response.status_code == 401
    assert response.headers["x-amzn-errortype"] == "UnrecognizedClientException"
    assert response.json() == {
        "message": "Missing gateway token: sign with it as the AWS access key id, "
        "or send 'Authorization: Bearer <token>'.",
        "reason": "missing_api_key",
    }


def test_use_is_needed_read_is_not_enough(gateway, world, chat):
    bob, charlie = client_for(gateway, world.token(world.bob)), client_for(gateway, world.token(world.charlie))
    messages = [{"role": "user", "content": [{"text": "hi"}]}]
    world.share(chat, world.bob, Level.READ)
    with pytest.raises(ClientError) as raised:
        bob.converse(modelId="ask", messages=messages)
    assert raised.value.response["Error"] == {
        "Code": "AccessDeniedException",
        "Message": "You can see 'ask' but not call it: ask for USE permission.",
    }

    world.share(chat, world.bob, Level.USE)
    assert bob.converse(modelId="ask", messages=messages)["output"]["message"]["role"] == "assistant"

    with pytest.raises(ClientError) as raised:  # charlie holds nothing: the endpoint is not there
        charlie.converse(modelId="ask", messages=messages)
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_an_endpoint_with_a_model_of_another_provider_refuses_the_bedrock_api(gateway, world, aws_key):
    world.endpoint(name="mixed", models=[bedrock_model(aws_key, CLAUDE), world.model("gpt-x", priority=2)])

    with pytest.raises(ClientError) as raised:
        client_for(gateway, world.token(world.alice)).converse(
            modelId="mixed", messages=[{"role": "user", "content": [{"text": "hi"}]}]
        )

    assert raised.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": "'mixed' cannot take Bedrock API calls: every model of it must be a Bedrock model without "
        "rpm/tpm limits of its own. Call it at /v1/chat/completions instead.",
    }
    assert world.upstream.requests() == []


def test_fields_that_are_not_converses_are_refused_before_anything_is_sent(gateway, world, chat):
    with pytest.raises(ClientError) as raised:
        client_for(gateway, world.token(world.alice)).converse(
            modelId="ask",
            messages=[{"role": "user", "content": [{"text": "hi"}]}],
            inferenceConfig={"temperature": 1.5},
        )

    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert raised.value.response["Error"]["Message"] == (
        "Invalid 'inferenceConfig.temperature': decimal above maximum value. "
        "Expected a value <= 1, but got 1.5 instead."
    )
    response = httpx.post(
        f"{gateway.url}/bedrock/model/ask/converse",
        headers={"Authorization": f"Bearer {world.token(world.alice)}"},
        json={"messages": [{"role": "user", "content": [{"text": "hi"}]}], "aws_secret_access_key": "x"},
    )
    assert response.status_code == 400
    assert response.json() == {
        "message": "Unrecognized request argument supplied: aws_secret_access_key",
        "reason": "unknown_parameter",
        "param": "aws_secret_access_key",
    }
    assert world.upstream.requests() == []


def test_an_unknown_operation_is_a_404_in_awss_shape(gateway, world, chat):
    response = httpx.post(
        f"{gateway.url}/bedrock/model/ask/apply-guardrail",
        headers={"Authorization": f"Bearer {world.token(world.alice)}"},
        json={},
    )

    assert response.status_code == 404
    assert response.headers["x-amzn-errortype"] == "ResourceNotFoundException"
    assert response.json()["message"] == "Unknown API route: /bedrock/model/ask/apply-guardrail"


def test_a_provider_error_quoting_the_keys_secret_is_scrubbed(gateway, world, chat, monkeypatch):
    """A provider echoing the signed request back: neither the secret key nor the session token leaves."""
    secrets = endpoint_secrets(chat)
    assert SECRET_ACCESS_KEY in secrets and SESSION_TOKEN in secrets
    world.upstream.configure("*", fail_status=400)
    from fakeupstream import server

    monkeypatch.setattr(server, "_bedrock_error", _echoing_error(server._bedrock_error))
    with pytest.raises(ClientError) as raised:
        client_for(gateway, world.token(world.alice)).converse(
            modelId="ask", messages=[{"role": "user", "content": [{"text": "hi"}]}]
        )

    message = raised.value.response["Error"]["Message"]
    assert message == "The provider rejected the request: bad signature for *** with token ***"
    [row] = world.logged(chat)
    assert SECRET_ACCESS_KEY not in row.error_message and SESSION_TOKEN not in row.error_message


def _echoing_error(real):
    def error(status, retry_after, model, message="fake failure"):
        return real(status, retry_after, model, f"bad signature for {SECRET_ACCESS_KEY} with token {SESSION_TOKEN}")

    return error


# -- cost, and where the API says the SDK goes ------------------------------------------------------------


def test_cost_comes_from_bedrocks_usage_and_the_catalogs_prices(gateway, world, aws_key):
    endpoint = world.endpoint(name="ask", models=[bedrock_model(aws_key, CLAUDE)])

    client_for(gateway, world.token(world.alice)).converse(
        modelId="ask", messages=[{"role": "user", "content": [{"text": "two words"}]}]
    )

    [row] = world.logged(endpoint)
    prices = litellm.model_cost[CLAUDE]
    expected = 2 * prices["input_cost_per_token"] + 3 * prices["output_cost_per_token"]
    assert (row.prompt_tokens, row.completion_tokens) == (2, 3)
    assert float(row.cost_usd) == pytest.approx(expected)


def test_the_api_gives_boto3s_endpoint_url_only_for_an_endpoint_the_bedrock_api_reaches(world, aws_key, client):
    world.endpoint(name="ask", models=[bedrock_model(aws_key, CLAUDE)], start=False)
    world.endpoint(
        name="provisioned",
        models=[bedrock_model(aws_key, "eu-central-1/1-month-commitment/anthropic.claude-instant-v1")],
        start=False,
    )
    client.force_login(world.alice)

    listed = client.get("/api/3.0/mlflow/gateway/endpoints/").json()["results"]

    assert {item["name"]: item["native_api_urls"] for item in listed} == {
        "ask": {"bedrock": "http://testserver/bedrock"},
        "provisioned": {},
    }


def test_the_stream_exception_a_provider_sends_reaches_boto3_scrubbed(gateway, world, chat, monkeypatch):
    from fakeupstream import server

    payload = json.dumps({"message": f"throttled {SECRET_ACCESS_KEY}"}).encode()
    monkeypatch.setattr(
        server.eventstream,
        "event",
        lambda kind, body, content_type="application/json": (
            eventstream.exception("throttlingException", payload)
            if kind == "contentBlockDelta"
            else eventstream.encode({":event-type": kind, ":message-type": "event"}, body)
        ),
    )

    response = client_for(gateway, world.token(world.alice)).converse_stream(
        modelId="ask", messages=[{"role": "user", "content": [{"text": "hi"}]}]
    )
    with pytest.raises(EventStreamError) as raised:
        list(response["stream"])

    assert raised.value.response["Error"] == {"Code": "throttlingException", "Message": "throttled ***"}


def test_the_openai_route_reaches_the_same_models_through_litellm_signed_with_the_same_key(gateway, world, chat):
    """LiteLLM translates /v1/chat/completions to Converse, with the key's access key as its aws_* parameters."""
    from openai import OpenAI

    client = OpenAI(base_url=f"{gateway.url}/v1", api_key=world.token(world.alice), max_retries=0)

    response = client.chat.completions.create(model="ask", messages=[{"role": "user", "content": "Say hi now"}])

    assert response.choices[0].message.content in {f"Hello from {CLAUDE}", f"Hello from {NOVA}"}
    [call] = world.calls_to("/converse")
    assert_signed_by_the_key(call)
    [row] = world.logged(chat)
    assert (row.status_code, row.prompt_tokens, row.completion_tokens) == (200, 3, 3)


def test_invoke_model_on_an_embedding_endpoint_embeds_with_titan_and_counts_its_tokens(gateway, world, aws_key):
    endpoint = world.endpoint(
        name="vectors", endpoint_type="embedding", models=[bedrock_model(aws_key, "amazon.titan-embed-text-v2:0")]
    )
    client = client_for(gateway, world.token(world.alice))

    response = client.invoke_model(
        modelId="vectors", body=json.dumps({"inputText": "three short words", "dimensions": 4, "normalize": True})
    )

    answer = json.loads(response["body"].read())
    assert (len(answer["embedding"]), answer["inputTextTokenCount"]) == (4, 3)
    [call] = world.calls_to("/invoke")
    assert call["raw_path"] == "/model/amazon.titan-embed-text-v2%3A0/invoke"
    assert_signed_by_the_key(call)
    [row] = world.logged(endpoint)
    assert (row.status_code, row.prompt_tokens, row.completion_tokens) == (200, 3, 0)


def test_converse_on_an_embedding_endpoint_says_where_it_is_called(gateway, world, aws_key):
    world.endpoint(
        name="vectors", endpoint_type="embedding", models=[bedrock_model(aws_key, "amazon.titan-embed-text-v2:0")]
    )

    with pytest.raises(ClientError) as raised:
        client_for(gateway, world.token(world.alice)).converse(
            modelId="vectors", messages=[{"role": "user", "content": [{"text": "hi"}]}]
        )

    assert raised.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": "'vectors' is an embedding endpoint; call it at /v1/embeddings.",
    }
