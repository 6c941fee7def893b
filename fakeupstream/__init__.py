"""A fake OpenAI-compatible upstream provider for tests and benchmarks.

Nothing here talks to a real provider.  The server (``fakeupstream.server``) is
a small aiohttp application that answers the OpenAI routes (chat, completions,
embeddings, images, audio, moderations), a Cohere/vLLM style ``/v1/rerank`` and
the Anthropic ``/v1/messages`` API with deterministic fake data.  Its
behaviour can be changed per model name (failures, 429 rate limits, delays,
slow streams) and it records every request it receives.

Tests run it in-process, in a background thread with its own event loop::

    from fakeupstream import FakeUpstream

    with FakeUpstream() as upstream:          # binds 127.0.0.1 on a free port
        upstream.configure("gpt-x", fail_status=500, fail_times=1)
        ...  # point the gateway's provider api_base at f"{upstream.url}/v1"
        assert upstream.stats()["hits"]["gpt-x"] == 2
        assert upstream.requests("gpt-x")[0]["headers"]["authorization"] == "Bearer sk-provider"

The benchmark starts it as a separate process and reads the first stdout line::

    python -m fakeupstream --host 127.0.0.1 --port 0
    # -> LISTENING http://127.0.0.1:54321

and drives it over HTTP with ``POST /_control``, ``POST /_reset``,
``GET /_stats`` and ``GET /_requests``.
"""

from fakeupstream.fixture import FakeUpstream
from fakeupstream.server import create_app

__all__ = ["FakeUpstream", "create_app"]
