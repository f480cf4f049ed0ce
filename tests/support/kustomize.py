"""A small pure-Python Kustomize renderer for the tests: exactly the features deploy/ uses.

No `kustomize` binary is needed, so the manifest tests run on any machine. Supported, with
kustomize v5 semantics (the order of the built-in transformers included):

- `resources`: YAML files (several documents allowed) and directories holding a kustomization;
- `components` (kind `Component`): their resources join the including kustomization's, and
  their generators and patches act on everything accumulated so far;
- `configMapGenerator` with `literals` and `behavior` create / merge / replace; the generated
  name gets kustomize's content hash suffix and references from pod specs follow the rename;
- `patches` holding JSON 6902 operations (`add`, `remove`, `replace`), inline or from a file,
  selected by `target` (group, version, kind, name, namespace: exact matches);
- `namespace`, `labels` (`pairs`, `includeTemplates`; not `includeSelectors`), `images`.

Anything else in a kustomization (strategic-merge patches, secretGenerator, namePrefix, ...)
raises UnsupportedFeature instead of being silently ignored: extend this module first.
`tests/test_deploy.py` compares its output with `kubectl kustomize` wherever kubectl exists.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

Manifest = dict[str, Any]

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
SUPPORTED_FIELDS = frozenset(
    {
        "apiVersion",
        "kind",
        "resources",
        "components",
        "namespace",
        "labels",
        "images",
        "configMapGenerator",
        "patches",
    }
)
# Kinds that have no namespace (the ones a namespace transformer must leave alone).
CLUSTER_SCOPED_KINDS = frozenset(
    {
        "Namespace",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "PersistentVolume",
        "StorageClass",
        "PriorityClass",
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
        "ClusterTriggerAuthentication",
    }
)
WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"})


class KustomizeError(Exception):
    """The kustomization is invalid (a missing file, a patch path that does not exist, ...)."""


class UnsupportedFeature(KustomizeError):
    """The kustomization uses a feature this renderer does not implement."""


@dataclass
class _Resource:
    obj: Manifest
    hashed: bool = False  # a generated ConfigMap that gets a content-hash name suffix
    origin: str = ""  # the file or generator it came from, for error messages

    @property
    def key(self) -> tuple[str, str, str]:
        meta = self.obj.get("metadata", {})
        return (self.obj.get("kind", ""), meta.get("namespace", ""), meta.get("name", ""))


def build(directory: Path) -> list[Manifest]:
    """Render the kustomization in `directory`, like `kubectl kustomize DIRECTORY`."""
    resources = _accumulate(directory, [], expected_kind="Kustomization")
    _apply_hash_suffixes(resources)
    return [r.obj for r in resources]


# --- the build ------------------------------------------------------------------------------


def _load_kustomization(directory: Path, expected_kind: str) -> Manifest:
    for name in KUSTOMIZATION_FILES:
        path = directory / name
        if path.is_file():
            break
    else:
        raise KustomizeError(f"{directory}: no kustomization file")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise KustomizeError(f"{path}: not a mapping")
    kind = data.get("kind", "Kustomization")
    if kind != expected_kind:
        raise KustomizeError(f"{path}: kind {kind}, expected {expected_kind}")
    unknown = set(data) - SUPPORTED_FIELDS
    if unknown:
        raise UnsupportedFeature(f"{path}: fields not supported here: {sorted(unknown)}")
    return data


def _accumulate(directory: Path, inherited: list[_Resource], expected_kind: str) -> list[_Resource]:
    """Resources, then components, then generators, then transformers (kustomize's order)."""
    k = _load_kustomization(directory, expected_kind)
    acc = list(inherited)
    for entry in k.get("resources", []):
        path = directory / entry
        if path.is_dir():
            acc.extend(_accumulate(path, [], expected_kind="Kustomization"))
        elif path.is_file():
            acc.extend(_Resource(doc, origin=str(path)) for doc in _load_documents(path))
        else:
            raise KustomizeError(f"{directory}: resource {entry!r} not found")
    for entry in k.get("components", []):
        acc = _accumulate(directory / entry, acc, expected_kind="Component")
    for generator in k.get("configMapGenerator", []):
        _generate_config_map(generator, acc, directory)
    _check_unique(acc)
    # kustomize's built-in transformer order: patches, namespace, labels, images.
    for patch in k.get("patches", []):
        _apply_patch(patch, acc, directory)
    if "namespace" in k:
        _set_namespace(acc, k["namespace"])
    for spec in k.get("labels", []):
        _add_labels(acc, spec)
    for image in k.get("images", []):
        _set_image(acc, image)
    return acc


def _load_documents(path: Path) -> list[Manifest]:
    docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]
    for doc in docs:
        if not isinstance(doc, dict) or "kind" not in doc or "apiVersion" not in doc:
            raise KustomizeError(f"{path}: a document without apiVersion/kind")
    return docs


def _check_unique(acc: list[_Resource]) -> None:
    seen: dict[tuple[str, str, str], str] = {}
    for r in acc:
        if r.key in seen:
            raise KustomizeError(f"{r.key} defined twice ({seen[r.key]}, {r.origin})")
        seen[r.key] = r.origin


# --- generators ------------------------------------------------------------------------------


def _literal(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise KustomizeError(f"literal {text!r} is not KEY=VALUE")
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    return key, value


def _generate_config_map(spec: Manifest, acc: list[_Resource], directory: Path) -> None:
    extra = set(spec) - {"name", "namespace", "behavior", "literals"}
    if extra:
        raise UnsupportedFeature(f"{directory}: configMapGenerator fields {sorted(extra)}")
    name = spec["name"]
    namespace = spec.get("namespace", "")
    data = dict(_literal(item) for item in spec.get("literals", []))
    behavior = spec.get("behavior", "create")
    existing = [
        r
        for r in acc
        if r.hashed and r.key[0] == "ConfigMap" and r.key[2] == name and r.key[1] == namespace
    ]
    if behavior == "create":
        if existing:
            raise KustomizeError(f"{directory}: ConfigMap {name} already exists; use merge")
        metadata: Manifest = {"name": name}
        if namespace:
            metadata["namespace"] = namespace
        obj: Manifest = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata}
        if data:
            obj["data"] = data
        acc.append(_Resource(obj, hashed=True, origin=f"{directory}: configMapGenerator"))
    elif behavior in ("merge", "replace"):
        if len(existing) != 1:
            raise KustomizeError(f"{directory}: no generated ConfigMap {name} to {behavior}")
        target = existing[0].obj
        merged = {**target.get("data", {}), **data} if behavior == "merge" else data
        target["data"] = merged
    else:
        raise KustomizeError(f"{directory}: unknown behavior {behavior!r}")


# --- transformers ----------------------------------------------------------------------------


def _group_version(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return group, version


def _matches(obj: Manifest, target: Manifest) -> bool:
    extra = set(target) - {"group", "version", "kind", "name", "namespace"}
    if extra:
        raise UnsupportedFeature(f"patch target selectors {sorted(extra)}")
    group, version = _group_version(obj.get("apiVersion", ""))
    meta = obj.get("metadata", {})
    actual = {
        "group": group,
        "version": version,
        "kind": obj.get("kind", ""),
        "name": meta.get("name", ""),
        "namespace": meta.get("namespace", ""),
    }
    return all(actual[field] == wanted for field, wanted in target.items())


def _apply_patch(spec: Manifest, acc: list[_Resource], directory: Path) -> None:
    if "patch" in spec:
        text = spec["patch"]
    elif "path" in spec:
        text = (directory / spec["path"]).read_text(encoding="utf-8")
    else:
        raise KustomizeError(f"{directory}: a patch without patch or path")
    ops = yaml.safe_load(text)
    if not isinstance(ops, list):
        raise UnsupportedFeature(f"{directory}: strategic-merge patches (only JSON 6902 here)")
    target = spec.get("target")
    if not target:
        raise KustomizeError(f"{directory}: a JSON 6902 patch needs a target")
    hits = [r for r in acc if _matches(r.obj, target)]
    if not hits:
        raise KustomizeError(f"{directory}: patch target {target} matches nothing")
    for r in hits:
        for op in ops:
            r.obj = json_patch(r.obj, op)


def _set_namespace(acc: list[_Resource], namespace: str) -> None:
    for r in acc:
        if r.obj["kind"] not in CLUSTER_SCOPED_KINDS:
            r.obj.setdefault("metadata", {})["namespace"] = namespace


def _add_labels(acc: list[_Resource], spec: Manifest) -> None:
    extra = set(spec) - {"pairs", "includeTemplates", "includeSelectors"}
    if extra or spec.get("includeSelectors"):
        raise UnsupportedFeature(f"labels options {sorted(extra) or ['includeSelectors']}")
    pairs = {str(k): str(v) for k, v in spec.get("pairs", {}).items()}
    for r in acc:
        r.obj.setdefault("metadata", {}).setdefault("labels", {}).update(pairs)
        if spec.get("includeTemplates") and r.obj["kind"] in WORKLOAD_KINDS:
            template = r.obj.setdefault("spec", {}).setdefault("template", {})
            template.setdefault("metadata", {}).setdefault("labels", {}).update(pairs)


def split_image(image: str) -> tuple[str, str, str]:
    """`registry:5000/a/b:1.2@sha256:...` -> (`registry:5000/a/b`, `1.2`, `sha256:...`)."""
    rest, _, digest = image.partition("@")
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:
        return rest[:colon], rest[colon + 1 :], digest
    return rest, "", digest


def _set_image(acc: list[_Resource], spec: Manifest) -> None:
    extra = set(spec) - {"name", "newName", "newTag", "digest"}
    if extra:
        raise UnsupportedFeature(f"images fields {sorted(extra)}")
    for r in acc:
        for container in _containers(r.obj):
            name, tag, digest = split_image(container.get("image", ""))
            if name != spec["name"]:
                continue
            name = spec.get("newName", name)
            if "digest" in spec:
                container["image"] = f"{name}@{spec['digest']}"
            elif "newTag" in spec:
                container["image"] = f"{name}:{spec['newTag']}"
            else:
                container["image"] = (
                    name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")
                )


def _pod_spec(obj: Manifest) -> Manifest | None:
    if obj.get("kind") == "Pod":
        spec: Manifest | None = obj.get("spec")
        return spec
    if obj.get("kind") in WORKLOAD_KINDS:
        pod: Manifest | None = obj.get("spec", {}).get("template", {}).get("spec")
        return pod
    return None


def _containers(obj: Manifest) -> Iterator[Manifest]:
    pod = _pod_spec(obj)
    if pod is None:
        return
    yield from pod.get("initContainers", [])
    yield from pod.get("containers", [])


# --- content hash and name references ---------------------------------------------------------


def _go_json(value: object) -> str:
    """Go's `json.Marshal` of a map: sorted keys, compact, UTF-8, with <, >, & escaped."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def config_map_hash(data: dict[str, str] | None) -> str:
    """kustomize's name suffix for a ConfigMap: sha256 of its encoding, 10 chars, no vowels.

    kustomize (api/hasher) means to encode `{"kind", "name", "data"}`, but it looks the name up
    with the single path element "metadata/name", finds nothing and encodes `"name": ""`; a
    missing `data` is encoded as `""`. So the suffix depends on the data only. Checked against
    `kubectl kustomize` (kustomize v5.5.0) by tests/test_deploy.py.
    """
    encoded = _go_json({"kind": "ConfigMap", "name": "", "data": data if data is not None else ""})
    digest = hashlib.sha256(encoded.encode()).hexdigest()[:10]
    return digest.translate(str.maketrans("013ae", "ghkmt"))


def _apply_hash_suffixes(acc: list[_Resource]) -> None:
    renames: dict[tuple[str, str], str] = {}  # (namespace, old name) -> new name
    for r in acc:
        if not r.hashed:
            continue
        meta = r.obj["metadata"]
        new = f"{meta['name']}-{config_map_hash(r.obj.get('data'))}"
        renames[(meta.get("namespace", ""), meta["name"])] = new
        meta["name"] = new
    for r in acc:
        namespace = r.obj.get("metadata", {}).get("namespace", "")
        for ref in _config_map_refs(r.obj):
            new_name = renames.get((namespace, ref["name"]))
            if new_name:
                ref["name"] = new_name


def _config_map_refs(obj: Manifest) -> Iterable[Manifest]:
    """The mappings in a pod spec whose `name` names a ConfigMap."""
    pod = _pod_spec(obj)
    if pod is None:
        return
    for container in _containers(obj):
        for source in container.get("envFrom", []):
            if "configMapRef" in source:
                yield source["configMapRef"]
        for env in container.get("env", []):
            ref = env.get("valueFrom", {}).get("configMapKeyRef")
            if ref:
                yield ref
    for volume in pod.get("volumes", []):
        if "configMap" in volume:
            yield volume["configMap"]
        for source in volume.get("projected", {}).get("sources", []):
            if "configMap" in source:
                yield source["configMap"]


# --- JSON 6902 -------------------------------------------------------------------------------


def _pointer(path: str) -> list[str]:
    if not path.startswith("/"):
        raise KustomizeError(f"JSON pointer {path!r} must start with /")
    return [part.replace("~1", "/").replace("~0", "~") for part in path.split("/")[1:]]


def json_patch(doc: Manifest, op: Manifest) -> Manifest:
    """Apply one JSON 6902 operation (add, remove, replace) to a copy of `doc`."""
    kind = op.get("op")
    if kind not in ("add", "remove", "replace"):
        raise UnsupportedFeature(f"JSON 6902 op {kind!r}")
    result = copy.deepcopy(doc)
    *parents, last = _pointer(op["path"])
    node: Any = result
    for part in parents:
        try:
            node = node[int(part)] if isinstance(node, list) else node[part]
        except (KeyError, IndexError, ValueError) as exc:
            raise KustomizeError(f"path {op['path']} does not exist") from exc
    if isinstance(node, list):
        index = len(node) if (last == "-" and kind == "add") else int(last)
        if kind == "add":
            node.insert(index, copy.deepcopy(op["value"]))
        elif index >= len(node):
            raise KustomizeError(f"path {op['path']} does not exist")
        elif kind == "remove":
            del node[index]
        else:
            node[index] = copy.deepcopy(op["value"])
    elif isinstance(node, dict):
        if kind != "add" and last not in node:
            raise KustomizeError(f"path {op['path']} does not exist")
        if kind == "remove":
            del node[last]
        else:
            node[last] = copy.deepcopy(op["value"])
    else:
        raise KustomizeError(f"path {op['path']} goes through a scalar")
    return result
