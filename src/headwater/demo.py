"""The demo, in stages. Each capability adds a stage: a function ``stage(platform, console) -> dict``
that does its part on the scaffolded e-commerce project and prints what a person should see.
Stages run in order; the summary of each lands in ``headwater demo --json``.
"""

from __future__ import annotations

import importlib

DEMO_STAGES: list[tuple[str, str]] = [
    ("build", "headwater.demo_build:stage"),
    ("contracts", "headwater.contracts.demo:stage"),
    ("cost", "headwater.cost.demo:stage"),
    ("slo", "headwater.observe.demo:stage"),
    ("streaming", "headwater.lanes.streaming.demo:stage"),
    ("cdc", "headwater.lanes.cdc.demo:stage"),
    ("diagnose", "headwater.diagnose.demo:stage"),
]


def run_stages(platform, console, only: list[str] | None = None) -> dict:
    results = {}
    for name, target in DEMO_STAGES:
        if only and name not in only:
            continue
        module, _, func = target.partition(":")
        results[name] = getattr(importlib.import_module(module), func)(platform, console)
    return results
