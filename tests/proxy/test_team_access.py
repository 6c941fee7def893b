"""An endpoint shared with a team at USE: its members call it through the proxy, and stop the moment they leave.

The proxy caches who may call what; a membership change made through ``teams.services`` must reach it.
"""

from __future__ import annotations

import openai
import pytest

from sharing import services as sharing
from sharing.levels import Level
from teams import services as teams

MESSAGES = [{"role": "user", "content": "hi from the team"}]


def test_a_member_calls_an_endpoint_shared_with_the_team_until_removed(gateway, world):
    endpoint = world.endpoint()
    team = teams.create_team(actor=world.alice, name="callers")
    sharing.grant(endpoint, team.group, Level.USE, actor=world.alice)
    bob = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=world.token(world.bob), max_retries=0)
    with pytest.raises(openai.NotFoundError):
        bob.chat.completions.create(model="chat", messages=MESSAGES)  # not in the team yet

    teams.add_member(team, world.bob, actor=world.alice)
    assert bob.chat.completions.create(model="chat", messages=MESSAGES).choices[0].message.content

    teams.remove_member(team, world.bob, actor=world.alice)
    with pytest.raises(openai.NotFoundError):
        bob.chat.completions.create(model="chat", messages=MESSAGES)
