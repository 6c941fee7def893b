"""Import (LiteLLM, MLflow, the gateway's export) and export: the service and the management commands.

Every import goes through ``endpoints.transfer.import_config``: what it creates
(endpoints, models, encrypted keys, owned by the importer, with their audit
events and revisions), what it reports line by line, and that any error, or
a dry run, creates nothing. Secrets never reach a message, the output or a log.
"""

from __future__ import annotations

import io
import json
import logging
import sys

import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from endpoints import services as endpoint_services
from endpoints import transfer
from endpoints.models import Endpoint, Revision
from endpoints.transfer import ERROR, NOTE, SKIPPED, Environment, ImportRefused, Line
from gatewaylib import errors, netguard
from keys import services as key_services
from keys.models import Key
from sharing import services as sharing
from sharing.levels import Level
from tests.factories import make_user

pytestmark = pytest.mark.django_db

OPENAI_SECRET = "sk-openai-ENV-secret-0123456789abcd"
ANTHROPIC_SECRET = "sk-ant-ENV-secret-9876543210wxyz"
AZURE_SECRET = "azure-FILE-secret-0011223344556677"
COHERE_SECRET = "cohere-ENV-secret-5566778899aabbcc"
SECRETS = (OPENAI_SECRET, ANTHROPIC_SECRET, AZURE_SECRET, COHERE_SECRET)
AZURE_BASE = "https://example-resource.openai.azure.com"

LITELLM = f"""
model_list:
  - model_name: Chat Prod
    litellm_params:
      model: openai/gpt-4o
      api_key: os.environ/OPENAI_API_KEY
      weight: 9
      rpm: 100
      temperature: 0.2
  - model_name: Chat Prod
    litellm_params:
      model: azure/my-gpt4o
      api_base: {AZURE_BASE}
      api_version: "2024-06-01"
      api_key: {AZURE_SECRET}
      weight: 1
  - model_name: Chat Prod
    litellm_params:
      model: anthropic/claude-sonnet-4-5
      api_key: os.environ/ANTHROPIC_API_KEY
      order: 2
  - model_name: embed
    litellm_params:
      model: text-embedding-3-small
      api_key: os.environ/OPENAI_API_KEY
    model_info:
      id: embed-1
router_settings:
  routing_strategy: simple-shuffle
  num_retries: 2
general_settings:
  master_key: sk-1234-MASTER
"""

MLFLOW = f"""
endpoints:
  - name: chat
    endpoint_type: llm/v1/chat
    model:
      provider: openai
      name: gpt-4o-mini
      config:
        openai_api_key: $OPENAI_API_KEY
        openai_api_base: https://api.openai.com/v1
    limit:
      renewal_period: minute
      calls: 60
  - name: claude
    endpoint_type: llm/v1/chat
    model:
      provider: anthropic
      name: claude-sonnet-4-5
      config:
        anthropic_api_key: $ANTHROPIC_API_KEY
  - name: azure_chat
    endpoint_type: llm/v1/chat
    model:
      provider: openai
      name: gpt-4o
      config:
        openai_api_type: azure
        openai_api_key: {AZURE_SECRET}
        openai_api_base: {AZURE_BASE}
        openai_api_version: "2024-06-01"
        openai_deployment_name: gpt4o-eu
  - name: embeddings
    endpoint_type: llm/v1/embeddings
    model:
      provider: openai
      name: text-embedding-3-small
      config:
        openai_api_key: $OPENAI_API_KEY
    limit:
      renewal_period: second
      calls: 5
  - name: completions
    endpoint_type: llm/v1/completions
    model:
      provider: cohere
      name: command-nightly
      config:
        cohere_api_key: $COHERE_API_KEY
routes:
  - name: chat-split
    task_type: llm/v1/chat
    destinations:
      - name: chat
        traffic_percentage: 80
      - name: claude
        traffic_percentage: 20
"""

ENVIRONMENT = {
    "OPENAI_API_KEY": OPENAI_SECRET,
    "ANTHROPIC_API_KEY": ANTHROPIC_SECRET,
    "COHERE_API_KEY": COHERE_SECRET,
}


@pytest.fixture(autouse=True)
def public_dns(monkeypatch):
    """Key API bases resolve to a public address, without the network."""
    monkeypatch.setattr(netguard, "resolve", lambda host, port: ["93.184.216.34"])


@pytest.fixture
def env(monkeypatch):
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)


def run(text, user, **options):
    options.setdefault("environment", Environment.of_process())
    return transfer.import_config(text, actor=user, **options)


def refused(text, user, **options) -> ImportRefused:
    with pytest.raises(ImportRefused) as caught:
        run(text, user, **options)
    return caught.value


def models_of(name):
    endpoint = Endpoint.objects.get(name=name)
    return [
        (m.provider, m.model_name, m.key.name, round(m.weight, 6), m.priority, m.litellm_params)
        for m in endpoint.models.order_by("priority", "-weight")
    ]


def keys_by_name():
    return {
        key.name: (key.provider, key.api_base, key.api_version, key.secret(), key.masked_secret)
        for key in Key.objects.all()
    }


def counts():
    return Endpoint.objects.count(), Key.objects.count(), AuditEvent.objects.count(), Revision.objects.count()


def assert_no_secret(*texts):
    for text in texts:
        for secret in SECRETS:
            assert secret not in text


# -- LiteLLM ---------------------------------------------------------------------------------------


def test_litellm_deployments_sharing_a_model_name_become_one_endpoint_with_encrypted_keys(env, alice):
    result = run(LITELLM, alice)

    assert sorted(Endpoint.objects.values_list("name", "endpoint_type")) == [
        ("chat-prod", "chat"),
        ("embed", "embedding"),
    ]
    assert models_of("chat-prod") == [
        ("openai", "gpt-4o", "chat-prod-openai", 0.9, 1, {"rpm": 100}),
        ("azure", "my-gpt4o", "chat-prod-azure", 0.1, 1, {}),
        ("anthropic", "claude-sonnet-4-5", "chat-prod-anthropic", 1.0, 2, {}),
    ]
    assert models_of("embed") == [("openai", "text-embedding-3-small", "chat-prod-openai", 1.0, 1, {})]
    # One key per provider, secret and destination: embed shares chat-prod's OpenAI key.
    assert keys_by_name() == {
        "chat-prod-openai": ("openai", "", "", OPENAI_SECRET, "sk-...abcd"),
        "chat-prod-azure": ("azure", AZURE_BASE, "2024-06-01", AZURE_SECRET, "azu...6677"),
        "chat-prod-anthropic": ("anthropic", "", "", ANTHROPIC_SECRET, "sk-...wxyz"),
    }
    for key in Key.objects.all():
        assert key.secret() not in key.secret_ciphertext  # stored encrypted
    assert result.dry_run is False
    assert [endpoint.endpoint.name for endpoint in result.endpoints] == ["chat-prod", "embed"]
    assert_no_secret(json.dumps(result.as_dict()))


def test_the_importer_manages_what_is_created_through_the_normal_services(env, alice, bob):
    run(LITELLM, alice)
    for obj in [*Endpoint.objects.all(), *Key.objects.all()]:
        assert sharing.get_level(alice, obj) == Level.MANAGE
        assert sharing.get_level(bob, obj) is None  # not shared: bob cannot see it
        assert obj.created_by == alice
    assert Endpoint.objects.visible_to(bob).count() == 0
    events = sorted(AuditEvent.objects.values_list("actor__username", "action", "object_type", "object_name"))
    assert events == [
        ("alice", "create", "endpoint", "chat-prod"),
        ("alice", "create", "endpoint", "embed"),
        ("alice", "create", "key", "chat-prod-anthropic"),
        ("alice", "create", "key", "chat-prod-azure"),
        ("alice", "create", "key", "chat-prod-openai"),
    ]
    assert_no_secret(json.dumps(list(AuditEvent.objects.values_list("changes", flat=True))))
    assert sorted(Revision.objects.values_list("endpoint__name", "number")) == [("chat-prod", 1), ("embed", 1)]
    # Shared, bob sees it.
    sharing.grant(Endpoint.objects.get(name="embed"), bob, Level.READ, actor=alice)
    assert list(Endpoint.objects.visible_to(bob).values_list("name", flat=True)) == ["embed"]


def test_what_is_not_imported_and_what_changed_is_reported_line_by_line(env, alice):
    result = run(LITELLM, alice, dry_run=True)
    assert result.of(SKIPPED) == [
        Line(
            SKIPPED,
            "router_settings.routing_strategy",
            "not imported: the gateway's Router settings apply (weights, priorities and cooldowns come from each "
            "endpoint).",
        ),
        Line(
            SKIPPED,
            "router_settings.num_retries",
            "not imported: the gateway's Router settings apply (weights, priorities and cooldowns come from each "
            "endpoint).",
        ),
        Line(
            SKIPPED, "general_settings.master_key", "not imported: the gateway's own settings (its environment) apply."
        ),
        Line(
            SKIPPED,
            "model_list[0].litellm_params.temperature",
            "not imported: the gateway does not set this parameter per model.",
        ),
        Line(
            SKIPPED,
            "model_list[3].model_info.id",
            "not imported: only model_info.mode is read (it sets the endpoint type).",
        ),
    ]
    assert result.of(NOTE) == [
        Line(
            NOTE,
            "model_list[0].model_name",
            "“Chat Prod” becomes the endpoint name “chat-prod” (lowercase letters, digits and dashes); clients call "
            "it by that name.",
        ),
        Line(
            NOTE,
            "model_list[0].litellm_params.weight",
            "The weights 9, 1 of “chat-prod” (order 1) are shares of their sum: 0.9, 0.1.",
        ),
    ]
    assert result.of(ERROR) == []


def test_a_dry_run_plans_everything_and_creates_nothing(env, alice):
    before = counts()
    result = run(LITELLM, alice, dry_run=True)
    assert counts() == before == (0, 0, 0, 0)
    plan = result.as_dict()
    assert plan["dry_run"] is True
    assert [endpoint["id"] for endpoint in plan["endpoints"]] == [None, None]
    assert plan["endpoints"][0] == {
        "id": None,
        "name": "chat-prod",
        "endpoint_type": "chat",
        "description": "",
        "rate_limit_rpm": None,
        "rate_limit_tpm": None,
        "models": [
            {
                "provider": "openai",
                "model_name": "gpt-4o",
                "key": "chat-prod-openai",
                "weight": 0.9,
                "priority": 1,
                "litellm_params": {"rpm": 100},
            },
            {
                "provider": "azure",
                "model_name": "my-gpt4o",
                "key": "chat-prod-azure",
                "weight": 0.1,
                "priority": 1,
                "litellm_params": {},
            },
            {
                "provider": "anthropic",
                "model_name": "claude-sonnet-4-5",
                "key": "chat-prod-anthropic",
                "weight": 1.0,
                "priority": 2,
                "litellm_params": {},
            },
        ],
    }
    assert plan["keys"] == [
        {
            "id": None,
            "name": "chat-prod-openai",
            "provider": "openai",
            "api_base": "",
            "api_version": "",
            "organization": "",
            "region": "",
            "project": "",
            "masked_secret": "sk-...abcd",
            "secret_from": "os.environ/OPENAI_API_KEY",
        },
        {
            "id": None,
            "name": "chat-prod-azure",
            "provider": "azure",
            "api_base": AZURE_BASE,
            "api_version": "2024-06-01",
            "organization": "",
            "region": "",
            "project": "",
            "masked_secret": "azu...6677",
            "secret_from": "",
        },
        {
            "id": None,
            "name": "chat-prod-anthropic",
            "provider": "anthropic",
            "api_base": "",
            "api_version": "",
            "organization": "",
            "region": "",
            "project": "",
            "masked_secret": "sk-...wxyz",
            "secret_from": "os.environ/ANTHROPIC_API_KEY",
        },
    ]
    assert_no_secret(json.dumps(plan))


def test_a_missing_environment_variable_is_an_error_naming_it_and_nothing_is_created(env, alice, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    refusal = refused(LITELLM, alice)
    assert refusal.format == "litellm"
    assert [line for line in refusal.lines if line.level == ERROR] == [
        Line(ERROR, "model_list[2].litellm_params.api_key", "The environment variable ANTHROPIC_API_KEY is not set.")
    ]
    assert errors.detail(refusal) == {
        "model_list[2].litellm_params.api_key": ["The environment variable ANTHROPIC_API_KEY is not set."]
    }
    assert counts() == (0, 0, 0, 0)
    assert_no_secret(*(str(line) for line in refusal.lines))


def test_an_empty_environment_variable_is_an_error_too(env, alice, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "  ")
    refusal = refused(LITELLM, alice)
    assert errors.detail(refusal) == {
        "model_list[0].litellm_params.api_key": ["The environment variable OPENAI_API_KEY is empty."],
        "model_list[3].litellm_params.api_key": ["The environment variable OPENAI_API_KEY is empty."],
    }


def test_references_are_looked_up_in_the_given_values_when_not_from_the_process(env, alice):
    given = Environment.given({"OPENAI_API_KEY": OPENAI_SECRET})
    refusal = refused(LITELLM, alice, environment=given)
    message = (
        "No value was given for the environment variable ANTHROPIC_API_KEY: the web page and the API never read "
        "the server's environment; give the value with the upload."
    )
    assert errors.detail(refusal) == {"model_list[2].litellm_params.api_key": [message]}
    run(LITELLM, alice, environment=Environment.given(ENVIRONMENT))
    assert Key.objects.get(name="chat-prod-anthropic").secret() == ANTHROPIC_SECRET


def test_the_configs_own_environment_variables_answer_its_references(alice):
    text = """
environment_variables:
  GROQ_KEY: gsk-from-the-file-00112233
model_list:
  - model_name: fast
    litellm_params:
      model: groq/openai/gpt-oss-120b
      api_key: os.environ/GROQ_KEY
"""
    run(text, alice, environment=Environment.given({}))
    assert models_of("fast") == [("groq", "openai/gpt-oss-120b", "fast-groq", 1.0, 1, {})]
    assert Key.objects.get().secret() == "gsk-from-the-file-00112233"


def test_one_bad_entry_imports_nothing_and_every_problem_is_reported(env, alice):
    text = LITELLM.replace(
        "router_settings:",
        """  - model_name: broken
    litellm_params:
      model: nosuch/model-x
      api_key: sk-whatever-0000000000000
  - model_name: unknown-model
    litellm_params:
      model: openai/gpt-nope
      api_key: os.environ/OPENAI_API_KEY
      rpm: 0
router_settings:""",
    )
    refusal = refused(text, alice)
    assert errors.detail(refusal) == {
        "model_list[4].litellm_params.model": [
            "“nosuch” is not a provider this gateway knows; write the model as provider/model."
        ],
        "model_list[5].litellm_params.rpm": ["rpm must be at least 1."],
    }
    assert counts() == (0, 0, 0, 0)


def test_a_model_the_catalog_lacks_is_reported_at_its_path_and_nothing_is_created(env, alice):
    text = """
model_list:
  - model_name: good
    litellm_params: {model: openai/gpt-4o, api_key: os.environ/OPENAI_API_KEY}
  - model_name: bad
    litellm_params: {model: openai/gpt-nope, api_key: os.environ/OPENAI_API_KEY}
"""
    refusal = refused(text, alice)
    assert errors.detail(refusal) == {
        "model_list[1].litellm_params.model": [
            "'gpt-nope' is not in the catalog for openai; to serve a model of your own, use a key that points at "
            "its server (the key's API base URL)."
        ]
    }
    assert counts() == (0, 0, 0, 0)  # the good endpoint and the key were rolled back too


def test_importing_an_endpoint_whose_name_exists_is_an_error_for_that_entry(env, alice, bob):
    run("model_list: [{model_name: chat-prod, litellm_params: {model: gpt-4o, api_key: sk-bobs-000000000000}}]", bob)
    refusal = refused(LITELLM, alice)
    assert errors.detail(refusal) == {"model_list[0].model_name": ["An endpoint named “chat-prod” already exists."]}
    assert sorted(Endpoint.objects.values_list("name", flat=True)) == ["chat-prod"]  # bob's, untouched
    assert not Key.objects.filter(created_by=alice).exists()


def test_weights_must_be_given_to_every_deployment_of_a_priority_or_none(env, alice):
    text = """
model_list:
  - model_name: mixed
    litellm_params: {model: openai/gpt-4o, api_key: os.environ/OPENAI_API_KEY, weight: 2}
  - model_name: mixed
    litellm_params: {model: openai/gpt-4o-mini, api_key: os.environ/OPENAI_API_KEY}
  - model_name: negative
    litellm_params: {model: openai/gpt-4o, api_key: os.environ/OPENAI_API_KEY, weight: -1}
  - model_name: even
    litellm_params: {model: openai/gpt-4o, api_key: os.environ/OPENAI_API_KEY}
  - model_name: even
    litellm_params: {model: openai/gpt-4o-mini, api_key: os.environ/OPENAI_API_KEY}
"""
    refusal = refused(text, alice)
    assert errors.detail(refusal) == {
        "model_list[1].litellm_params.weight": [
            "Missing: the other deployments of “mixed” with order 1 have a weight; give each of them one, or none."
        ],
        "model_list[2].litellm_params.weight": ["Must be a number greater than 0."],
    }
    even = "model_list:\n" + text.split("  - model_name: even\n", 1)[1]
    even = "model_list:\n  - model_name: even\n" + even.split("model_list:\n", 1)[1]
    plan = run(even, alice, dry_run=True)
    assert [model.weight for model in plan.endpoints[0].models] == [0.5, 0.5]  # no weights: an even split


def test_names_that_become_the_same_endpoint_name_are_errors(env, alice):
    text = """
model_list:
  - model_name: GPT 4
    litellm_params: {model: openai/gpt-4o, api_key: os.environ/OPENAI_API_KEY}
  - model_name: gpt-4
    litellm_params: {model: openai/gpt-4o, api_key: os.environ/OPENAI_API_KEY}
  - model_name: "***"
    litellm_params: {model: openai/gpt-4o, api_key: os.environ/OPENAI_API_KEY}
"""
    assert errors.detail(refused(text, alice)) == {
        "model_list[0].model_name": ["Becomes the endpoint name “gpt-4”, as “gpt-4” does; rename one of them."],
        "model_list[1].model_name": ["Becomes the endpoint name “gpt-4”, as “GPT 4” does; rename one of them."],
        "model_list[2].model_name": ["Cannot become an endpoint name: it has no letter or digit."],
    }


def test_a_taken_key_name_gets_a_number_and_deployments_of_different_kinds_are_refused(env, alice):
    key_services.create_key(actor=alice, name="chat-prod-openai", provider="openai", secret="sk-older-00000000000")
    run(LITELLM, alice)
    assert sorted(Key.objects.values_list("name", flat=True)) == [
        "chat-prod-anthropic",
        "chat-prod-azure",
        "chat-prod-openai",
        "chat-prod-openai-2",
    ]
    assert models_of("embed")[0][2] == "chat-prod-openai-2"
    mixed = """
model_list:
  - model_name: mixed
    litellm_params: {model: openai/gpt-4o, api_key: os.environ/OPENAI_API_KEY}
  - model_name: mixed
    litellm_params: {model: openai/text-embedding-3-small, api_key: os.environ/OPENAI_API_KEY}
"""
    assert errors.detail(refused(mixed, alice)) == {
        "model_list[0]": [
            "The deployments of “mixed” are of different kinds (chat, embedding): one endpoint serves one kind."
        ]
    }


def test_self_hosted_models_take_their_type_from_model_info_and_may_have_no_secret(alice):
    text = """
model_list:
  - model_name: local-embed
    litellm_params:
      model: hosted_vllm/BAAI/bge-m3
      api_base: http://10.0.0.7:8000/v1
    model_info: {mode: embedding}
  - model_name: local-chat
    litellm_params:
      model: ollama/llama3.1
      api_base: http://10.0.0.8:11434
"""
    run(text, alice, environment=Environment.given({}))
    assert sorted(Endpoint.objects.values_list("name", "endpoint_type")) == [
        ("local-chat", "chat"),
        ("local-embed", "embedding"),
    ]
    assert keys_by_name() == {
        "local-embed-hosted_vllm": ("hosted_vllm", "http://10.0.0.7:8000/v1", "", "", ""),
        "local-chat-ollama": ("ollama", "http://10.0.0.8:11434", "", "", ""),
    }


def test_a_bedrock_deployments_aws_access_key_becomes_a_bedrock_key_signing_with_it(alice):
    text = """
model_list:
  - model_name: bedrock
    litellm_params:
      model: bedrock/anthropic.claude-3-5-haiku-20241022-v1:0
      aws_access_key_id: os.environ/AWS_ACCESS_KEY_ID
      aws_secret_access_key: os.environ/AWS_SECRET_ACCESS_KEY
      aws_session_token: os.environ/AWS_SESSION_TOKEN
      aws_region_name: eu-west-1
"""
    env = Environment.given(
        {
            "AWS_ACCESS_KEY_ID": "AKIAIMPORTED00000001",
            "AWS_SECRET_ACCESS_KEY": "imported-aws-secret-0001",
            "AWS_SESSION_TOKEN": "imported-session-token-0001",
        }
    )

    result = run(text, alice, environment=env)

    [key] = result.keys
    assert key.as_dict() | {"id": None} == {
        "id": None,
        "name": "bedrock-bedrock",
        "provider": "bedrock",
        "api_base": "",
        "api_version": "",
        "organization": "",
        "region": "eu-west-1",
        "project": "",
        "masked_secret": "AKI...0001",
        "secret_from": "os.environ/AWS_SECRET_ACCESS_KEY",
    }
    assert Key.objects.get(provider="bedrock").litellm_connection() == {
        "aws_region_name": "eu-west-1",
        "aws_access_key_id": "AKIAIMPORTED00000001",
        "aws_secret_access_key": "imported-aws-secret-0001",
        "aws_session_token": "imported-session-token-0001",
    }
    assert "imported-aws-secret-0001" not in json.dumps(result.as_dict())


def test_credentials_a_key_cannot_hold_are_errors_and_a_missing_api_key_too(alice):
    text = """
model_list:
  - model_name: half
    litellm_params:
      model: bedrock/anthropic.claude-3-sonnet-20240229-v1:0
      aws_access_key_id: os.environ/AWS_ACCESS_KEY_ID
      aws_profile_name: prod
  - model_name: openai-aws
    litellm_params:
      model: openai/gpt-4o
      aws_access_key_id: AKIA0000
      aws_secret_access_key: aws-secret-0000
  - model_name: implicit
    litellm_params:
      model: openai/gpt-4o
"""
    env = Environment.given({"AWS_ACCESS_KEY_ID": "AKIA0000"})
    assert errors.detail(refused(text, alice, environment=env)) == {
        "model_list[0].litellm_params.aws_profile_name": [
            "A gateway key cannot hold an AWS profile: create the key on the Keys page (a secret and where "
            "it is sent) and import the endpoint with the gateway's own format."
        ],
        "model_list[1].litellm_params.aws_access_key_id": ["AWS access keys apply to Bedrock keys only."],
        "model_list[1].litellm_params.aws_secret_access_key": ["AWS access keys apply to Bedrock keys only."],
        "model_list[2].litellm_params.api_key": [
            "Missing: LiteLLM would read the provider's variable from its environment, the gateway needs the key; "
            "write api_key: os.environ/NAME."
        ],
    }
    assert counts() == (0, 0, 0, 0)


def test_a_key_the_keys_service_refuses_is_reported_at_the_field_it_came_from(env, alice):
    text = """
model_list:
  - model_name: meta
    litellm_params:
      model: openai/gpt-4o
      api_key: os.environ/OPENAI_API_KEY
      api_base: http://169.254.169.254/v1
"""
    detail = errors.detail(refused(text, alice))
    assert list(detail) == ["model_list[0].litellm_params.api_base"]
    assert counts() == (0, 0, 0, 0)
    azure = (
        "model_list: [{model_name: eu, litellm_params: {model: azure/gpt4o-eu, api_key: os.environ/OPENAI_API_KEY}}]"
    )
    assert errors.detail(refused(azure, alice)) == {
        "model_list[0].litellm_params.api_base": ["A azure key needs the API base URL of its server."]
    }
    mlflow_azure = """
endpoints:
  - name: eu
    endpoint_type: llm/v1/chat
    model: {provider: openai, name: gpt-4o, config: {openai_api_type: azure, openai_api_key: $OPENAI_API_KEY}}
"""
    assert errors.detail(refused(mlflow_azure, alice)) == {
        "endpoints[0].model.config.openai_api_base": ["A azure key needs the API base URL of its server."]
    }


# -- MLflow ---------------------------------------------------------------------------------------


def test_mlflow_endpoints_and_traffic_routes_become_endpoints(env, alice):
    result = run(MLFLOW, alice)
    assert sorted(Endpoint.objects.values_list("name", "endpoint_type", "rate_limit_rpm")) == [
        ("azure-chat", "chat", None),
        ("chat", "chat", 60),
        ("chat-split", "chat", None),
        ("claude", "chat", None),
        ("completions", "completion", None),
        ("embeddings", "embedding", None),
    ]
    assert models_of("chat") == [("openai", "gpt-4o-mini", "chat-openai", 1.0, 1, {})]
    assert models_of("azure-chat") == [("azure", "gpt4o-eu", "azure-chat-azure", 1.0, 1, {})]
    assert models_of("chat-split") == [
        ("openai", "gpt-4o-mini", "chat-openai", 0.8, 1, {}),
        ("anthropic", "claude-sonnet-4-5", "claude-anthropic", 0.2, 1, {}),
    ]
    assert models_of("embeddings") == [("openai", "text-embedding-3-small", "chat-openai", 1.0, 1, {})]
    assert models_of("completions") == [("cohere", "command-nightly", "completions-cohere", 1.0, 1, {})]
    assert keys_by_name() == {
        "chat-openai": ("openai", "", "", OPENAI_SECRET, "sk-...abcd"),
        "claude-anthropic": ("anthropic", "", "", ANTHROPIC_SECRET, "sk-...wxyz"),
        "azure-chat-azure": ("azure", AZURE_BASE, "2024-06-01", AZURE_SECRET, "azu...6677"),
        "completions-cohere": ("cohere", "", "", COHERE_SECRET, "coh...bbcc"),
    }
    assert [str(line) for line in result.lines] == [
        "endpoints[2].name: “azure_chat” becomes the endpoint name “azure-chat” (lowercase letters, digits and "
        "dashes); clients call it by that name.",
        "endpoints[3].limit.renewal_period: not imported: the gateway limits an endpoint's requests per minute only.",
    ]
    assert {line.level for line in result.lines} == {NOTE, SKIPPED}
    assert all(sharing.get_level(alice, endpoint) == Level.MANAGE for endpoint in Endpoint.objects.all())


def test_mlflow_env_references_use_its_dollar_syntax_and_a_missing_one_is_named(env, alice, monkeypatch):
    monkeypatch.delenv("COHERE_API_KEY")
    refusal = refused(MLFLOW, alice)
    assert refusal.format == "mlflow"
    assert errors.detail(refusal) == {
        "endpoints[4].model.config.cohere_api_key": ["The environment variable COHERE_API_KEY is not set."]
    }
    assert counts() == (0, 0, 0, 0)


def test_mlflow_entries_that_cannot_be_imported_are_errors(env, alice):
    text = """
endpoints:
  - name: from-file
    endpoint_type: llm/v1/chat
    model:
      provider: anthropic
      name: claude-sonnet-4-5
      config: {anthropic_api_key: /run/secrets/anthropic}
  - name: bedrock
    endpoint_type: llm/v1/chat
    model:
      provider: amazon-bedrock
      name: anthropic.claude-instant-v1
      config: {aws_config: {aws_region: us-east-1}}
  - name: images
    endpoint_type: llm/v1/images
    model: {provider: openai, name: dall-e-3, config: {openai_api_key: $OPENAI_API_KEY}}
  - name: split
    endpoint_type: llm/v1/chat
    model: {provider: openai, name: gpt-4o, config: {openai_api_key: $OPENAI_API_KEY}}
routes:
  - name: split-route
    task_type: llm/v1/chat
    destinations:
      - {name: split, traffic_percentage: 60}
      - {name: nowhere, traffic_percentage: 40}
"""
    assert errors.detail(refused(text, alice)) == {
        "endpoints[0].model.config.anthropic_api_key": [
            "Looks like a file path: the importer reads no files. Put the secret in an environment variable and "
            "write $NAME."
        ],
        "endpoints[1].model.provider": [
            "Cannot be imported: MLflow signs Bedrock calls with AWS credentials, and a gateway Bedrock key holds "
            "a Bedrock API key. Create the key on the Keys page and import the endpoint with the gateway's own "
            "format."
        ],
        "endpoints[2].endpoint_type": ["Must be one of llm/v1/chat, llm/v1/completions, llm/v1/embeddings."],
        "routes[0].destinations[1].name": ["Must name one of the config's endpoints."],
    }
    assert counts() == (0, 0, 0, 0)


def test_mlflow_per_caller_limits_and_unknown_fields_are_skipped(env, alice):
    text = """
endpoints:
  - name: chat
    endpoint_type: llm/v1/chat
    model:
      provider: openai
      name: gpt-4o
      config: {openai_api_key: $OPENAI_API_KEY, openai_temperature: 1}
    limit: {renewal_period: minute, calls: 10, key: user}
"""
    result = run(text, alice, dry_run=True)
    assert [str(line) for line in result.lines] == [
        "endpoints[0].limit.key: not imported: a limit per caller; the endpoint's limit counts every caller "
        "together (a gateway token can carry a limit of its own).",
        "endpoints[0].model.config.openai_temperature: not imported: the gateway's key holds a secret and where "
        "it is sent, nothing else.",
    ]
    assert result.endpoints[0].rate_limit_rpm is None


# -- documents and formats -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The file is empty."),
        (
            "- 1\n- 2\n",
            "The file must be a YAML mapping: a LiteLLM config has model_list, an MLflow config "
            "endpoints, a gateway export gateway_export: 1.",
        ),
        (
            "title: mine\n",
            "Cannot tell the format: a LiteLLM config has model_list, an MLflow config endpoints, "
            "a gateway export gateway_export: 1.",
        ),
        ("model_list: []\nendpoints: []\n", "Has both model_list (LiteLLM) and endpoints (MLflow): choose the format."),
        (
            "a: [\n",
            "Not valid YAML (line 2, column 1): expected the node content, but found '<stream end>'.",
        ),
        ("a: 2024-13-45\n", "Not valid YAML: a value cannot be read (a date or number out of range)."),
        ("a: \x00\n", "Not valid YAML: it contains characters YAML does not allow."),
        ("[" * 5000 + "]" * 5000, "Not valid here: the YAML is nested too deeply."),
        (
            "a: !!python/object:os.system x\n",
            "Not valid YAML (line 1, column 4): could not determine a constructor "
            "for the tag 'tag:yaml.org,2002:python/object:os.system'.",
        ),
    ],
)
def test_documents_that_cannot_be_read_are_refused_in_plain_words(alice, text, message):
    refusal = refused(text, alice)
    assert errors.detail(refusal) == {"config": [message]}


def test_a_document_over_one_mebibyte_is_refused(alice):
    assert errors.detail(refused("#" * (transfer.MAX_DOCUMENT_BYTES + 1), alice)) == {
        "config": ["The file is larger than 1 MiB."]
    }


def test_a_yaml_error_never_repeats_the_text_around_it(alice):
    text = f"model_list:\n  - model_name: x\n    litellm_params: {{api_key: {OPENAI_SECRET}, model: [\n"
    refusal = refused(text, alice)
    assert_no_secret(json.dumps(errors.detail(refusal)))


def test_the_format_may_be_given_and_must_then_match(env, alice):
    assert errors.detail(refused(LITELLM, alice, format="mlflow")) == {
        "config": [
            "This file has no top-level endpoints, so it is not in the mlflow format (MLflow AI Gateway config "
            "(endpoints))."
        ]
    }
    assert run(LITELLM, alice, format="litellm", dry_run=True).format == "litellm"


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("model_list: 5\n", {"model_list": ["Must be a list of deployments, not a number."]}),
        ("model_list: []\n", {"model_list": ["Lists no deployment: there is nothing to import."]}),
        (
            "model_list: [7]\n",
            {"model_list[0]": ["Must be a mapping with model_name and litellm_params, not a number."]},
        ),
        (
            "model_list: [{model_name: x, litellm_params: {model: [1]}}]\n",
            {"model_list[0].litellm_params.model": ["Must be text, not a list."]},
        ),
        (
            "model_list: [{model_name: x, litellm_params: {model: gpt-4o, api_key: 5, order: 0}}]\n",
            {
                "model_list[0].litellm_params.order": ["Must be a whole number from 1 to 100 (1 is tried first)."],
            },
        ),
        ("endpoints: {a: 1}\n", {"endpoints": ["Must be a list of endpoints, not a mapping."]}),
        (
            "gateway_export: 2\nendpoints: []\n",
            {
                "gateway_export": ["Must be 1: this gateway reads version 1 of its export."],
                "endpoints": ["Must be a non-empty list of endpoints, not a list."],
            },
        ),
    ],
)
def test_wrong_types_are_errors_at_their_path(alice, text, detail):
    assert errors.detail(refused(text, alice, environment=Environment.given({}))) == detail


# -- the gateway's own format: export and the round trip ---------------------------------------------------


def test_export_then_wipe_then_import_gives_the_same_document(env, alice):
    run(LITELLM, alice)
    endpoint = Endpoint.objects.get(name="embed")
    endpoint_services.update_endpoint(
        endpoint, actor=alice, description="Embeddings for search.\nSecond line.", rate_limit_rpm=600
    )
    first = transfer.export_endpoints(alice)
    assert "gateway_export: 1" in first
    assert "key: chat-prod-openai" in first
    assert_no_secret(first)
    assert all(key.secret_ciphertext not in first for key in Key.objects.all())

    for endpoint in Endpoint.objects.all():
        endpoint_services.delete_endpoint(endpoint, actor=alice)
    result = run(first, alice)
    assert result.format == "gateway"
    assert result.keys == []  # the export's models use the existing keys
    assert transfer.export_endpoints(alice) == first
    assert Endpoint.objects.get(name="embed").description == "Embeddings for search.\nSecond line."


def test_the_round_trip_through_the_commands_into_a_gateway_with_keys_of_the_same_names(env, alice, tmp_path):
    run(MLFLOW, alice)
    exported = tmp_path / "endpoints.yaml"
    call_command("export_endpoints", "--output", str(exported))
    first = exported.read_text()
    names = {key.name: key.provider for key in Key.objects.all()}
    for endpoint in Endpoint.objects.all():
        endpoint_services.delete_endpoint(endpoint, actor=alice)
    Key.objects.all().delete()
    owner = make_user("newowner")
    for name, provider in names.items():  # the same names, other secrets, in the "other" gateway
        extra = {"api_base": AZURE_BASE, "api_version": "2024-06-01"} if provider == "azure" else {}
        key_services.create_key(actor=owner, name=name, provider=provider, secret=f"sk-other-{name}-000000", **extra)
    call_command("import_endpoints", str(exported), "--owner", "newowner")
    again = tmp_path / "again.yaml"
    call_command("export_endpoints", "--output", str(again), "--user", "newowner")
    assert again.read_text() == first
    assert all(sharing.get_level(owner, endpoint) == Level.MANAGE for endpoint in Endpoint.objects.all())


def test_export_lists_only_what_the_caller_can_read(env, alice, bob):
    run(LITELLM, alice)
    assert transfer.export_endpoints(bob).endswith("gateway_export: 1\nendpoints: []\n")
    sharing.grant(Endpoint.objects.get(name="embed"), bob, Level.READ, actor=alice)
    exported = transfer.export_endpoints(bob)
    assert "- name: embed\n" in exported
    assert "name: chat-prod" not in exported


def test_a_gateway_export_names_keys_the_importer_may_use(env, alice, bob):
    run(LITELLM, alice)
    exported = transfer.export_endpoints(alice)
    for endpoint in Endpoint.objects.all():
        endpoint_services.delete_endpoint(endpoint, actor=alice)
    # bob can read alice's OpenAI key but not use it, and cannot see the other two.
    sharing.grant(Key.objects.get(name="chat-prod-openai"), bob, Level.READ, actor=alice)
    detail = errors.detail(refused(exported, bob))
    assert detail == {
        "endpoints[0].models[0].key": ["No key named “chat-prod-openai” that you may use (USE); create it first."],
        "endpoints[0].models[1].key": ["No key named “chat-prod-azure” that you may use (USE); create it first."],
        "endpoints[0].models[2].key": ["No key named “chat-prod-anthropic” that you may use (USE); create it first."],
        "endpoints[1].models[0].key": ["No key named “chat-prod-openai” that you may use (USE); create it first."],
    }
    key_services.create_key(actor=alice, name="chat-prod-azure", provider="azure", secret="x" * 20, api_base=AZURE_BASE)
    detail = errors.detail(refused(exported, alice))
    assert detail == {
        "endpoints[0].models[1].key": ["2 keys you may use are named “chat-prod-azure”; give one a name of its own."]
    }


def test_a_gateway_export_is_read_strictly(alice, openai_key):
    text = """
gateway_export: 1
extra: true
endpoints:
  - name: Not A Slug
    endpoint_type: chat
    models:
      - {provider: openai, model_name: gpt-4o, key: openai, weight: 1.0, priority: 1, colour: blue}
  - name: ok
    endpoint_type: nope
    models: []
  - name: typed
    endpoint_type: chat
    rate_limit_rpm: -5
    models:
      - {provider: anthropic, model_name: gpt-4o, key: openai}
"""
    assert errors.detail(refused(text, alice)) == {
        "extra": ["Unknown field: a gateway export has gateway_export and endpoints."],
        "endpoints[0].name": ["Must be lowercase letters, digits and dashes."],
        "endpoints[0].models[0].colour": [
            "Unknown field: one of provider, model_name, key, weight, priority, litellm_params."
        ],
        "endpoints[1].endpoint_type": [
            "Must be one of chat, completion, embedding, image_generation, audio_transcription, audio_speech, "
            "moderation, rerank, search."
        ],
        "endpoints[1].models": ["Must be a non-empty list of models, not a list."],
        "endpoints[2].rate_limit_rpm": ["Must be a whole number of at least 1, or null for no limit."],
    }


def test_a_gateway_export_reports_the_endpoint_rules_at_their_paths(alice, openai_key):
    text = """
gateway_export: 1
endpoints:
  - name: typed
    endpoint_type: chat
    models:
      - {provider: anthropic, model_name: claude-sonnet-4-5, key: openai, weight: 0.5}
      - {provider: openai, model_name: gpt-4o, key: openai, weight: 0.2, litellm_params: {api_base: http://x}}
"""
    assert errors.detail(refused(text, alice)) == {
        "endpoints[0].models[0].key": ["Key 'openai' is for openai, not anthropic."],
        "endpoints[0].models[1].litellm_params": [
            "'api_base' decides where the key's secret is sent; set it on the key, not on the endpoint's model."
        ],
    }


# -- the commands -------------------------------------------------------------------------------------------


def write(tmp_path, text, name="config.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_the_litellm_command_prints_the_plan_with_masked_secrets_only(env, alice, tmp_path, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    call_command("import_litellm_config", write(tmp_path, LITELLM), "--dry-run", "--owner", "alice")
    out, err = capsys.readouterr()
    assert counts() == (0, 0, 0, 0)
    assert out.splitlines()[:14] == [
        "Format: LiteLLM proxy config (model_list).",
        "",
        "Endpoints (2):",
        "  chat-prod  chat",
        '    openai/gpt-4o  priority 1  weight 0.9  key chat-prod-openai  {"rpm": 100}',
        "    azure/my-gpt4o  priority 1  weight 0.1  key chat-prod-azure",
        "    anthropic/claude-sonnet-4-5  priority 2  weight 1  key chat-prod-anthropic",
        "  embed  embedding",
        "    openai/text-embedding-3-small  priority 1  weight 1  key chat-prod-openai",
        "",
        "Keys to create (3):",
        "  chat-prod-openai  openai  secret sk-...abcd from os.environ/OPENAI_API_KEY",
        f"  chat-prod-azure  azure  api_base {AZURE_BASE}  api_version 2024-06-01  secret azu...6677 written in the "
        "file",
        "  chat-prod-anthropic  anthropic  secret sk-...wxyz from os.environ/ANTHROPIC_API_KEY",
    ]
    assert "  router_settings.routing_strategy: not imported: the gateway's Router settings apply" in out
    assert out.rstrip().endswith("Dry run: nothing was created.")
    assert_no_secret(out, err, caplog.text)

    call_command("import_litellm_config", write(tmp_path, LITELLM), "--owner", "alice")
    out, err = capsys.readouterr()
    assert "Created 2 endpoint(s) and 3 key(s)" in out
    assert counts()[:2] == (2, 3)
    assert_no_secret(out, err, caplog.text)


def test_a_refused_command_prints_every_error_and_fails(env, alice, tmp_path, capsys, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(CommandError, match=r"^2 error\(s\): nothing was imported\.$"):
        call_command("import_litellm_config", write(tmp_path, LITELLM), "--owner", "alice")
    out, err = capsys.readouterr()
    assert err.splitlines()[:6] == [
        "Format: LiteLLM proxy config (model_list).",
        "Refused: nothing was created.",
        "",
        "Errors (2):",
        "  model_list[0].litellm_params.api_key: The environment variable OPENAI_API_KEY is not set.",
        "  model_list[3].litellm_params.api_key: The environment variable OPENAI_API_KEY is not set.",
    ]
    assert counts() == (0, 0, 0, 0)
    assert_no_secret(out, err, caplog.text)


def test_the_mlflow_command_reads_dollar_references_from_the_environment(env, alice, tmp_path, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    call_command("import_mlflow_config", write(tmp_path, MLFLOW), "--owner", "alice")
    out, err = capsys.readouterr()
    key = Key.objects.get(name="chat-openai")
    assert f"  chat-openai  openai  secret sk-...abcd from $OPENAI_API_KEY  id {key.public_id}" in out.splitlines()
    assert Endpoint.objects.count() == 6
    assert_no_secret(out, err, caplog.text)
    with pytest.raises(CommandError, match=r"^1 error\(s\): nothing was imported\.$"):
        call_command("import_mlflow_config", write(tmp_path, LITELLM, "other.yaml"), "--owner", "alice")
    assert "  This file has no top-level endpoints, so it is not in the mlflow format" in capsys.readouterr().err


def test_the_owner_defaults_to_the_one_superuser_and_must_exist(env, admin_user, tmp_path, capsys):
    path = write(tmp_path, LITELLM)
    call_command("import_litellm_config", path, "--dry-run")  # root, the one superuser
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("import_litellm_config", path, "--owner", "nobody")
    make_user("root2", is_superuser=True)
    with pytest.raises(CommandError, match="Pass --owner USERNAME"):
        call_command("import_litellm_config", path)
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_litellm_config", str(tmp_path / "missing.yaml"), "--owner", "root")
    call_command("import_litellm_config", path, "--owner", "root")
    assert all(endpoint.created_by == admin_user for endpoint in Endpoint.objects.all())


def test_the_commands_refuse_a_file_over_one_mebibyte(alice, tmp_path):
    path = write(tmp_path, "#" * (transfer.MAX_DOCUMENT_BYTES + 1))
    with pytest.raises(CommandError, match="is larger than 1 MiB"):
        call_command("import_endpoints", path, "--owner", "alice")


def test_export_to_stdout(env, alice, capsys):
    run(LITELLM, alice)
    call_command("export_endpoints")
    out, _ = capsys.readouterr()
    assert out == transfer.export_endpoints()
    assert_no_secret(out)


def test_the_endpoint_type_follows_the_catalogs_mode_of_the_models(env, alice):
    text = """
model_list:
  - {model_name: transcribe, litellm_params: {model: openai/whisper-1, api_key: os.environ/OPENAI_API_KEY}}
  - {model_name: speak, litellm_params: {model: openai/tts-1, api_key: os.environ/OPENAI_API_KEY}}
  - {model_name: moderate, litellm_params: {model: omni-moderation-latest, api_key: os.environ/OPENAI_API_KEY}}
  - {model_name: rerank, litellm_params: {model: cohere/rerank-english-v3.0, api_key: os.environ/COHERE_API_KEY}}
  - {model_name: instruct, litellm_params: {model: gpt-3.5-turbo-instruct, api_key: os.environ/OPENAI_API_KEY}}
  - {model_name: chat, litellm_params: {model: gpt-4o, api_key: os.environ/OPENAI_API_KEY}}
"""
    result = run(text, alice, dry_run=True)
    assert [(e.name, e.endpoint_type, e.models[0].provider) for e in result.endpoints] == [
        ("transcribe", "audio_transcription", "openai"),
        ("speak", "audio_speech", "openai"),
        ("moderate", "moderation", "openai"),
        ("rerank", "rerank", "cohere"),
        ("instruct", "completion", "text-completion-openai"),  # the one provider the catalog lists it under
        ("chat", "chat", "openai"),
    ]


def test_the_command_reads_standard_input(env, alice, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(LITELLM.encode())))
    call_command("import_litellm_config", "-", "--dry-run", "--owner", "alice")
    assert "Dry run: nothing was created." in capsys.readouterr().out
