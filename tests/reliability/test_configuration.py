"""The reliability settings fail fast on a bad value, naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from gateway_site.env import env_choice
from tests.servers import ROOT

POLICY = "GATEWAY_RATE_LIMIT_ON_REDIS_ERROR"


def test_the_rate_limit_policy_is_allow_or_deny():
    assert env_choice(POLICY, "allow", ("allow", "deny"), environ={}) == "allow"
    assert env_choice(POLICY, "allow", ("allow", "deny"), environ={POLICY: " Deny "}) == "deny"
    with pytest.raises(ImproperlyConfigured, match=f"{POLICY} must be one of allow, deny; got 'maybe'"):
        env_choice(POLICY, "allow", ("allow", "deny"), environ={POLICY: "maybe"})


@pytest.mark.parametrize("name, value", [(POLICY, "open"), ("GATEWAY_DRAIN_SECONDS", "-1")])
def test_a_bad_value_stops_the_process_at_start(name, value):
    env = {**os.environ, name: value}
    result = subprocess.run(
        [sys.executable, "-c", "import gateway_site.settings"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert name in result.stderr.splitlines()[-1]
