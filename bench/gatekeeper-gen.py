#!/usr/bin/env python3
"""Generates the Gatekeeper benchmark workload from the conformance corpus.

Writes, under the output directory:
  policies/   50 ConstraintTemplates (the corpus's 35 plus 15 renamed copies) and 60
              constraints (the corpus's sample constraints, re-aimed at Pods, plus copies)
  unique/     one referential template that scans data.inventory for duplicate ingress hosts
  inventory.yaml   10,000 objects: 100 Namespaces, 8,900 Pods, 1,000 Ingresses
  pod-review.json  an AdmissionReview CREATE of a Pod that most constraints match
  ingress-review.json  an AdmissionReview CREATE of an Ingress (for the uniqueness template)

Usage: bench/gatekeeper-gen.py OUT_DIR
"""

import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "conformance" / "gatekeeper"
POD_MATCH = '  match:\n    kinds:\n      - apiGroups: [""]\n        kinds: ["Pod"]\n'


def rename_template(text, old_kind, new_kind):
    text = text.replace(f"name: {old_kind.lower()}", f"name: {new_kind.lower()}")
    return text.replace(f"kind: {old_kind}", f"kind: {new_kind}")


def aim_at_pods(constraint):
    """Replaces spec.match (a top-level block under spec) with a Pod match."""
    lines = constraint.splitlines(keepends=True)
    out, skipping = [], False
    for line in lines:
        if line.startswith("  match:"):
            skipping = True
            out.append(POD_MATCH)
            continue
        if skipping and (line.startswith("    ") or line.strip() == ""):
            continue
        skipping = False
        out.append(line)
    text = "".join(out)
    if "  match:" not in text:
        text = text.replace("spec:\n", "spec:\n" + POD_MATCH, 1)
    # Scoped and non-deny actions stay as they are; they still evaluate.
    return text


def main():
    out = pathlib.Path(sys.argv[1])
    policies = out / "policies"
    policies.mkdir(parents=True, exist_ok=True)
    templates = sorted(CORPUS.glob("k8s*/template.yaml"))
    kinds = {}
    for path in templates:
        text = path.read_text()
        kind = re.search(r"kind: (K8s\w+)", text).group(1)
        kinds[path.parent.name] = (kind, text)
        (policies / f"{path.parent.name}.yaml").write_text(text)
    copies = sorted(kinds)[:15]
    for i, name in enumerate(copies):
        kind, text = kinds[name]
        new_kind = f"{kind}Copy{i}"
        (policies / f"{name}-copy{i}.yaml").write_text(rename_template(text, kind, new_kind))
    constraints = []
    for path in sorted(CORPUS.glob("k8s*/samples/*/constraint.yaml")):
        text = path.read_text()
        if "invalid" in path.parent.name:
            continue
        constraints.append((path.parent.parent.parent.name, aim_at_pods(text)))
    docs = []
    for i, (template_dir, text) in enumerate(constraints):
        docs.append(re.sub(r"\n  name: [\w.-]+", f"\n  name: bench-{i}", text, count=1))
    # Top up to 60 with constraints of the copied templates.
    i = 0
    while len(docs) < 60:
        template_dir, text = next(
            (d, t) for d, t in constraints if d == copies[i % len(copies)]
        )
        kind = kinds[template_dir][0]
        copy_index = copies.index(template_dir)
        text = text.replace(f"kind: {kind}\n", f"kind: {kind}Copy{copy_index}\n", 1)
        docs.append(re.sub(r"\n  name: [\w.-]+", f"\n  name: bench-copy-{i}", text, count=1))
        i += 1
    (policies / "constraints.yaml").write_text("---\n".join(docs))

    unique = out / "unique"
    unique.mkdir(exist_ok=True)
    (unique / "template.yaml").write_text(UNIQUE_TEMPLATE)
    (unique / "constraint.yaml").write_text(UNIQUE_CONSTRAINT)

    objects = []
    for n in range(100):
        objects.append({"apiVersion": "v1", "kind": "Namespace",
                        "metadata": {"name": f"ns-{n}", "labels": {"team": f"t{n % 7}"}}})
    for n in range(8900):
        objects.append({"apiVersion": "v1", "kind": "Pod",
                        "metadata": {"name": f"pod-{n}", "namespace": f"ns-{n % 100}",
                                     "labels": {"app": f"app-{n % 50}"}},
                        "spec": {"containers": [{"name": "main", "image": f"registry.example.com/app-{n % 50}:1"}]}})
    for n in range(1000):
        objects.append({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                        "metadata": {"name": f"ing-{n}", "namespace": f"ns-{n % 100}"},
                        "spec": {"rules": [{"host": f"host-{n}.example.com"}]}})
    (out / "inventory.yaml").write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))

    pod = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "checkout-7d9f", "namespace": "ns-3",
                     "labels": {"app": "checkout", "team": "payments", "tier": "gold"},
                     "annotations": {"example.com/owner": "payments"}},
        "spec": {
            "serviceAccountName": "checkout",
            "automountServiceAccountToken": False,
            "securityContext": {"runAsNonRoot": True, "runAsUser": 1000, "fsGroup": 2000},
            "containers": [
                {"name": "app", "image": "registry.example.com/checkout:1.4.2",
                 "ports": [{"name": "http", "containerPort": 8080}],
                 "resources": {"limits": {"cpu": "500m", "memory": "256Mi"},
                               "requests": {"cpu": "100m", "memory": "128Mi"}},
                 "securityContext": {"readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False,
                                     "capabilities": {"drop": ["ALL"]}},
                 "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
                 "livenessProbe": {"httpGet": {"path": "/live", "port": 8080}},
                 "env": [{"name": "MODE", "value": "prod"}]},
                {"name": "sidecar", "image": "docker.io/library/envoy:1.30",
                 "ports": [{"name": "admin", "containerPort": 9901}],
                 "resources": {"limits": {"cpu": "2", "memory": "2Gi"}}},
            ],
            "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}}],
        },
    }
    review = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": "bench", "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "name": pod["metadata"]["name"], "namespace": "ns-3", "operation": "CREATE",
        "userInfo": {"username": "system:serviceaccount:ci:deployer", "groups": ["system:serviceaccounts"]},
        "object": pod}}
    (out / "pod-review.json").write_text(json.dumps(review))
    ingress = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
               "metadata": {"name": "new-site", "namespace": "ns-9"},
               "spec": {"rules": [{"host": "host-777.example.com"}, {"host": "fresh.example.com"}]}}
    review = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": "bench-ing", "kind": {"group": "networking.k8s.io", "version": "v1", "kind": "Ingress"},
        "resource": {"group": "networking.k8s.io", "version": "v1", "resource": "ingresses"},
        "name": "new-site", "namespace": "ns-9", "operation": "CREATE",
        "userInfo": {"username": "alice"}, "object": ingress}}
    (out / "ingress-review.json").write_text(json.dumps(review))
    print(f"{len(list(policies.glob('k8s*.yaml')))} templates, {len(docs)} constraints, "
          f"{len(objects)} inventory objects -> {out}")


UNIQUE_TEMPLATE = """apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8sbenchuniquehost
spec:
  crd:
    spec:
      names:
        kind: K8sBenchUniqueHost
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8sbenchuniquehost

        same_object(other) {
          other.metadata.namespace == input.review.object.metadata.namespace
          other.metadata.name == input.review.object.metadata.name
        }

        violation[{"msg": msg}] {
          input.review.kind.kind == "Ingress"
          host := input.review.object.spec.rules[_].host
          other := data.inventory.namespace[ns]["networking.k8s.io/v1"]["Ingress"][name]
          other.spec.rules[_].host == host
          not same_object(other)
          msg := sprintf("ingress host %q conflicts with an existing ingress <%v/%v>", [host, ns, name])
        }
"""

UNIQUE_CONSTRAINT = """apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sBenchUniqueHost
metadata:
  name: unique-ingress-hosts
spec:
  match:
    kinds:
      - apiGroups: ["networking.k8s.io"]
        kinds: ["Ingress"]
"""

if __name__ == "__main__":
    main()
