"""Chat through the proxy with the official OpenAI SDK, over real HTTP to the fake upstream."""

from __future__ import annotations

import httpx
import openai
import pytest

from endpoints.models import RequestLog
from proxy.usage import recorder
from tests.proxy.conftest import UPSTREAM_SECRET

# Every test here runs on the direct path and on LiteLLM's translated path.
pytestmark = pytest.mark.usefixtures("both_paths")


def client(gateway, token, **kwargs) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=token, max_retries=0, **kwargs)


def test_a_chat_completion_round_trip(gateway, world):
    world.endpoint()
    response = client(gateway, world.token(world.alice)).chat.completions.with_raw_response.create(
        model="chat", messages=[{"role": "user", "content": "hi there"}]
    )
    completion = response.parse()
    assert "upstream-a" in completion.choices[0].message.content
    assert response.headers["x-gateway-model"] == "openai/upstream-a"
    assert response.headers["x-gateway-attempts"] == "1"
    sent = world.upstream.requests()[-1]
    assert sent["headers"]["authorization"] == f"Bearer {UPSTREAM_SECRET}"
    assert world.token(world.alice) not in str(sent["headers"])
    recorder.flush()
    log = RequestLog.objects.get()
    assert log.status_code == 200 and log.model_served == "openai/upstream-a"
    assert log.prompt_tokens > 0 and log.completion_tokens > 0 and log.attempts == 1


def test_streaming_is_real_sse_ending_with_done(gateway, world):
    world.endpoint()
    with httpx.stream(
        "POST",
        f"{gateway.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {world.token(world.alice)}"},
        json={"model": "chat", "messages": [{"role": "user", "content": "hi"}], "stream": True},
        timeout=30,
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line]
    assert lines[-1] == "data: [DONE]"
    assert all(line.startswith("data: ") for line in lines)
    # The client did not ask for usage, so no usage-only chunk reaches it...
    assert not any('"choices":[]' in line for line in lines)
    recorder.flush()
    # ...but the gateway still metered the stream.
    log = RequestLog.objects.get()
    assert log.stream and log.completion_tokens > 0 and log.ttft_ms is not None


def test_stream_options_include_usage(gateway, world):
    world.endpoint()
    stream = client(gateway, world.token(world.alice)).chat.completions.create(
        model="chat",
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "upstream-a" in text


def test_the_async_sdk(gateway, world):
    import asyncio

    world.endpoint()
    token = world.token(world.alice)

    async def main():
        async_client = openai.AsyncOpenAI(base_url=f"{gateway.url}/v1", api_key=token, max_retries=0)
        results = await asyncio.gather(
            *(
                async_client.chat.completions.create(model="chat", messages=[{"role": "user", "content": "hi"}])
                for _ in range(5)
            )
        )
        await async_client.close()
        return results

    results = asyncio.run(main())
    assert all("upstream-a" in r.choices[0].message.content for r in results)
