#!/usr/bin/python3
"""Checks and adapts the Kubernetes manifests of examples/kubernetes.

  k8s.py check FILE...
      Parse every YAML document, check every field name (at any depth) against
      the Kubernetes API models of python3-kubernetes (the generated
      attribute_map of each type, so a misspelt or misplaced field fails), let
      the client deserialize each object (which rejects missing required
      fields), then check what volinit's deployment needs: selector matching
      the template, every volumeMount naming a pod volume, every claimName
      naming a PersistentVolumeClaim of the files.

  k8s.py play FILE --prefix P --image FROM=TO... [--restart POLICY] [--name-suffix S]
      Print the Deployments of FILE for `podman kube play`: names and claim
      names prefixed with P (a test run's own objects), images renamed, and
      the pod's restartPolicy replaced (podman 4.3 restarts a Deployment's
      init containers under restartPolicy Always, then times out waiting for
      them: seen on Debian 12). --name-suffix S appends S to the names but
      not to the claim names: a rollout's new pods beside the old ones, on
      the same claim, as a RollingUpdate runs them (podman names a pod after
      its Deployment, so one name cannot be played twice).

  k8s.py get FILE KIND NAME PATH
      Print one value (JSON) at a dotted PATH of an object, e.g.
      spec.template.spec.initContainers.0.command
"""
import json
import re
import sys

import yaml

try:
    import kubernetes.client as kc
    from kubernetes.client import ApiClient
except ImportError:  # pragma: no cover
    sys.exit("k8s.py: python3-kubernetes is not installed (apt-get install python3-kubernetes)")

PRIMITIVES = {"str", "int", "bool", "float", "object", "datetime", "date"}


def load(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def model_for(doc):
    group_version = doc.get("apiVersion", "")
    version = group_version.split("/")[-1]
    name = version[0].upper() + version[1:] + doc.get("kind", "")
    cls = getattr(kc, name, None)
    if cls is None:
        raise SystemExit(f"unknown apiVersion/kind: {group_version} {doc.get('kind')}")
    return name


def walk(value, typ, where, errors):
    """Check value against the model type name typ (as in openapi_types)."""
    m = re.fullmatch(r"list\[(.+)\]", typ)
    if m:
        if not isinstance(value, list):
            errors.append(f"{where}: expected a list")
            return
        for i, item in enumerate(value):
            walk(item, m.group(1), f"{where}[{i}]", errors)
        return
    m = re.fullmatch(r"dict\(str, (.+)\)", typ)
    if m:
        if not isinstance(value, dict):
            errors.append(f"{where}: expected a map")
            return
        for k, v in value.items():
            walk(v, m.group(1), f"{where}.{k}", errors)
        return
    if typ in PRIMITIVES:
        if typ == "str" and not isinstance(value, str):
            errors.append(f"{where}: expected a string, got {value!r}")
        if typ == "int" and (not isinstance(value, int) or isinstance(value, bool)):
            errors.append(f"{where}: expected an integer, got {value!r}")
        if typ == "bool" and not isinstance(value, bool):
            errors.append(f"{where}: expected true/false, got {value!r}")
        return
    cls = getattr(kc, typ)
    if not isinstance(value, dict):
        errors.append(f"{where}: expected a {typ} object")
        return
    by_json = {j: p for p, j in cls.attribute_map.items()}
    for key, v in value.items():
        if key not in by_json:
            errors.append(f"{where}.{key}: no such field in {typ}")
            continue
        walk(v, cls.openapi_types[by_json[key]], f"{where}.{key}", errors)


def semantic(docs, errors):
    claims = {d["metadata"]["name"] for d in docs if d.get("kind") == "PersistentVolumeClaim"}
    for d in docs:
        kind, name = d.get("kind"), d.get("metadata", {}).get("name")
        if kind in ("Deployment", "Job"):
            tmpl = d["spec"]["template"]
            if kind == "Deployment":
                sel = d["spec"]["selector"].get("matchLabels", {})
                labels = tmpl["metadata"].get("labels", {})
                if any(labels.get(k) != v for k, v in sel.items()):
                    errors.append(f"{kind}/{name}: selector does not match the template's labels")
            spec = tmpl["spec"]
            vols = {v["name"]: v for v in spec.get("volumes", [])}
            for c in spec.get("initContainers", []) + spec.get("containers", []):
                for vm in c.get("volumeMounts", []):
                    if vm["name"] not in vols:
                        errors.append(f"{kind}/{name}: container {c['name']} mounts unknown volume {vm['name']}")
            for v in vols.values():
                pvc = v.get("persistentVolumeClaim")
                if pvc and pvc["claimName"] not in claims:
                    errors.append(f"{kind}/{name}: claim {pvc['claimName']} is not defined in these files")


def check(paths):
    docs, errors = [], []
    client = ApiClient()
    for path in paths:
        for i, doc in enumerate(load(path)):
            name = model_for(doc)
            where = f"{path}#{i} {doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
            walk(doc, name, where, errors)
            try:
                client._ApiClient__deserialize(doc, name)
            except (ValueError, TypeError) as e:
                errors.append(f"{where}: {e}")
            docs.append(doc)
    semantic(docs, errors)
    for e in errors:
        print("k8s.py:", e, file=sys.stderr)
    if errors:
        sys.exit(1)
    print(f"k8s.py: {len(docs)} objects in {len(paths)} files: field names and references OK")


def play(path, prefix, images, restart, suffix):
    out = []
    for d in load(path):
        if d.get("kind") != "Deployment":
            continue
        d["metadata"]["name"] = prefix + d["metadata"]["name"] + suffix
        spec = d["spec"]["template"]["spec"]
        if restart:
            spec["restartPolicy"] = restart
        for c in spec.get("initContainers", []) + spec.get("containers", []):
            c["image"] = images.get(c["image"], c["image"])
        for v in spec.get("volumes", []):
            if "persistentVolumeClaim" in v:
                v["persistentVolumeClaim"]["claimName"] = prefix + v["persistentVolumeClaim"]["claimName"]
        out.append(d)
    yaml.safe_dump_all(out, sys.stdout, sort_keys=False)


def get(path, kind, name, dotted):
    for d in load(path):
        if d.get("kind") == kind and d["metadata"]["name"] == name:
            v = d
            for part in dotted.split("."):
                v = v[int(part)] if isinstance(v, list) else v[part]
            print(json.dumps(v))
            return
    sys.exit(f"k8s.py: no {kind}/{name} in {path}")


def main(argv):
    if len(argv) >= 2 and argv[1] == "check":
        check(argv[2:])
    elif len(argv) >= 3 and argv[1] == "play":
        prefix, images, restart, suffix = "", {}, None, ""
        args = argv[3:]
        while args:
            opt, val, args = args[0], args[1], args[2:]
            if opt == "--prefix":
                prefix = val
            elif opt == "--image":
                a, b = val.split("=", 1)
                images[a] = b
            elif opt == "--restart":
                restart = val
            elif opt == "--name-suffix":
                suffix = val
            else:
                sys.exit(f"k8s.py: unknown option {opt}")
        play(argv[2], prefix, images, restart, suffix)
    elif len(argv) == 6 and argv[1] == "get":
        get(*argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
