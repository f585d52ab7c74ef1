"""deploy/: the Prometheus rules and the Grafana dashboard ask only for metrics a real hub
exports (scraped over HTTP and compared by name); promtool checks the rules when installed."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from deskalert.hub.settings import token_hash
from support.hubs import RunningHub, start_threaded_hub
from support.roster import make_config

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
RULES = DEPLOY / "prometheus" / "deskalert.rules.yml"
DASHBOARD = DEPLOY / "grafana" / "deskalert-dashboard.json"
METRIC = re.compile(r"\bdeskalert_[a-z_]+\b")


def rule_expressions() -> list[str]:
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    assert rules and all({"alert", "expr"} <= set(rule) for rule in rules)
    return [str(rule["expr"]) for rule in rules]


def dashboard_expressions() -> list[str]:
    panels = json.loads(DASHBOARD.read_text(encoding="utf-8"))["panels"]
    return [target["expr"] for panel in panels for target in panel["targets"]]


@pytest.fixture
def exported(tmp_path: Path) -> set[str]:
    """Every sample name a real hub exports (a labelled family without samples yet is listed by
    its HELP and TYPE lines: its sample names follow from its type)."""
    config = make_config()
    config.metrics.token_sha256 = token_hash("scrape")
    hub: RunningHub = start_threaded_hub(config, tmp_path / "hub")
    try:
        text = httpx.get(f"{hub.url}/metrics", headers={"Authorization": "Bearer scrape"}).text
    finally:
        hub.stop()
    suffixes = {
        "counter": ("_total",),
        "histogram": ("_bucket", "_count", "_sum"),
        "info": ("_info",),
        "gauge": ("",),
    }
    return {
        family.name + suffix
        for family in text_string_to_metric_families(text)
        for suffix in suffixes[family.type]
    }


@pytest.mark.stores("sqlite")  # the names do not depend on the store
@pytest.mark.parametrize("where", ["rules", "dashboard"])
def test_deploy_asks_only_for_exported_metrics(where: str, exported: set[str]) -> None:
    expressions = rule_expressions() if where == "rules" else dashboard_expressions()
    asked = {name for expr in expressions for name in METRIC.findall(expr)}
    assert asked, "no deskalert metric asked for"
    assert asked <= exported, f"not exported by the hub: {sorted(asked - exported)}"


def test_promtool_accepts_the_rules() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (Debian package prometheus)")
    done = subprocess.run(
        [promtool, "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
