"""Each endpoint type through its route with the official SDKs, plus invocations and /v1/models."""

from __future__ import annotations

import anthropic
import httpx
import openai
import pytest

# Every test here runs on the direct path and on LiteLLM's translated path.
pytestmark = pytest.mark.usefixtures("both_paths")


def sdk(gateway, world, user=None):
    return openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=world.token(user or world.alice), max_retries=0)


def test_completions(gateway, world):
    world.endpoint(name="legacy", endpoint_type="completion", models=[world.model("text-model")])
    completion = sdk(gateway, world).completions.create(model="legacy", prompt="Say hi")
    assert "text-model" in completion.choices[0].text


def test_embeddings(gateway, world):
    world.endpoint(name="vectors", endpoint_type="embedding", models=[world.model("embedder")])
    result = sdk(gateway, world).embeddings.create(model="vectors", input=["one", "two"])
    assert len(result.data) == 2 and len(result.data[0].embedding) == 8


def test_images(gateway, world):
    world.endpoint(name="pictures", endpoint_type="image_generation", models=[world.model("painter")])
    result = sdk(gateway, world).images.generate(model="pictures", prompt="a cat")
    assert result.data[0].url


def test_transcriptions(gateway, world):
    world.endpoint(name="ears", endpoint_type="audio_transcription", models=[world.model("whisperish")])
    result = sdk(gateway, world).audio.transcriptions.create(model="ears", file=("hello.wav", b"RIFF" + b"0" * 100))
    assert "hello.wav" in result.text


def test_speech_returns_binary_audio(gateway, world):
    world.endpoint(name="voice", endpoint_type="audio_speech", models=[world.model("speaker")])
    audio = sdk(gateway, world).audio.speech.create(model="voice", input="hello", voice="alloy")
    assert audio.content.startswith(b"ID3")


def test_moderations(gateway, world):
    world.endpoint(name="guard", endpoint_type="moderation", models=[world.model("moderator")])
    result = sdk(gateway, world).moderations.create(model="guard", input="fake-flag this")
    assert result.results[0].flagged is True


def test_rerank(gateway, world):
    key = world.make_key("hosted_vllm", name="vllm", secret="sk-vllm-secret-000111")
    model = world.model("reranker", key=key, provider="hosted_vllm")
    world.endpoint(name="ranker", endpoint_type="rerank", models=[model])
    response = httpx.post(
        f"{gateway.url}/v1/rerank",
        headers={"Authorization": f"Bearer {world.token(world.alice)}"},
        json={"model": "ranker", "query": "red fruit", "documents": ["a red apple", "a blue car"], "top_n": 1},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert response.json()["results"][0]["index"] == 0


def test_anthropic_messages_in_and_out(gateway, world):
    world.endpoint()
    client = anthropic.Anthropic(base_url=gateway.url, api_key=world.token(world.alice), max_retries=0)
    message = client.messages.create(model="chat", max_tokens=50, messages=[{"role": "user", "content": "hi"}])
    assert message.type == "message"
    assert "upstream-a" in message.content[0].text


def test_anthropic_errors_use_the_anthropic_shape(gateway, world):
    response = httpx.post(
        f"{gateway.url}/v1/messages",
        headers={"x-api-key": "gw_bad_token"},
        json={"model": "chat", "max_tokens": 5, "messages": []},
        timeout=10,
    )
    assert response.status_code == 401
    assert response.json()["type"] == "error" and response.json()["error"]["type"] == "authentication_error"


def test_the_invocations_url_dispatches_by_type(gateway, world):
    world.endpoint(name="vectors", endpoint_type="embedding", models=[world.model("embedder")])
    response = httpx.post(
        f"{gateway.url}/gateway/vectors/invocations",
        headers={"Authorization": f"Bearer {world.token(world.alice)}"},
        json={"input": "hello"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert len(response.json()["data"]) == 1


def test_models_lists_running_endpoints_the_caller_may_use(gateway, world):
    from sharing.levels import Level

    usable = world.endpoint(name="usable")
    readable = world.endpoint(name="readable", models=[world.model("x")])
    world.endpoint(name="stopped", start=False)
    world.share(usable, world.bob, Level.USE)
    world.share(readable, world.bob, Level.READ)
    assert [m.id for m in sdk(gateway, world).models.list()] == ["readable", "usable"]
    assert [m.id for m in sdk(gateway, world, world.bob).models.list()] == ["usable"]


def test_anthropic_messages_streaming(gateway, world):
    world.endpoint()
    client = anthropic.Anthropic(base_url=gateway.url, api_key=world.token(world.alice), max_retries=0)
    with client.messages.stream(model="chat", max_tokens=50, messages=[{"role": "user", "content": "hi"}]) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert "upstream-a" in text
    assert final.stop_reason is not None
