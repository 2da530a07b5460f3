#!/usr/bin/python3
"""Kustomize knobs of deploy/k8s/, rendered and checked offline.

1. Two installs in one namespace (deploy/k8s/side-by-side/team-a and team-b): no object name is
   shared but the user-created Secrets; no selector of one install (Services, workloads,
   PodDisruptionBudgets, NetworkPolicies, topology spread) matches the other's pods; each install's
   workers dial their own coordinator Service.
2. prod: workers spread over nodes and zones, both workloads have a priority class that the
   overlay defines (the coordinator's higher), ephemeral-storage requests and limits; KEDA scales
   the workers to zero with an activation threshold, counting leased shards.
3. The optional gateway (deploy/k8s/gateway) routes to the coordinator Service's client port,
   and the console's host to its console port, with TLS passed through, as does the
   ingress-nginx alternative.

  /usr/bin/python3 tests/deploy/k8s/side_by_side_test.py
"""
import os
import sys

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
K8S = os.path.join(REPO, "deploy", "k8s")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from kustomize_checks import check, failures, render  # noqa: E402  (tests/deploy/)


def pod_templates(objs):
    return [(o["metadata"]["name"], o["spec"]["template"]["metadata"].get("labels", {}))
            for o in objs if o["kind"] in ("Deployment", "StatefulSet")]


def selectors(objs):
    for o in objs:
        spec = o.get("spec") or {}
        if o["kind"] == "Service" and spec.get("selector"):
            yield o["metadata"]["name"], {"matchLabels": spec["selector"]}
        elif o["kind"] in ("Deployment", "StatefulSet", "PodDisruptionBudget"):
            yield o["metadata"]["name"], spec.get("selector") or {}
        elif o["kind"] == "NetworkPolicy":
            yield o["metadata"]["name"], spec.get("podSelector") or {}
        if o["kind"] in ("Deployment", "StatefulSet"):
            for t in spec["template"]["spec"].get("topologySpreadConstraints") or []:
                yield o["metadata"]["name"] + " topology spread", t["labelSelector"]


def matches(selector, labels):
    ml = selector.get("matchLabels") or {}
    return bool(ml) and all(labels.get(k) == v for k, v in ml.items())


def flag(args, name):
    return next((a.split("=", 1)[1] for a in args if a.startswith("--%s=" % name)), None)


def check_side_by_side():
    a = render(os.path.join(K8S, "side-by-side", "team-a"))
    b = render(os.path.join(K8S, "side-by-side", "team-b"))
    names = lambda objs: {(o["kind"], o["metadata"]["name"]) for o in objs}
    check(not (names(a) & names(b)), "two installs share no object name (shared: %s)" % sorted(names(a) & names(b)))
    for mine, other, who in ((a, b, "team-a"), (b, a, "team-b")):
        pods = pod_templates(other)
        for name, sel in selectors(mine):
            hits = [p for p, labels in pods if matches(sel, labels)]
            check(not hits, "%s's %s selects none of the other install's pods (%s)" % (who, name, hits))
        svc = [o["metadata"]["name"] for o in mine if o["kind"] == "Service" and "headless" not in o["metadata"]["name"]]
        for o in mine:
            if o["kind"] == "Deployment":
                target = flag(o["spec"]["template"]["spec"]["containers"][0]["args"], "coordinator")
                check(target == "%s:50052" % svc[0], "%s's workers dial their own coordinator (%s, Service %s)"
                      % (who, target, svc))


def check_prod():
    objs = render(os.path.join(K8S, "overlays", "prod"))
    classes = {o["metadata"]["name"]: o["value"] for o in objs if o["kind"] == "PriorityClass"}
    work = {o["kind"]: o["spec"]["template"]["spec"] for o in objs if o["kind"] in ("Deployment", "StatefulSet")}
    pc = {k: s.get("priorityClassName") for k, s in work.items()}
    check(all(v in classes for v in pc.values()), "prod: both workloads name a PriorityClass it defines (%s)" % pc)
    if all(v in classes for v in pc.values()):
        check(classes[pc["StatefulSet"]] > classes[pc["Deployment"]], "prod: the coordinator outranks the workers")
    keys = {t["topologyKey"] for t in work["Deployment"].get("topologySpreadConstraints") or []}
    check({"kubernetes.io/hostname", "topology.kubernetes.io/zone"} <= keys, "prod: workers spread over nodes and zones")
    for kind, spec in work.items():
        res = spec["containers"][0]["resources"]
        check("ephemeral-storage" in res.get("requests", {}) and "ephemeral-storage" in res.get("limits", {}),
              "prod: the %s requests and limits ephemeral storage" % kind)
    so = next(o for o in objs if o["kind"] == "ScaledObject")
    trig = so["spec"]["triggers"][0]["metadata"]
    check(so["spec"]["minReplicaCount"] == 0 and "activationThreshold" in trig,
          "prod: KEDA scales the workers to zero and activates on the first shard")
    check("leased" in trig["query"], "prod: KEDA counts leased shards, so no worker is taken mid-shard by a scale to zero")


def check_gateway():
    objs = render(os.path.join(K8S, "gateway"))
    route = next(o for o in objs if o["kind"] == "TLSRoute" and o["metadata"]["name"] == "emar-coordinator")
    gw = next(o for o in objs if o["kind"] == "Gateway")
    check(all(l["tls"]["mode"] == "Passthrough" for l in gw["spec"]["listeners"]),
          "gateway: TLS is passed through to the coordinator (tokens and mTLS end to end)")
    ref = route["spec"]["rules"][0]["backendRefs"][0]
    base = render(os.path.join(K8S, "base"))
    svc = next(o for o in base if o["kind"] == "Service" and o["metadata"]["name"] == ref["name"])
    client = next(p for p in svc["spec"]["ports"] if p["name"] == "grpc")
    check(ref["port"] == client["port"], "gateway: the TLSRoute reaches the Service's client port %d" % client["port"])
    console = next(p for p in svc["spec"]["ports"] if p["name"] == "console")
    console_route = next(o for o in objs if o["kind"] == "TLSRoute" and o["metadata"]["name"] == "emar-console")
    console_ref = console_route["spec"]["rules"][0]["backendRefs"][0]
    check(console_ref["name"] == svc["metadata"]["name"] and console_ref["port"] == console["port"],
          "gateway: the console's TLSRoute reaches the Service's console port %d" % console["port"])
    ing = yaml.safe_load(open(os.path.join(K8S, "gateway", "ingress-nginx.yaml")))
    backend = ing["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    check(backend["name"] == svc["metadata"]["name"] and backend["port"]["number"] == client["port"] and
          ing["metadata"]["annotations"].get("nginx.ingress.kubernetes.io/ssl-passthrough") == "true",
          "ingress-nginx: passthrough to the Service's client port")
    backend = ing["spec"]["rules"][1]["http"]["paths"][0]["backend"]["service"]
    check(backend["name"] == svc["metadata"]["name"] and backend["port"]["number"] == console["port"],
          "ingress-nginx: passthrough of the console's host to the Service's console port")


def main():
    check_side_by_side()
    check_prod()
    check_gateway()
    print("%d failed" % len(failures) if failures else "kustomize knobs: all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
