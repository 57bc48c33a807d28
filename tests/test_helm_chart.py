"""The Helm chart, checked without the helm binary (not installable here): every `.Values` path a
template reads exists in values.yaml, every included template is defined, the actions are balanced,
and the chart has what ARCHITECTURE.md asks (api, worker, migration Job, config, secrets, probes, HPA)."""

import re
from pathlib import Path

import yaml

CHART = Path(__file__).resolve().parents[1] / "helm" / "dianshu"


def values() -> dict:
    return yaml.safe_load((CHART / "values.yaml").read_text())


def templates() -> dict[str, str]:
    return {p.name: p.read_text() for p in (CHART / "templates").iterdir()}


def test_chart_metadata():
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2" and chart["name"] == "dianshu"


def test_every_values_path_exists():
    v = values()
    missing = []
    for name, text in templates().items():
        for path in re.findall(r"\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)", text):
            node = v
            for key in path.strip(".").split("."):
                if not isinstance(node, dict) or key not in node:
                    missing.append(f"{name}: .Values{path}")
                    break
                node = node[key]
    assert missing == []


def test_includes_are_defined_and_actions_balanced():
    texts = templates()
    defined = set(re.findall(r'define "([^"]+)"', texts["_helpers.tpl"]))
    for name, text in texts.items():
        # Every action closes (a stray "}}" may be a YAML flow map's end, e.g. `{name: {{ x }}}`).
        assert "{{" not in re.sub(r"{{.*?}}", "", text, flags=re.S), f"{name}: unclosed action"
        for used in re.findall(r'include "([^"]+)"', text):
            assert used in defined, f"{name} includes undefined {used}"
        opens = len(re.findall(r"{{-?\s*(?:if|range|with|define)\b", text))
        ends = len(re.findall(r"{{-?\s*end\b", text))
        assert opens == ends, f"{name}: {opens} blocks opened, {ends} closed"


def test_chart_has_the_required_resources():
    text = "\n".join(templates().values())
    for kind in (
        "Deployment",
        "Job",
        "ConfigMap",
        "Secret",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
    ):
        assert f"kind: {kind}" in text, kind
    assert '"helm.sh/hook": pre-install,pre-upgrade' in templates()["migrate-job.yaml"]
    api = templates()["api-deployment.yaml"]
    assert "path: /healthz" in api and "path: /readyz" in api
    # The API and workers get the runtime role's URL only; the owner URL is for the migration Job.
    helpers = templates()["_helpers.tpl"]
    runtime_env = helpers[helpers.index('define "dianshu.runtimeEnv"') :]
    assert "key: DATABASE_URL" not in runtime_env


def test_the_api_serves_with_several_processes():
    """The deployment's command passes the chart's worker count to `dianshu serve --workers`, and
    the CPU limit leaves each process a core or a share of one."""
    v = values()["api"]
    assert isinstance(v["workers"], int) and v["workers"] >= 2
    api = templates()["api-deployment.yaml"]
    (command,) = re.findall(r"command: (\[.*\])", api)
    assert '"--workers", "{{ .Values.api.workers }}"' in command
    assert command.startswith('["dianshu", "serve"')
    limit = str(v["resources"]["limits"]["cpu"])
    cores = float(limit[:-1]) / 1000 if limit.endswith("m") else float(limit)
    assert v["workers"] <= max(1, round(cores * 2)), "more processes than the CPU limit can run"
