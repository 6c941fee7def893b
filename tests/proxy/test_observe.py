"""Each proxied request's trace span (GenAI semantic conventions) and its one structured log line.

Spans go to the OpenTelemetry SDK's in-memory exporter; the requests are made
over real HTTP with the official SDKs, on the direct and the translated path.
"""

from __future__ import annotations

import json
import logging
import time
from logging.config import DictConfigurator

import anthropic
import httpx
import openai
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from endpoints.models import RequestLog
from proxy import observe
from proxy.usage import recorder

PROMPT = "the secret plan for the quarterly review"
MESSAGES = [{"role": "user", "content": PROMPT}]


@pytest.fixture
def spans():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    observe.use_tracer_provider(provider)
    yield exporter
    observe.use_tracer_provider(None)
    provider.shutdown()


def _one_span(exporter: InMemorySpanExporter):
    """The one span of the request just made (a stream's ends just after its last chunk was sent)."""
    deadline = time.monotonic() + 5
    while not (finished := exporter.get_finished_spans()) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(finished) == 1, [span.name for span in finished]
    return finished[0]


def _client(gateway, token: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=token, max_retries=0)


@pytest.mark.usefixtures("both_paths")
def test_a_chat_completion_is_one_span_with_the_genai_attributes(gateway, world, spans):
    endpoint = world.endpoint(name="chat-prod")
    raw = _client(gateway, world.token(world.alice)).chat.completions.with_raw_response.create(
        model="chat-prod", messages=MESSAGES
    )
    completion = raw.parse()
    span = _one_span(spans)
    recorder.flush()
    log = RequestLog.objects.get()

    assert span.name == "chat chat-prod"
    assert span.kind is SpanKind.SERVER
    assert span.status.status_code is StatusCode.UNSET
    attributes = dict(span.attributes)
    assert attributes == {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "chat-prod",
        "gen_ai.response.model": "upstream-a",
        "gen_ai.provider.name": "openai",
        "gen_ai.usage.input_tokens": completion.usage.prompt_tokens,
        "gen_ai.usage.output_tokens": completion.usage.completion_tokens,
        "http.request.method": "POST",
        "url.path": "/v1/chat/completions",
        "http.response.status_code": 200,
        "gateway.request_id": raw.headers["x-request-id"],
        "gateway.endpoint.name": "chat-prod",
        "gateway.endpoint.id": endpoint.pk.hex,
        "gateway.model_id": raw.headers["x-gateway-model-id"],
        "gateway.attempts": 1,
        "gateway.stream": False,
    }
    assert completion.usage.prompt_tokens == log.prompt_tokens > 0
    # The span lasts as long as the request: the same latency as its usage row, within a millisecond.
    assert abs((span.end_time - span.start_time) / 1e6 - log.latency_ms) < 1


@pytest.mark.usefixtures("both_paths")
def test_a_stream_span_has_its_tokens_and_time_to_first_token(gateway, world, spans):
    world.endpoint()
    stream = _client(gateway, world.token(world.alice)).chat.completions.create(
        model="chat", messages=MESSAGES, stream=True
    )
    assert "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    span = _one_span(spans)
    recorder.flush()
    log = RequestLog.objects.get()
    assert span.attributes["gateway.stream"] is True
    assert span.attributes["gen_ai.usage.output_tokens"] == log.completion_tokens > 0
    assert span.attributes["gateway.time_to_first_token_ms"] == pytest.approx(log.ttft_ms, abs=0.01)


def test_an_anthropic_messages_call_is_a_chat_span(gateway, world, spans):
    key = world.make_key("anthropic", name="anthropic", secret="sk-ant-observe-secret-01", api_base=world.upstream.url)
    world.endpoint(name="claude", models=[world.model("claude-haiku-4-5", key=key, provider="anthropic")])
    client = anthropic.Anthropic(base_url=gateway.url, api_key=world.token(world.alice), max_retries=0)
    message = client.messages.create(model="claude", max_tokens=16, messages=MESSAGES)
    span = _one_span(spans)
    assert span.name == "chat claude"
    assert span.attributes["gen_ai.provider.name"] == "anthropic"
    assert span.attributes["gen_ai.usage.input_tokens"] == message.usage.input_tokens
    assert span.attributes["gen_ai.usage.output_tokens"] == message.usage.output_tokens


def test_a_failed_request_is_an_error_span_with_its_type_and_attempts(gateway, world, spans):
    world.upstream.configure("down", fail_status=500)
    world.endpoint(name="flaky", models=[world.model("down")])
    with pytest.raises(openai.APIStatusError) as failure:
        _client(gateway, world.token(world.alice)).chat.completions.create(model="flaky", messages=MESSAGES)
    span = _one_span(spans)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["http.response.status_code"] == failure.value.status_code == 502
    assert span.attributes["error.type"] == failure.value.body["code"] == "provider_error"
    recorder.flush()
    assert span.attributes["gateway.attempts"] == RequestLog.objects.get().attempts


def test_a_refused_caller_is_traced_without_an_endpoint(gateway, world, spans):
    world.endpoint()
    with pytest.raises(openai.AuthenticationError):
        _client(gateway, "gw_not-a-token").chat.completions.create(model="chat", messages=MESSAGES)
    span = _one_span(spans)
    assert span.name == "chat"
    assert span.attributes["http.response.status_code"] == 401
    assert "gen_ai.request.model" not in span.attributes
    assert span.status.status_code is StatusCode.ERROR


def test_the_span_joins_the_callers_trace(gateway, world, spans):
    world.endpoint()
    trace_id, parent_id = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    httpx.post(
        f"{gateway.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {world.token(world.alice)}", "traceparent": f"00-{trace_id}-{parent_id}-01"},
        json={"model": "chat", "messages": MESSAGES},
        timeout=30,
    ).raise_for_status()
    span = _one_span(spans)
    assert format(span.context.trace_id, "032x") == trace_id
    assert format(span.parent.span_id, "016x") == parent_id


def test_no_prompt_or_response_content_reaches_a_span(gateway, world, spans):
    world.endpoint()
    completion = _client(gateway, world.token(world.alice)).chat.completions.create(model="chat", messages=MESSAGES)
    exported = _one_span(spans).to_json()
    assert PROMPT not in exported
    assert completion.choices[0].message.content not in exported


def test_without_an_otlp_endpoint_nothing_is_traced(monkeypatch):
    assert observe.configure_from_environment({}) is None
    assert observe.configure_from_environment({"OTEL_SDK_DISABLED": "true"}) is None
    # The process under test started without OTLP variables: there is no tracer to build spans with.
    assert observe._tracer is None


def test_an_otlp_endpoint_turns_on_batched_export(monkeypatch):
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    monkeypatch.setattr("opentelemetry.trace.set_tracer_provider", lambda provider: None)
    provider = observe.configure_from_environment(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_SERVICE_NAME": "gw-test"}
    )
    try:
        assert observe._tracer is not None
        (processor,) = provider._active_span_processor._span_processors
        assert isinstance(processor, BatchSpanProcessor)
        assert isinstance(processor._batch_processor._exporter, OTLPSpanExporter)
        assert provider.resource.attributes["service.name"] == "gw-test"
    finally:
        observe.use_tracer_provider(None)
        provider.shutdown()


# -- the request log line ----------------------------------------------------------------
@pytest.fixture
def request_lines():
    """Records of the ``gateway.requests`` logger (what the console handler would write)."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    target = logging.getLogger("gateway.requests")
    target.addHandler(handler)
    yield records
    target.removeHandler(handler)


def test_by_default_a_request_writes_no_line_at_info(gateway, world, request_lines):
    world.endpoint()
    _client(gateway, world.token(world.alice)).chat.completions.create(model="chat", messages=MESSAGES)
    assert request_lines == []


@pytest.mark.usefixtures("both_paths")
def test_one_line_per_request_at_the_configured_level(gateway, world, request_lines, settings):
    settings.GATEWAY_REQUEST_LOG_LEVEL = logging.INFO
    world.endpoint()
    raw = _client(gateway, world.token(world.alice)).chat.completions.with_raw_response.create(
        model="chat", messages=MESSAGES
    )
    (record,) = request_lines
    assert record.levelno == logging.INFO
    line = record.getMessage()
    assert line.startswith("POST /v1/chat/completions 200 ")
    assert f"request_id={raw.headers['x-request-id']}" in line
    assert "endpoint=chat model=openai/upstream-a attempts=1" in line
    assert PROMPT not in line


def test_the_json_format_has_every_field_as_a_key(gateway, world, request_lines, settings):
    settings.GATEWAY_REQUEST_LOG_LEVEL = logging.INFO
    world.endpoint()
    raw = _client(gateway, world.token(world.alice)).chat.completions.with_raw_response.create(
        model="chat", messages=MESSAGES
    )
    configurator = DictConfigurator(settings.LOGGING)
    formatter = configurator.configure_formatter(dict(settings.LOGGING["formatters"]["json"]))
    (record,) = request_lines
    line = formatter.format(record)
    assert "\n" not in line
    fields = json.loads(line)
    assert fields["level"] == "INFO" and fields["logger"] == "gateway.requests" and fields["time"]
    assert fields["request_id"] == raw.headers["x-request-id"]
    assert fields["status"] == 200 and fields["endpoint"] == "chat" and fields["model"] == "openai/upstream-a"
    assert fields["prompt_tokens"] == raw.parse().usage.prompt_tokens
    assert fields["token_id"] and fields["user_id"] == world.alice.pk
    assert fields["message"].startswith("POST /v1/chat/completions 200 ")


def test_gateway_log_format_json_configures_the_console_handler():
    import subprocess
    import sys

    from tests.gateway_site.test_env import PRODUCTION_ENV, ROOT

    script = "import logging; print(type(logging.getLogger().handlers[0].formatter).__name__)"
    env = {**PRODUCTION_ENV, "GATEWAY_LOG_FORMAT": "json", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ScrubbedJsonFormatter"
