"""deploy/: the Kustomize base and overlays render, validate offline, and follow the policy.

Rendering is tests/support/kustomize.py (pure Python; compared with `kubectl kustomize` where
kubectl exists). Built-in kinds are validated with kubernetes-validate's bundled schemas (strict:
unknown fields fail) for the oldest and newest Kubernetes this targets; the custom resources
(ServiceMonitor, PrometheusRule, ScaledObject, TriggerAuthentication) against the structural
schemas in tests/support/crds.py.
"""

from __future__ import annotations

import copy
import functools
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import SchemaNotFoundError

from consumer import metrics
from consumer.config import Settings, load_settings
from consumer.directory import parse_channels
from consumer.urlpolicy import UrlPolicy
from tests.support import crds
from tests.support.kustomize import (
    KustomizeError,
    UnsupportedFeature,
    build,
    json_patch,
    split_image,
)

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
OPERATIONS_DOC = ROOT / "docs" / "operations.md"
TARGETS = {
    "base": DEPLOY / "base",
    "example": DEPLOY / "overlays" / "example",
    "example-keda": DEPLOY / "overlays" / "example-keda",
}
OVERLAYS = ("example", "example-keda")  # complete: every referenced Secret is defined
KUBERNETES_VERSIONS = ("1.30", kubernetes_validate.utils.latest_version())
# ARCHITECTURE.md §1: on SIGTERM in-flight attempts finish within ~6 s (5 s budget + commit).
DRAIN_SECONDS = 6
# Metrics the alert rules may use that come from elsewhere (a Kafka exporter).
EXTERNAL_METRICS = frozenset({"kafka_consumergroup_lag"})
NAME = "transcodes-webhooks"
POD_TMP = "/tmp"  # noqa: S108 - the pod's emptyDir mount path, no temp file is made here
Manifest = dict[str, Any]


@functools.cache
def _rendered(target: str) -> tuple[Manifest, ...]:
    return tuple(build(TARGETS[target]))


def rendered(target: str) -> list[Manifest]:
    return copy.deepcopy(list(_rendered(target)))


def one(objs: list[Manifest], kind: str, name: str | None = None) -> Manifest:
    found = [o for o in objs if o["kind"] == kind and name in (None, o["metadata"]["name"])]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def container(objs: list[Manifest]) -> Manifest:
    containers = one(objs, "Deployment")["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    result: Manifest = containers[0]
    return result


def config_data(objs: list[Manifest]) -> dict[str, str]:
    cm = one(objs, "ConfigMap")
    assert cm["metadata"]["name"].startswith(f"{NAME}-config-"), "generated with a hash suffix"
    data: dict[str, str] = cm["data"]
    return data


def documented_partitions() -> int:
    match = re.search(
        r"assume \*\*(\d+) partitions\*\*", OPERATIONS_DOC.read_text(encoding="utf-8")
    )
    assert match, "docs/operations.md states the partition count the manifests assume"
    return int(match.group(1))


def all_resources() -> list[tuple[str, Manifest]]:
    return [(t, o) for t in TARGETS for o in _rendered(t)]


def _resource_id(param: object) -> str:
    if isinstance(param, dict):
        return f"{param['kind']}/{param['metadata']['name']}"
    return str(param)


# --- rendering and schemas ------------------------------------------------------------------


@pytest.mark.parametrize("target", TARGETS)
def test_each_kustomization_renders_the_expected_kinds(target: str) -> None:
    kinds = sorted(o["kind"] for o in rendered(target))
    expected = [
        "ConfigMap",
        "Deployment",
        "PodDisruptionBudget",
        "PrometheusRule",
        "Service",
        "ServiceAccount",
        "ServiceMonitor",
    ]
    if target != "base":
        expected += ["Secret", "Secret"]
    if target == "example-keda":
        expected += ["ScaledObject", "TriggerAuthentication"]
    assert kinds == sorted(expected)


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize(
    ("target", "obj"),
    [
        pytest.param(t, o, id=f"{t}-{_resource_id(o)}")
        for t, o in all_resources()
        if not crds.is_custom(o)
    ],
)
def test_builtin_kinds_validate_against_the_kubernetes_schema(
    target: str, obj: Manifest, version: str
) -> None:
    try:
        kubernetes_validate.validate(obj, version, strict=True)
    except SchemaNotFoundError as exc:  # pragma: no cover - would mean a kind we did not plan
        pytest.fail(f"{target}: no schema for {exc.kind} {exc.api_version}")
    except kubernetes_validate.ValidationError as exc:
        path = ".".join(str(p) for p in exc.path)
        pytest.fail(
            f"{target} {_resource_id(obj)} invalid for Kubernetes {version}: {path}: {exc.message}"
        )


@pytest.mark.parametrize(
    ("target", "obj"),
    [
        pytest.param(t, o, id=f"{t}-{_resource_id(o)}")
        for t, o in all_resources()
        if crds.is_custom(o)
    ],
)
def test_custom_resources_have_the_structure_of_their_crds(target: str, obj: Manifest) -> None:
    crds.validate_custom(obj)


def test_the_schema_validation_rejects_a_misspelled_field_and_a_wrong_type() -> None:
    deployment = one(rendered("example"), "Deployment")
    typo = copy.deepcopy(deployment)
    typo["spec"]["template"]["spec"]["containers"][0]["livenessProb"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(typo, KUBERNETES_VERSIONS[0], strict=True)
    wrong_type = copy.deepcopy(deployment)
    wrong_type["spec"]["replicas"] = "three"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(wrong_type, KUBERNETES_VERSIONS[0], strict=True)


def test_the_crd_structure_check_rejects_a_misspelled_field_and_a_non_string_value() -> None:
    scaled = one(rendered("example-keda"), "ScaledObject")
    typo = copy.deepcopy(scaled)
    typo["spec"]["maxReplicas"] = 3
    with pytest.raises(jsonschema.ValidationError):
        crds.validate_custom(typo)
    number = copy.deepcopy(scaled)
    number["spec"]["triggers"][0]["metadata"]["lagThreshold"] = 200
    with pytest.raises(jsonschema.ValidationError):
        crds.validate_custom(number)
    monitor = copy.deepcopy(one(rendered("base"), "ServiceMonitor"))
    del monitor["spec"]["selector"]
    with pytest.raises(jsonschema.ValidationError):
        crds.validate_custom(monitor)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (with kustomize) not here")
@pytest.mark.parametrize("target", TARGETS)
def test_the_python_renderer_matches_kubectl_kustomize(target: str) -> None:
    done = subprocess.run(
        ["kubectl", "kustomize", str(TARGETS[target])],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    real = [d for d in yaml.safe_load_all(done.stdout) if d]

    def key(o: Manifest) -> tuple[str, str, str]:
        return (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"])

    assert {key(o): o for o in rendered(target)} == {key(o): o for o in real}


# --- the pod: security, probes, resources, shutdown -----------------------------------------


@pytest.mark.parametrize("target", TARGETS)
def test_the_pod_runs_as_non_root_on_a_read_only_root_without_a_token(target: str) -> None:
    objs = rendered(target)
    pod = one(objs, "Deployment")["spec"]["template"]["spec"]
    c = container(objs)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] > 0
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert c["securityContext"]["allowPrivilegeEscalation"] is False
    assert c["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert pod["automountServiceAccountToken"] is False
    account = one(objs, "ServiceAccount", pod["serviceAccountName"])
    assert account["automountServiceAccountToken"] is False
    mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes[mounts[POD_TMP]["name"]], "the pod's /tmp is an emptyDir"


@pytest.mark.parametrize("target", TARGETS)
def test_probes_hit_livez_and_readyz_on_the_http_port(target: str) -> None:
    objs = rendered(target)
    c = container(objs)
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    http_port = int(config_data(objs)["HTTP_PORT"])
    for probe, path in (
        ("livenessProbe", "/livez"),
        ("readinessProbe", "/readyz"),
        ("startupProbe", "/livez"),
    ):
        get = c[probe]["httpGet"]
        assert get["path"] == path, probe
        assert ports[get["port"]] == http_port, probe


@pytest.mark.parametrize("target", TARGETS)
def test_shutdown_grace_exceeds_the_drain_time(target: str) -> None:
    pod = one(rendered(target), "Deployment")["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] > max(10, DRAIN_SECONDS)


@pytest.mark.parametrize("target", TARGETS)
def test_requests_and_limits_are_set(target: str) -> None:
    resources = container(rendered(target))["resources"]
    for bound in ("requests", "limits"):
        assert set(resources[bound]) == {"cpu", "memory"}, bound


@pytest.mark.parametrize("target", OVERLAYS)
def test_the_image_is_a_registry_image_with_a_version_tag(target: str) -> None:
    name, tag, _digest = split_image(container(rendered(target))["image"])
    assert "/" in name
    assert re.fullmatch(r"\d+\.\d+\.\d+", tag), "a release tag, never latest"


# --- configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize("target", TARGETS)
def test_every_environment_variable_is_a_setting(target: str) -> None:
    objs = rendered(target)
    c = container(objs)
    names = set(config_data(objs)) | {e["name"] for e in c.get("env", [])}
    assert all("configMapRef" in s for s in c["envFrom"]), "only the settings ConfigMap"
    settings = {field.upper() for field in Settings.model_fields}
    assert names <= settings, f"not settings: {sorted(names - settings)}"


@pytest.mark.parametrize("target", OVERLAYS)
def test_the_configuration_loads_and_matches_the_pod(
    target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    objs = rendered(target)
    for field in Settings.model_fields:
        monkeypatch.delenv(field.upper(), raising=False)
    env = dict(config_data(objs))
    kafka = one(objs, "Secret", f"{NAME}-kafka")["stringData"]
    env |= {e["name"]: kafka[e["valueFrom"]["secretKeyRef"]["key"]] for e in container(objs)["env"]}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = load_settings()
    c = container(objs)
    assert settings.http_port == c["ports"][0]["containerPort"]
    assert settings.kafka_security_protocol == "SASL_SSL"
    assert settings.kafka_sasl_password is not None
    mount = next(m for m in c["volumeMounts"] if m["name"] == "channels")
    assert "subPath" not in mount, "a subPath mount never sees Secret updates (no hot reload)"
    channels_file = settings.webhook_channels_file
    assert channels_file is not None
    assert channels_file.parent == Path(mount["mountPath"])
    pod = one(objs, "Deployment")["spec"]["template"]["spec"]
    secret_name = next(v for v in pod["volumes"] if v["name"] == "channels")["secret"]
    secret = one(objs, "Secret", secret_name["secretName"])
    assert channels_file.name in secret["stringData"]


@pytest.mark.parametrize("target", OVERLAYS)
def test_the_example_channels_file_passes_the_production_url_policy_with_example_secrets(
    target: str,
) -> None:
    secret = one(rendered(target), "Secret", f"{NAME}-channels")
    # The production URL policy: https on each provider's official hosts only.
    channels = parse_channels(secret["stringData"]["channels.yaml"].encode(), policy=UrlPolicy())
    assert {c.type.value for c in channels} == {
        "slack",
        "discord",
        "teams",
        "kakaowork",
        "telegram",
    }
    for channel in channels:
        assert re.search(r"example|EXAMPLE|XXXX|0000", channel.url), channel.id


@pytest.mark.parametrize("target", OVERLAYS)
def test_every_referenced_config_map_and_secret_exists(target: str) -> None:
    objs = rendered(target)
    defined = {(o["kind"], o["metadata"]["name"]) for o in objs}
    pod = one(objs, "Deployment")["spec"]["template"]["spec"]
    c = container(objs)
    wanted = {("ConfigMap", s["configMapRef"]["name"]) for s in c["envFrom"]}
    wanted |= {("Secret", e["valueFrom"]["secretKeyRef"]["name"]) for e in c["env"]}
    wanted |= {("Secret", v["secret"]["secretName"]) for v in pod["volumes"] if "secret" in v}
    assert wanted <= defined, f"missing: {sorted(wanted - defined)}"


# --- scaling and disruption ------------------------------------------------------------------


def test_replicas_never_exceed_the_documented_partition_count() -> None:
    partitions = documented_partitions()
    for target in ("base", "example"):
        replicas = one(rendered(target), "Deployment")["spec"]["replicas"]
        assert 1 <= replicas <= partitions, target
    scaled = one(rendered("example-keda"), "ScaledObject")["spec"]
    assert 1 <= scaled["minReplicaCount"] <= scaled["maxReplicaCount"] <= partitions


def test_with_keda_the_scaler_owns_the_replica_count_and_reads_the_pods_settings() -> None:
    objs = rendered("example-keda")
    deployment = one(objs, "Deployment")
    assert "replicas" not in deployment["spec"], "a fixed count would fight KEDA's HPA"
    scaled = one(objs, "ScaledObject")
    assert scaled["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    data = config_data(objs)
    topics = set()
    for trigger in scaled["spec"]["triggers"]:
        meta = trigger["metadata"]
        assert trigger["type"] == "kafka"
        assert meta["allowIdleConsumers"] == "false"
        for key, value in meta.items():
            if key.endswith("FromEnv"):
                assert value in data, f"{key}: {value} is not in the pod's environment"
        topics.add(data[meta["topicFromEnv"]])
        auth = one(objs, "TriggerAuthentication", trigger["authenticationRef"]["name"])
        for ref in auth["spec"]["secretTargetRef"]:
            assert ref["key"] in one(objs, "Secret", ref["name"])["stringData"]
    assert topics == {data["WEBHOOK_AUDIT_TOPIC"], data["WEBHOOK_SESSION_TOPIC"]}


@pytest.mark.parametrize("target", TARGETS)
def test_selectors_match_the_pods_and_the_service_monitor_finds_the_port(target: str) -> None:
    objs = rendered(target)
    deployment = one(objs, "Deployment")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]

    def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
        return bool(selector) and selector.items() <= labels.items()

    assert selects(deployment["spec"]["selector"]["matchLabels"], pod_labels)
    pdb = one(objs, "PodDisruptionBudget")
    assert selects(pdb["spec"]["selector"]["matchLabels"], pod_labels)
    assert pdb["spec"]["maxUnavailable"] == 1
    service = one(objs, "Service")
    assert selects(service["spec"]["selector"], pod_labels)
    monitor = one(objs, "ServiceMonitor")
    assert selects(monitor["spec"]["selector"]["matchLabels"], service["metadata"]["labels"])
    service_ports = {p["name"]: p for p in service["spec"]["ports"]}
    container_ports = {p["name"] for p in container(objs)["ports"]}
    for endpoint in monitor["spec"]["endpoints"]:
        assert endpoint["port"] in service_ports
        assert endpoint["path"] == "/metrics"
        assert service_ports[endpoint["port"]]["targetPort"] in container_ports


# --- alert rules -----------------------------------------------------------------------------


def exported_metric_names() -> set[str]:
    """Every sample name the service can export, from the declarations in consumer/metrics.py."""
    suffixes = {
        "counter": ("_total",),
        "gauge": ("",),
        "histogram": ("_bucket", "_sum", "_count"),
    }
    return {
        family.name + suffix
        for family in metrics.REGISTRY.collect()
        for suffix in suffixes[family.type]
    }


def promql_metric_names(text: str) -> set[str]:
    return set(re.findall(r"\b((?:webhook|kafka)_[a-z_]+)\b", text))


def test_alert_rules_use_only_metrics_that_exist() -> None:
    rule = one(rendered("base"), "PrometheusRule")
    exprs = [r["expr"] for g in rule["spec"]["groups"] for r in g["rules"]]
    used = set().union(*(promql_metric_names(e) for e in exprs))
    assert used, "the rules use metrics"
    unknown = used - exported_metric_names() - EXTERNAL_METRICS
    assert not unknown, f"not exported by consumer/metrics.py: {sorted(unknown)}"


def test_the_alert_rules_cover_what_the_issue_asks() -> None:
    rule = one(rendered("base"), "PrometheusRule")
    alerts = {r["alert"]: r["expr"] for g in rule["spec"]["groups"] for r in g["rules"]}
    wanted = {
        "delivery failure ratio": "webhook_deliveries_total",
        "lag": "kafka_consumergroup_lag",
        "circuit open": "webhook_circuit_open",
        "poison rate": "webhook_records_poison_total",
    }
    for what, metric in wanted.items():
        assert any(metric in expr for expr in alerts.values()), what


# --- the renderer itself ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        pytest.param(
            {"op": "replace", "path": "/spec/replicas", "value": 3},
            {"spec": {"replicas": 3, "list": [1, 2]}},
            id="replace changes an existing value",
        ),
        pytest.param(
            {"op": "remove", "path": "/spec/replicas"},
            {"spec": {"list": [1, 2]}},
            id="remove deletes a key",
        ),
        pytest.param(
            {"op": "add", "path": "/spec/list/-", "value": 3},
            {"spec": {"replicas": 2, "list": [1, 2, 3]}},
            id="add with - appends to a list",
        ),
        pytest.param(
            {"op": "add", "path": "/spec/a~1b", "value": "x"},
            {"spec": {"replicas": 2, "list": [1, 2], "a/b": "x"}},
            id="a ~1 in the pointer is a slash in the key",
        ),
    ],
)
def test_json_patch_operations(op: Manifest, expected: Manifest) -> None:
    assert json_patch({"spec": {"replicas": 2, "list": [1, 2]}}, op) == expected


@pytest.mark.parametrize(
    ("op", "error"),
    [
        pytest.param(
            {"op": "replace", "path": "/spec/nope", "value": 1},
            KustomizeError,
            id="replacing a missing key fails like kustomize",
        ),
        pytest.param(
            {"op": "remove", "path": "/nope/x"},
            KustomizeError,
            id="a path through a missing parent fails",
        ),
        pytest.param(
            {"op": "move", "from": "/a", "path": "/b"},
            UnsupportedFeature,
            id="an operation this renderer lacks is refused, not ignored",
        ),
    ],
)
def test_json_patch_errors(op: Manifest, error: type[Exception]) -> None:
    with pytest.raises(error):
        json_patch({"spec": {}}, op)


@pytest.mark.parametrize(
    ("image", "parts"),
    [
        pytest.param("app", ("app", "", ""), id="a bare name"),
        pytest.param("app:1.0", ("app", "1.0", ""), id="a name and a tag"),
        pytest.param("reg:5000/a/app", ("reg:5000/a/app", "", ""), id="a registry port is no tag"),
        pytest.param("reg/app:1@sha256:ab", ("reg/app", "1", "sha256:ab"), id="tag and digest"),
    ],
)
def test_split_image(image: str, parts: tuple[str, str, str]) -> None:
    assert split_image(image) == parts


def test_an_unsupported_kustomize_feature_is_refused(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("namePrefix: x-\nresources: []\n")
    with pytest.raises(UnsupportedFeature, match="namePrefix"):
        build(tmp_path)
