"""The benchmark's verdicts: figures in, the right PASS/FAIL out (no load is run here)."""

import importlib.util
import sys
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("bench_run", Path(__file__).resolve().parents[1] / "bench" / "run.py")
bench = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = bench  # dataclasses look their module up there
_spec.loader.exec_module(bench)


def result(rps, p50=1.0, ttft=None, cpu=None, rss=None):
    return {
        "rps": rps,
        "p50_ms": p50,
        "p99_ms": p50 * 2,
        "ttft_p50_ms": ttft,
        "cpu_ms": cpu,
        "rss_mib": rss,
        "errors": 0,
    }


def figures(ours_rps=1000.0, ours_p50=1.5, ours_cpu=0.5, translated_rps=200.0):
    """Two rounds of every scenario the verdicts read; LiteLLM at 100 req/s and 10 ms added."""

    def both(**kwargs):
        return [result(**kwargs), result(**kwargs)]

    return {
        "direct": {"chat_c1": both(rps=5000, p50=0.5), "stream_c1": both(rps=5000, p50=0.5, ttft=0.5)},
        "ours": {
            "chat_c1": both(rps=500, p50=ours_p50),
            "stream_c1": both(rps=500, p50=ours_p50, ttft=ours_p50),
            "chat_c32": both(rps=ours_rps, cpu=ours_cpu, rss=200),
            "stream_c32": both(rps=ours_rps),
        },
        "ours_translated": {"chat_c32": both(rps=translated_rps)},
        "litellm": {
            "chat_c1": both(rps=90, p50=10.5),
            "stream_c1": both(rps=90, p50=10.5, ttft=10.5),
            "chat_c32": both(rps=100),
            "stream_c32": both(rps=100),
        },
    }


def verdicts(by, memory=None):
    return {name: ok for name, ok, _ in bench.targets_met(by, memory or {})}


def test_every_target_passes_when_the_figures_meet_it():
    assert all(verdicts(figures(), {"rss_10k_mib": 200, "rss_100k_mib": 205}).values())


@pytest.mark.parametrize(
    ("change", "failing"),
    [
        ({"ours_rps": 999.0}, {"chat_c32: >= 10x LiteLLM's req/s", "stream_c32: >= 10x LiteLLM's req/s"}),
        # added: 1.5 - 0.5 = 1.0 ms against LiteLLM's 10.0 ms passes; 1.6 - 0.5 = 1.1 ms does not.
        (
            {"ours_p50": 1.6},
            {"chat_c1: added p50 <= 0.1x LiteLLM's", "stream_c1: added time to first token <= 0.1x LiteLLM's"},
        ),
        ({"ours_cpu": 1.31}, {"CPU per chat request <= 1.3 ms"}),
        ({"translated_rps": 149.0}, {"translated path: >= 1.5x LiteLLM's req/s"}),
    ],
)
def test_each_target_fails_alone_when_its_figure_misses(change, failing):
    assert {name for name, ok in verdicts(figures(**change)).items() if not ok} == failing


def test_memory_must_stay_under_250_mib_and_flat():
    assert verdicts(figures(), {"rss_10k_mib": 240, "rss_100k_mib": 251})["RSS <= 250 MiB"] is False
    grown = verdicts(figures(), {"rss_10k_mib": 200, "rss_100k_mib": 211})
    assert grown["RSS flat (within 5%) from 10k to 100k requests"] is False
    assert grown["RSS <= 250 MiB"] is True


def test_the_table_shows_each_figure_and_the_ratio_to_litellm(capsys):
    targets = [bench.Target(name, "", "") for name in ("direct", "ours", "ours_translated", "litellm")]
    by = figures()
    for target in targets:
        target.results = by[target.name]
    bench.report(targets, {})
    rows = {
        tuple(cell.strip() for cell in line.strip("|").split("|")[:2]): line
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("| chat_c32")
    }
    assert rows[("chat_c32", "ours")] == "| chat_c32 | ours | 1000 | 1.00 | 2.00 | - | 0.50 | 200 | 0 | 10.0x |"
    assert rows[("chat_c32", "litellm")].endswith("| 0 |  |")
