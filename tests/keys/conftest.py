from __future__ import annotations

import pytest

from keys import services


@pytest.fixture
def make_key():
    def make(owner, *, name="openai-prod", provider="openai", secret="sk-test-1234567890abcdefWXYZ"):
        return services.create_key(actor=owner, name=name, provider=provider, secret=secret)

    return make
