#!/usr/bin/python3
"""Checks the Kubernetes manifests of deploy/k8s/ and deploy/examples/, offline.

    check_manifests.py --repo ROOT [--kubectl KUBECTL]
                       [--coordinator BIN --worker BIN --emarctl BIN] [--self-test]

Renders deploy/k8s/base and every deploy/k8s/overlays/* with `kubectl kustomize`, parses every
object with PyYAML (the examples too), and checks:

  schema   every object of a built-in kind against the Kubernetes API models of python3-kubernetes
           (field names, value types, required fields; the 1.22 API, fields newer than it are an
           explicit list); every object has apiVersion, kind, metadata.name.
  pods     every container of every pod template (workloads, Job, Argo templates): requests and
           limits for cpu and memory (limits >= requests); the restricted Pod Security profile
           (runAsNonRoot, runAsUser 10001, allowPrivilegeEscalation false, capabilities drop ALL,
           seccompProfile RuntimeDefault, no privileged/host namespaces/hostPath);
           readOnlyRootFilesystem with an emptyDir at /tmp; Secret files readable by UID 10001.
  wiring   Services select pods that exist and target ports they have; workload selectors match
           their templates; every ConfigMap, Secret and PVC referenced is defined or is one of the
           user-created objects listed in USER_CREATED, documented in deploy/k8s/README.md; no
           Secret and no private key is committed; every $(VAR) in args resolves.
  emar     the coordinator: a one-replica StatefulSet with its volume at --data-dir /data,
           --listen/--worker-listen/--metrics-listen on 50051/50052/9090, TLS and tokens flags
           naming the files mounted from emar-tls and emar-tokens, probes that can work with TLS;
           workers: --coordinator the Service's worker port, CA (only ca.crt of emar-tls) and
           token mounted where --tls-ca/--token-file say, httpGet probes /healthz and /readyz on
           the --health-listen port; resource limits agree with the flags.
  prod     a PodDisruptionBudget for the workers; NetworkPolicies letting only worker pods reach
           50052 and only pods labelled emar-client: "true" reach 50051; a KEDA ScaledObject on the
           worker Deployment with a Prometheus trigger on emar_shards{state="queued"} (the query
           parsed and evaluated by promtool when installed); the image pinned.
  examples the Job and the Argo Workflow run `emarctl submit JOB --wait` against the Service with
           the CA and a client token, are admitted by prod's NetworkPolicy, and do not retry a
           failed gate (exit 3).
  binaries (with --coordinator/--worker/--emarctl) every flag in the manifests exists in the
           binary; deploy/k8s/make-dev-secrets.sh makes Secrets the manifests can mount; and the
           prod overlay's own args, with paths and addresses mapped onto loopback and those
           secrets, start a real coordinator and worker: the coordinator's metrics path has the
           gauge the ScaledObject reads, the worker answers its probes' paths with 200, the
           example's emarctl command evaluates the example job through them (exit 0), a worker
           token is refused on the client API, and both exit 0 on SIGTERM.

--self-test then breaks one invariant at a time in a copy of deploy/ and checks that each is
caught. Exit 0 when everything holds, 1 otherwise (every failure printed, one per line).
"""

import argparse
import hashlib
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request


def die(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


try:
    import yaml
except ImportError:
    die("PyYAML is missing for /usr/bin/python3: apt-get install -y python3-yaml")
try:
    import kubernetes.client as k8s
    from kubernetes.utils import parse_quantity
except ImportError:
    die("the Kubernetes API models are missing for /usr/bin/python3 (schema checks): "
        "apt-get install -y python3-kubernetes")

# ---------------------------------------------------------------------------------------------
# The contract the manifests keep (README.md: "Running the service", "Security"; deploy/Dockerfile)

UID = 10001                      # the image's user emar
CLIENT_PORT, WORKER_PORT, METRICS_PORT = 50051, 50052, 9090
DATA_DIR = "/data"
COORDINATOR_LABELS = {"app.kubernetes.io/name": "emar", "app.kubernetes.io/component": "coordinator"}
WORKER_LABELS = {"app.kubernetes.io/name": "emar", "app.kubernetes.io/component": "worker"}
CLIENT_LABEL = {"emar-client": "true"}
COORDINATOR_GRACE, WORKER_GRACE = 30, 120

# flag -> (path, Secret, key): the file each flag names and where it must come from.
COORDINATOR_FILES = {
    "tls-cert": ("/etc/emar/tls/tls.crt", "emar-tls", "tls.crt"),
    "tls-key": ("/etc/emar/tls/tls.key", "emar-tls", "tls.key"),
    "tokens": ("/etc/emar/tokens/tokens", "emar-tokens", "tokens"),
}
WORKER_FILES = {
    "tls-ca": ("/etc/emar/tls/ca.crt", "emar-tls", "ca.crt"),
    "token-file": ("/etc/emar/token/token", "emar-worker-token", "token"),
}
CLIENT_FILES = {
    "tls-ca": ("/etc/emar/tls/ca.crt", "emar-tls", "ca.crt"),
    "token-file": ("/etc/emar/token/token", "emar-client-token", "token"),
}
# Keys of emar-tls a pod other than the coordinator may mount: never the private key.
CA_ONLY = {"ca.crt"}

# Objects the operator creates before applying (deploy/k8s/README.md, "Secrets"; the examples'
# README): never committed. kind -> name -> keys (None: not a keyed object).
USER_CREATED = {
    "Secret": {
        "emar-tls": {"tls.crt", "tls.key", "ca.crt"},
        "emar-tokens": {"tokens"},
        "emar-worker-token": {"token"},
        "emar-client-token": {"token"},
    },
    "PersistentVolumeClaim": {"emar-eval-inputs": None},
}

# Fields the python3-kubernetes models (Kubernetes 1.22 API) do not know yet; checked by hand.
NEWER_THAN_SCHEMA = {
    ("V1JobSpec", "podFailurePolicy"): "Kubernetes 1.26",
    ("V1Probe", "grpc"): "Kubernetes 1.24",
    ("V1PodDisruptionBudgetSpec", "unhealthyPodEvictionPolicy"): "Kubernetes 1.26",
}
# Model fields typed str that are resource.Quantity in the API (a number is accepted there).
QUANTITY_FIELDS = {"limits", "requests", "size_limit", "capacity"}
BUILTIN_GROUPS = {"", "apps", "batch", "policy", "networking.k8s.io", "autoscaling", "rbac.authorization.k8s.io"}
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}
RESTRICTED_VOLUME_TYPES = {"configMap", "secret", "emptyDir", "persistentVolumeClaim", "projected",
                           "downwardAPI", "csi", "ephemeral"}
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
KEDA_SPEC_FIELDS = {"scaleTargetRef", "pollingInterval", "cooldownPeriod", "initialCooldownPeriod",
                    "idleReplicaCount", "minReplicaCount", "maxReplicaCount", "advanced", "fallback",
                    "triggers"}
QUEUED_QUERY = re.compile(r'emar_shards\s*\{[^}]*\bstate\s*=~?\s*"[^"]*\bqueued\b[^"]*"[^}]*\}')


class Report:
    def __init__(self):
        self.failures = []
        self.notes = []
        self.info = []
        self.checks = 0

    def check(self, cond, where, msg):
        self.checks += 1
        if not cond:
            self.failures.append("%s: %s" % (where, msg))
        return bool(cond)

    def fail(self, where, msg):
        return self.check(False, where, msg)

    def note(self, msg):
        self.notes.append(msg)


# ---------------------------------------------------------------------------------------------
# Small helpers


def name_of(obj):
    md = obj.get("metadata") or {}
    return md.get("name") or md.get("generateName") or "?"


def ident(obj):
    return "%s/%s" % (obj.get("kind", "?"), name_of(obj))


def selector_matches(sel, labels):
    """A LabelSelector (matchLabels + matchExpressions) against a label map."""
    if sel is None:
        return False
    labels = labels or {}
    for k, v in (sel.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in sel.get("matchExpressions") or []:
        k, op, vals = e.get("key"), e.get("operator"), e.get("values") or []
        if op == "In" and labels.get(k) not in vals:
            return False
        if op == "NotIn" and k in labels and labels[k] in vals:
            return False
        if op == "Exists" and k not in labels:
            return False
        if op == "DoesNotExist" and k in labels:
            return False
    return True


def quantity(v):
    try:
        return parse_quantity(v)
    except Exception:
        return None


def program_of(c):
    argv = (c.get("command") or []) + (c.get("args") or [])
    return os.path.basename(str(argv[0])) if argv else ""


VAR = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


def expand(s, env, unresolved):
    """Kubernetes' $(VAR) expansion in command/args; unresolved names are collected."""
    def sub(m):
        if m.group(1) in env:
            return env[m.group(1)]
        unresolved.append(m.group(1))
        return m.group(0)
    return VAR.sub(sub, str(s))


def parse_flags(argv, bool_flags):
    """-> (positionals, {flag-name-with-dashes: value}); --a=b, --a b, and boolean --a."""
    pos, flags, i = [], {}, 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("--") and len(a) > 2:
            name, eq, val = a[2:].partition("=")
            name = name.replace("_", "-")
            if not eq:
                if name in bool_flags:
                    val = "true"
                elif i + 1 < len(argv):
                    i += 1
                    val = argv[i]
                else:
                    val = ""
            flags[name] = val
        else:
            pos.append(a)
        i += 1
    return pos, flags


# ---------------------------------------------------------------------------------------------
# Schema: the API models of python3-kubernetes


def model_for(obj):
    api = obj.get("apiVersion") or ""
    group, _, version = api.rpartition("/")
    if group not in BUILTIN_GROUPS:
        return None
    return getattr(k8s, version[:1].upper() + version[1:] + obj.get("kind", ""), None)


def validate(r, value, typ, path, parent=None, field=None):
    """Builds the model from `value` as the API server would decode it; records every mismatch."""
    if value is None:
        return None
    m = re.match(r"^list\[(.*)\]$", typ)
    if m:
        if not r.check(isinstance(value, list), path, "must be a list"):
            return None
        return [validate(r, v, m.group(1), "%s[%d]" % (path, i), parent, field) for i, v in enumerate(value)]
    m = re.match(r"^dict\(str, (.*)\)$", typ)
    if m:
        if not r.check(isinstance(value, dict), path, "must be a map"):
            return None
        return {k: validate(r, v, m.group(1), "%s.%s" % (path, k), parent, field) for k, v in value.items()}
    if typ == "str":
        if field in QUANTITY_FIELDS and isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        r.check(isinstance(value, str), path, "must be a string, not %r (quote it)" % (value,))
        return value
    if typ == "int":
        r.check(isinstance(value, int) and not isinstance(value, bool), path, "must be an integer, not %r" % (value,))
        return value
    if typ == "float":
        r.check(isinstance(value, (int, float)) and not isinstance(value, bool), path, "must be a number")
        return value
    if typ == "bool":
        r.check(isinstance(value, bool), path, "must be true or false, not %r" % (value,))
        return value
    if typ in ("object", "datetime", "date"):
        return value
    cls = getattr(k8s, typ, None)
    if cls is None:
        r.note("no model %s for %s" % (typ, path))
        return value
    if not r.check(isinstance(value, dict), path, "must be an object (%s)" % typ):
        return None
    by_json = {j: p for p, j in cls.attribute_map.items()}
    kwargs = {}
    for k, v in value.items():
        if (typ, k) in NEWER_THAN_SCHEMA:
            continue
        if not r.check(k in by_json, "%s.%s" % (path, k), "unknown field (not in %s)" % typ):
            continue
        kwargs[by_json[k]] = validate(r, v, cls.openapi_types[by_json[k]], "%s.%s" % (path, k), typ, by_json[k])
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as e:
        r.fail(path, "%s: %s" % (typ, e))
        return None


def validate_object(r, where, obj):
    cls = model_for(obj)
    if cls is None:
        return False
    validate(r, obj, cls.__name__, "%s %s" % (where, ident(obj)))
    return True


# ---------------------------------------------------------------------------------------------
# Pods: every pod template of the rendered objects and of the examples


class Pod:
    def __init__(self, where, owner, spec, labels, containers, volumes, pod_sc):
        self.where, self.owner, self.spec = where, owner, spec
        self.labels = labels or {}
        self.containers = containers
        self.volumes = {v.get("name"): v for v in volumes or []}
        self.sc = pod_sc or {}

    def id(self, c=None):
        return "%s %s%s" % (self.where, ident(self.owner), " container %s" % c.get("name") if c else "")


def pods_of(where, objs):
    out = []
    for o in objs:
        kind, spec = o.get("kind"), o.get("spec") or {}
        if kind in WORKLOAD_KINDS:
            t = spec.get("template") or {}
            ps = t.get("spec") or {}
            out.append(Pod(where, o, ps, (t.get("metadata") or {}).get("labels"),
                           (ps.get("initContainers") or []) + (ps.get("containers") or []),
                           ps.get("volumes"), ps.get("securityContext")))
        elif kind == "Pod":
            out.append(Pod(where, o, spec, (o.get("metadata") or {}).get("labels"),
                           (spec.get("initContainers") or []) + (spec.get("containers") or []),
                           spec.get("volumes"), spec.get("securityContext")))
        elif kind == "Workflow" and str(o.get("apiVersion", "")).startswith("argoproj.io/"):
            for t in spec.get("templates") or []:
                c = t.get("container") or t.get("script")
                if c is None:
                    continue
                c = dict(c, name=c.get("name") or t.get("name"))
                labels = dict((spec.get("podMetadata") or {}).get("labels") or {})
                labels.update((t.get("metadata") or {}).get("labels") or {})
                pod = Pod(where, o, spec, labels, [c], (spec.get("volumes") or []) + (t.get("volumes") or []),
                          t.get("securityContext") or spec.get("securityContext"))
                pod.template = t
                out.append(pod)
    return out


def effective(pod, c, field):
    csc = c.get("securityContext") or {}
    return csc[field] if field in csc else pod.sc.get(field)


def resolve_file(pod, c, path):
    """Where the file `path` of container `c` comes from: {'kind', 'name', 'key'} or None."""
    best = None
    for m in c.get("volumeMounts") or []:
        mp = m.get("mountPath", "").rstrip("/")
        if path == mp or path.startswith(mp + "/"):
            if best is None or len(mp) > len(best.get("mountPath", "").rstrip("/")):
                best = m
    if best is None:
        return None
    rel = path[len(best["mountPath"].rstrip("/")):].lstrip("/")
    if best.get("subPath"):
        rel = best["subPath"] + ("/" + rel if rel else "")
    vol = pod.volumes.get(best.get("name"))
    if vol is None:
        return None
    out = {"mount": best, "volume": vol, "rel": rel}

    def keyed(kind, name, items):
        if items:
            for it in items:
                if it.get("path") == rel:
                    return dict(out, kind=kind, name=name, key=it.get("key"), mode=it.get("mode"))
            return None
        return dict(out, kind=kind, name=name, key=rel, mode=None)

    if "secret" in vol:
        return keyed("Secret", vol["secret"].get("secretName"), vol["secret"].get("items"))
    if "configMap" in vol:
        return keyed("ConfigMap", vol["configMap"].get("name"), vol["configMap"].get("items"))
    if "projected" in vol:
        for src in vol["projected"].get("sources") or []:
            for kind, field in (("Secret", "secret"), ("ConfigMap", "configMap")):
                if field in src:
                    got = keyed(kind, src[field].get("name"), src[field].get("items"))
                    if got:
                        return got
        return None
    if "persistentVolumeClaim" in vol:
        return dict(out, kind="PersistentVolumeClaim", name=vol["persistentVolumeClaim"].get("claimName"), key=rel)
    if "emptyDir" in vol:
        return dict(out, kind="emptyDir", name=vol.get("name"), key=rel)
    return dict(out, kind="other", name=vol.get("name"), key=rel)


def container_env(c, objs):
    cms = {name_of(o): o.get("data") or {} for o in objs if o.get("kind") == "ConfigMap"}
    env = {}
    for ef in c.get("envFrom") or []:
        ref = ef.get("configMapRef")
        if ref and ref.get("name") in cms:
            for k, v in cms[ref["name"]].items():
                env[(ef.get("prefix") or "") + k] = str(v)
    for e in c.get("env") or []:
        env[e.get("name")] = str(e["value"]) if "value" in e else "<%s>" % e.get("name")
    return env


def container_argv(r, pod, c, objs):
    unresolved = []
    env = container_env(c, objs)
    argv = [expand(a, env, unresolved) for a in (c.get("command") or []) + (c.get("args") or [])]
    r.check(not unresolved, pod.id(c), "args use undefined variables: %s" % ", ".join(sorted(set(unresolved))))
    return argv


def check_pod_security(r, pod):
    spec = pod.spec
    for f in ("hostNetwork", "hostPID", "hostIPC"):
        r.check(not spec.get(f), pod.id(), "%s must not be set (restricted)" % f)
    for name, v in pod.volumes.items():
        types = set(v) - {"name"}
        r.check(types <= RESTRICTED_VOLUME_TYPES, pod.id(),
                "volume %s is of a type the restricted profile forbids: %s" % (name, ", ".join(sorted(types))))
    fs_group = pod.sc.get("fsGroup")
    for c in pod.containers:
        w = pod.id(c)
        csc = c.get("securityContext") or {}
        r.check(effective(pod, c, "runAsNonRoot") is True, w, "runAsNonRoot must be true")
        r.check(effective(pod, c, "runAsUser") == UID, w, "runAsUser must be %d (the image's user)" % UID)
        r.check(csc.get("allowPrivilegeEscalation") is False, w, "allowPrivilegeEscalation must be false")
        r.check(not csc.get("privileged"), w, "privileged must not be set")
        caps = csc.get("capabilities") or {}
        r.check("ALL" in (caps.get("drop") or []), w, "capabilities must drop ALL")
        r.check(not caps.get("add"), w, "capabilities must add nothing")
        sp = effective(pod, c, "seccompProfile") or {}
        r.check(sp.get("type") == "RuntimeDefault", w, "seccompProfile.type must be RuntimeDefault")
        r.check(csc.get("readOnlyRootFilesystem") is True, w, "readOnlyRootFilesystem must be true")
        tmp = resolve_file(pod, c, "/tmp")
        r.check(tmp is not None and tmp["kind"] == "emptyDir" and tmp["mount"]["mountPath"].rstrip("/") == "/tmp",
                w, "needs an emptyDir mounted at /tmp (the root filesystem is read-only)")
        res = c.get("resources") or {}
        for part in ("requests", "limits"):
            for what in ("cpu", "memory"):
                r.check(quantity((res.get(part) or {}).get(what)) is not None, w,
                        "resources.%s.%s must be set" % (part, what))
        for what in ("cpu", "memory"):
            req, lim = quantity((res.get("requests") or {}).get(what)), quantity((res.get("limits") or {}).get(what))
            if req is not None and lim is not None:
                r.check(lim >= req, w, "%s limit below its request" % what)
        # Secret and ConfigMap files are owned by root: the container's user must be able to read.
        for m in c.get("volumeMounts") or []:
            v = pod.volumes.get(m.get("name")) or {}
            src = v.get("secret") or v.get("configMap")
            if src is None:
                continue
            modes = [it.get("mode") for it in src.get("items") or [] if it.get("mode") is not None]
            for mode in modes + [src.get("defaultMode", 0o644)]:
                readable = mode & 0o004 or (mode & 0o040 and fs_group is not None)
                r.check(readable, w, "volume %s: mode %o leaves its files unreadable by UID %d%s" % (
                    m.get("name"), mode, UID, "" if fs_group is not None else " (no fsGroup)"))


# ---------------------------------------------------------------------------------------------
# Checks of a rendered set of objects


def check_objects(r, where, objs, readme_text):
    names = {}
    for o in objs:
        w = "%s %s" % (where, ident(o))
        r.check(isinstance(o.get("apiVersion"), str) and o["apiVersion"], w, "no apiVersion")
        r.check(isinstance(o.get("kind"), str) and o["kind"], w, "no kind")
        md = o.get("metadata") or {}
        nm = md.get("name") or (md.get("generateName") if o.get("kind") == "Workflow" else None)
        if r.check(isinstance(nm, str) and nm, w, "no metadata.name"):
            r.check(DNS_SUBDOMAIN.match(nm.rstrip("-")), w, "metadata.name %r is not a DNS-1123 name" % nm)
        key = (o.get("apiVersion"), o.get("kind"), md.get("name"))
        r.check(md.get("name") is None or key not in names, w, "defined twice")
        names[key] = o
        r.check(o.get("kind") != "Secret", w,
                "a Secret in the manifests: Secrets are created by the operator, never committed")
        validate_object(r, where, o)

    pods = pods_of(where, objs)
    for p in pods:
        check_pod_security(r, p)
    for o in objs:
        if o.get("kind") in WORKLOAD_KINDS and o.get("kind") != "Job":
            spec = o.get("spec") or {}
            labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels")
            r.check(selector_matches(spec.get("selector"), labels), "%s %s" % (where, ident(o)),
                    "spec.selector does not match the pod template's labels")
    check_references(r, where, objs, pods, readme_text)
    check_services(r, where, objs, pods)
    return pods


def check_references(r, where, objs, pods, readme_text):
    defined = {(o.get("kind"), name_of(o)) for o in objs}
    for p in pods:
        refs = []
        for v in p.volumes.values():
            if "secret" in v:
                refs.append(("Secret", v["secret"].get("secretName"), [i.get("key") for i in v["secret"].get("items") or []]))
            if "configMap" in v:
                refs.append(("ConfigMap", v["configMap"].get("name"), [i.get("key") for i in v["configMap"].get("items") or []]))
            if "persistentVolumeClaim" in v:
                refs.append(("PersistentVolumeClaim", v["persistentVolumeClaim"].get("claimName"), []))
            for src in (v.get("projected") or {}).get("sources") or []:
                for kind, field in (("Secret", "secret"), ("ConfigMap", "configMap")):
                    if field in src:
                        refs.append((kind, src[field].get("name"), [i.get("key") for i in src[field].get("items") or []]))
        for c in p.containers:
            for ef in c.get("envFrom") or []:
                for kind, field in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
                    if field in ef:
                        refs.append((kind, ef[field].get("name"), []))
            for e in c.get("env") or []:
                vf = e.get("valueFrom") or {}
                for kind, field in (("ConfigMap", "configMapKeyRef"), ("Secret", "secretKeyRef")):
                    if field in vf:
                        refs.append((kind, vf[field].get("name"), [vf[field].get("key")]))
        for kind, nm, keys in refs:
            w = "%s %s" % (p.id(), "%s %s" % (kind, nm))
            if (kind, nm) in defined:
                data = next(o for o in objs if (o.get("kind"), name_of(o)) == (kind, nm)).get("data") or {}
                for k in keys:
                    r.check(k in data, w, "key %s is not in the %s" % (k, kind))
                continue
            known = USER_CREATED.get(kind, {})
            if not r.check(nm in known, w, "referenced but neither defined nor in the user-created list "
                           "(tests/deploy/k8s/check_manifests.py USER_CREATED)"):
                continue
            r.check(nm in readme_text, w, "user-created but not documented in deploy/k8s/README.md")
            for k in keys:
                r.check(known[nm] is None or k in known[nm], w,
                        "key %s is not one the documented %s has (%s)" % (k, kind, ", ".join(sorted(known[nm] or []))))


def container_ports(pod):
    out = {}
    for c in pod.containers:
        for cp in c.get("ports") or []:
            out[cp.get("containerPort")] = cp
            if cp.get("name"):
                out[cp["name"]] = cp
    return out


def check_services(r, where, objs, pods):
    for s in objs:
        if s.get("kind") != "Service":
            continue
        w = "%s %s" % (where, ident(s))
        sel = (s.get("spec") or {}).get("selector")
        if not sel:
            continue
        chosen = [p for p in pods if p.owner.get("kind") != "Workflow" and
                  all(p.labels.get(k) == v for k, v in sel.items())]
        if not r.check(chosen, w, "selects no pod of any workload (selector %s)" % sel):
            continue
        for port in (s.get("spec") or {}).get("ports") or []:
            tp = port.get("targetPort", port.get("port"))
            for p in chosen:
                r.check(tp in container_ports(p), w, "port %s: targetPort %s is no container port of %s" % (
                    port.get("name"), tp, ident(p.owner)))
    for o in objs:
        if o.get("kind") != "StatefulSet":
            continue
        w = "%s %s" % (where, ident(o))
        sn = (o.get("spec") or {}).get("serviceName")
        gov = next((s for s in objs if s.get("kind") == "Service" and name_of(s) == sn), None)
        if r.check(gov is not None, w, "serviceName %r: no such Service" % sn):
            r.check((gov.get("spec") or {}).get("clusterIP") == "None", w, "serviceName %s is not headless" % sn)


def service_port_target(objs, pods, host_port):
    """'svc:port' -> (Service, container port number of the pods it selects) or None."""
    host, _, port = host_port.rpartition(":")
    svc = next((s for s in objs if s.get("kind") == "Service" and name_of(s) == host), None)
    if svc is None or not port.isdigit():
        return None
    for sp in (svc.get("spec") or {}).get("ports") or []:
        if sp.get("port") == int(port):
            tp = sp.get("targetPort", sp.get("port"))
            sel = (svc.get("spec") or {}).get("selector") or {}
            for p in pods:
                if sel and all(p.labels.get(k) == v for k, v in sel.items()):
                    cp = container_ports(p).get(tp)
                    if cp:
                        return svc, cp.get("containerPort"), p
    return None


def check_file_flag(r, pod, c, flags, flag, expected):
    path, secret, key = expected
    w = pod.id(c)
    got = flags.get(flag)
    if not r.check(got == path, w, "--%s must be %s (got %r)" % (flag, path, got)):
        return
    src = resolve_file(pod, c, path)
    r.check(src is not None and (src["kind"], src["name"], src["key"]) == ("Secret", secret, key), w,
            "--%s %s must be key %s of Secret %s mounted there (it is %s)" % (
                flag, path, key, secret, "nothing" if src is None else "%s %s key %s" % (src["kind"], src["name"], src["key"])))


def ca_only(r, pod):
    """A pod other than the coordinator's must not mount the TLS key (nor the certificate)."""
    for v in pod.volumes.values():
        srcs = [v["secret"]] if "secret" in v else []
        srcs += [s["secret"] for s in (v.get("projected") or {}).get("sources") or [] if "secret" in s]
        for s in srcs:
            if s.get("secretName", s.get("name")) == "emar-tls":
                keys = {i.get("key") for i in s.get("items") or []}
                r.check(s.get("items") and keys <= CA_ONLY, pod.id(),
                        "mounts emar-tls beyond ca.crt (%s): only the coordinator may hold its key" % (
                            ", ".join(sorted(keys)) or "every key"))


def check_coordinator(r, where, objs, pods, bool_flags):
    coords = [(p, c) for p in pods for c in p.containers if program_of(c) == "emar-coordinator"]
    if not r.check(len(coords) == 1, where, "expected one emar-coordinator container, found %d" % len(coords)):
        return None
    pod, c = coords[0]
    w = pod.id(c)
    owner = pod.owner
    spec = owner.get("spec") or {}
    r.check(owner.get("kind") == "StatefulSet", w, "the coordinator must be a StatefulSet (it has state)")
    r.check(spec.get("replicas") == 1, w, "the coordinator must have exactly 1 replica (got %r)" % spec.get("replicas"))
    r.check(pod.labels.items() >= COORDINATOR_LABELS.items(), w, "pod labels must include %s" % COORDINATOR_LABELS)
    r.check(pod.spec.get("terminationGracePeriodSeconds", 30) >= COORDINATOR_GRACE, w,
            "terminationGracePeriodSeconds below %d" % COORDINATOR_GRACE)
    argv = container_argv(r, pod, c, objs)
    _, flags = parse_flags(argv[1:], bool_flags)
    r.check(flags.get("listen") == "0.0.0.0:%d" % CLIENT_PORT, w, "--listen must be 0.0.0.0:%d" % CLIENT_PORT)
    r.check(flags.get("worker-listen") == "0.0.0.0:%d" % WORKER_PORT, w, "--worker-listen must be 0.0.0.0:%d" % WORKER_PORT)
    r.check(flags.get("metrics-listen") == "0.0.0.0:%d" % METRICS_PORT, w, "--metrics-listen must be 0.0.0.0:%d" % METRICS_PORT)
    r.check(flags.get("data-dir") == DATA_DIR, w, "--data-dir must be %s" % DATA_DIR)
    for flag, expected in COORDINATOR_FILES.items():
        check_file_flag(r, pod, c, flags, flag, expected)
    # The data volume: a claim template mounted at --data-dir.
    mount = next((m for m in c.get("volumeMounts") or [] if m.get("mountPath", "").rstrip("/") == DATA_DIR), None)
    claim = None
    if r.check(mount is not None, w, "nothing mounted at %s" % DATA_DIR):
        claim = next((t for t in spec.get("volumeClaimTemplates") or []
                      if (t.get("metadata") or {}).get("name") == mount.get("name")), None)
        r.check(claim is not None, w, "%s must be a volumeClaimTemplate (got volume %s)" % (DATA_DIR, mount.get("name")))
    ports = {cp.get("containerPort") for cp in c.get("ports") or []}
    r.check({CLIENT_PORT, WORKER_PORT, METRICS_PORT} <= ports, w, "container ports must include 50051, 50052, 9090")
    # Probes: present, aimed at the client port, and able to work with TLS on that port.
    tls = bool(flags.get("tls-cert"))
    named = {cp.get("name"): cp.get("containerPort") for cp in c.get("ports") or []}
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        pr = c.get(probe)
        if not r.check(pr, w, "no %s" % probe):
            continue
        kinds = [k for k in ("grpc", "tcpSocket", "httpGet", "exec") if k in pr]
        if not r.check(len(kinds) == 1, w, "%s must have one handler" % probe):
            continue
        handler = pr[kinds[0]]
        if kinds[0] == "exec":
            r.fail(w, "%s: exec probe, but the image has no health client" % probe)
            continue
        port = named.get(handler.get("port"), handler.get("port"))
        r.check(port in (ports | {None}), w, "%s: port %s is no container port" % (probe, handler.get("port")))
        if kinds[0] in ("grpc", "httpGet"):
            if kinds[0] == "grpc":
                r.check(isinstance(handler.get("port"), int), w, "%s: grpc.port must be a number" % probe)
            r.check(not (tls and port in (CLIENT_PORT, WORKER_PORT)), w,
                    "%s: kubelet's %s probe speaks plaintext, but port %s serves TLS (--tls-cert): "
                    "it would fail and restart a healthy coordinator (deploy/k8s/README.md, Probes)" % (
                        probe, kinds[0], port))
        elif kinds[0] == "tcpSocket":
            r.check(port == CLIENT_PORT, w, "%s: tcpSocket must target the client port %d" % (probe, CLIENT_PORT))
        if kinds[0] == "httpGet":
            r.check(port == METRICS_PORT and handler.get("path") in ("/healthz", "/readyz"), w,
                    "%s: httpGet must GET /healthz or /readyz on the metrics port %d" % (probe, METRICS_PORT))
    # Limits that must agree with the flags.
    mem = quantity(((c.get("resources") or {}).get("limits") or {}).get("memory"))
    grpc_mb = flags.get("max-grpc-memory-mb")
    if mem is not None and grpc_mb not in (None, "0") and re.match(r"^\d+$", grpc_mb):
        r.check(int(grpc_mb) * 2 ** 20 < mem, w, "--max-grpc-memory-mb %s MiB is not below the memory limit" % grpc_mb)
    store_gb = flags.get("max-store-gb")
    size = quantity((((claim or {}).get("spec") or {}).get("resources") or {}).get("requests", {}).get("storage")) if claim else None
    if size is not None:
        try:
            gb = float(store_gb)
        except (TypeError, ValueError):
            gb = None
        r.check(gb is not None and 0 < gb * 1e9 < size, w,
                "--max-store-gb (%s GB) must be set and below the data volume (%s bytes)" % (store_gb, size))
    # The Service in front of it: both ports, and the scrape annotations for the metrics port.
    for port, desc in ((CLIENT_PORT, "client"), (WORKER_PORT, "worker"), (METRICS_PORT, "metrics")):
        t = service_port_target(objs, [pod], "emar-coordinator:%d" % port)
        r.check(t is not None and t[1] == port, where,
                "Service emar-coordinator must forward its %s port %d to the coordinator's %d" % (desc, port, port))
    svc = next((s for s in objs if s.get("kind") == "Service" and name_of(s) == "emar-coordinator"), None)
    ann = ((svc or {}).get("metadata") or {}).get("annotations") or {}
    r.check(ann.get("prometheus.io/scrape") == "true" and ann.get("prometheus.io/port") == str(METRICS_PORT), where,
            "Service emar-coordinator needs prometheus.io/scrape \"true\" and prometheus.io/port \"9090\"")
    return {"pod": pod, "container": c, "flags": flags, "argv": argv,
            "metrics_path": ann.get("prometheus.io/path", "/metrics")}


def check_workers(r, where, objs, pods, bool_flags):
    workers = [(p, c) for p in pods for c in p.containers if program_of(c) == "emar-worker"]
    if not r.check(workers, where, "no emar-worker container"):
        return []
    out = []
    for pod, c in workers:
        w = pod.id(c)
        r.check(pod.owner.get("kind") == "Deployment", w, "workers must be a Deployment")
        r.check(pod.labels.items() >= WORKER_LABELS.items(), w, "pod labels must include %s" % WORKER_LABELS)
        r.check(pod.spec.get("terminationGracePeriodSeconds", 30) >= WORKER_GRACE, w,
                "terminationGracePeriodSeconds must be at least %d s (workers finish their shards on SIGTERM)" % WORKER_GRACE)
        argv = container_argv(r, pod, c, objs)
        _, flags = parse_flags(argv[1:], bool_flags)
        t = service_port_target(objs, pods, flags.get("coordinator", ""))
        r.check(t is not None and t[1] == WORKER_PORT and program_of(t[2].containers[0]) == "emar-coordinator", w,
                "--coordinator %r must be a Service port forwarding to the coordinator's worker port %d" % (
                    flags.get("coordinator"), WORKER_PORT))
        for flag, expected in WORKER_FILES.items():
            check_file_flag(r, pod, c, flags, flag, expected)
        ca_only(r, pod)
        # Probes: httpGet on the --health-listen port, /healthz for liveness, /readyz for readiness.
        hl = flags.get("health-listen", "")
        hport = int(hl.rpartition(":")[2]) if re.match(r"^[^:]*:\d+$", hl) else None
        if r.check(hport, w, "--health-listen HOST:PORT must be set (the probes' endpoint)"):
            named = {cp.get("name"): cp.get("containerPort") for cp in c.get("ports") or []}
            r.check(hport in named.values(), w, "--health-listen port %d is no container port" % hport)
            for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
                hg = (c.get(probe) or {}).get("httpGet")
                if r.check(hg, w, "needs a %s (httpGet %s)" % (probe, path)):
                    r.check(named.get(hg.get("port"), hg.get("port")) == hport and hg.get("path") == path and
                            hg.get("scheme", "HTTP") == "HTTP", w,
                            "%s must GET %s on the --health-listen port %d over HTTP" % (probe, path, hport))
        threads, cpu = flags.get("threads", "1"), quantity(((c.get("resources") or {}).get("limits") or {}).get("cpu"))
        if re.match(r"^\d+$", threads or "") and cpu is not None:
            r.check(int(threads) <= math.ceil(cpu), w, "--threads %s exceeds the CPU limit %s" % (threads, cpu))
        out.append({"pod": pod, "container": c, "flags": flags, "argv": argv})
    return out


def policies_for(objs, labels):
    return [n for n in objs if n.get("kind") == "NetworkPolicy" and
            selector_matches((n.get("spec") or {}).get("podSelector"), labels) and
            "Ingress" in ((n.get("spec") or {}).get("policyTypes") or ["Ingress"])]


def peers_for_port(nps, port, named_ports):
    """Peers allowed to reach `port` by these policies: a list, or None for 'anyone'."""
    peers = []
    for n in nps:
        for rule in (n.get("spec") or {}).get("ingress") or []:
            ports = rule.get("ports")
            if ports:
                hit = False
                for p in ports:
                    pp = named_ports.get(p.get("port"), p.get("port"))
                    end = p.get("endPort") or pp
                    if pp is None or (isinstance(pp, int) and pp <= port <= end):
                        hit = True
                if not hit:
                    continue
            if not rule.get("from"):
                return None
            peers.extend(rule["from"])
    return peers


def check_network_policies(r, where, objs, coord, worker_labels, client_pods):
    pod = coord["pod"]
    nps = policies_for(objs, pod.labels)
    if not r.check(nps, where, "no NetworkPolicy isolates the coordinator's pods"):
        return
    named = {cp.get("name"): cp.get("containerPort") for c in pod.containers for cp in c.get("ports") or []}
    for port, who, must_match, must_not in (
            (WORKER_PORT, "worker pods", worker_labels, [CLIENT_LABEL, {}]),
            (CLIENT_PORT, "pods labelled emar-client: \"true\"", CLIENT_LABEL, [worker_labels, {}])):
        peers = peers_for_port(nps, port, named)
        if not r.check(peers is not None, where, "NetworkPolicies let anyone reach port %d; only %s may" % (port, who)):
            continue
        r.check(peers, where, "no NetworkPolicy rule lets %s reach port %d" % (who, port))
        for peer in peers:
            ok = (set(peer) == {"podSelector"} and selector_matches(peer["podSelector"], must_match) and
                  not any(selector_matches(peer["podSelector"], lbl) for lbl in must_not))
            r.check(ok, where, "port %d is open to %s; only %s may reach it" % (port, peer, who))
    # The example clients are admitted where they must be.
    peers = peers_for_port(nps, CLIENT_PORT, named) or []
    for cp in client_pods:
        r.check(any(set(p) == {"podSelector"} and selector_matches(p["podSelector"], cp.labels) for p in peers),
                cp.id(), "this client pod is not admitted to port %d by %s's NetworkPolicies" % (CLIENT_PORT, where))


def check_prod(r, where, objs, pods, coord, workers, client_pods, promtool):
    worker_deps = {name_of(w["pod"].owner): w["pod"] for w in workers}
    worker_labels = next(iter(worker_deps.values())).labels if worker_deps else WORKER_LABELS
    pdbs = [o for o in objs if o.get("kind") == "PodDisruptionBudget"]
    r.check(any(selector_matches((p.get("spec") or {}).get("selector"), worker_labels) for p in pdbs), where,
            "no PodDisruptionBudget selects the worker pods")
    for p in pdbs:
        r.check(not selector_matches((p.get("spec") or {}).get("selector"), coord["pod"].labels), where,
                "%s selects the one-replica coordinator: it would block every node drain" % ident(p))
    check_network_policies(r, where, objs, coord, worker_labels, client_pods)
    sos = [o for o in objs if o.get("kind") == "ScaledObject"]
    if not r.check(sos, where, "no KEDA ScaledObject"):
        return
    for so in sos:
        w = "%s %s" % (where, ident(so))
        r.check(so.get("apiVersion") == "keda.sh/v1alpha1", w, "apiVersion must be keda.sh/v1alpha1")
        spec = so.get("spec") or {}
        unknown = set(spec) - KEDA_SPEC_FIELDS
        r.check(not unknown, w, "unknown ScaledObject fields: %s" % ", ".join(sorted(unknown)))
        ref = spec.get("scaleTargetRef") or {}
        r.check(ref.get("kind", "Deployment") == "Deployment" and ref.get("name") in worker_deps, w,
                "scaleTargetRef %s must name the worker Deployment (%s)" % (ref, ", ".join(worker_deps)))
        dep = worker_deps.get(ref.get("name"))
        if dep is not None:
            r.check("replicas" not in (dep.owner.get("spec") or {}), w,
                    "the scaled Deployment sets spec.replicas: every kubectl apply would reset KEDA's count")
        lo, hi = spec.get("minReplicaCount", 0), spec.get("maxReplicaCount", 100)
        trig_md = [(t.get("metadata") or {}) for t in spec.get("triggers") or [] if t.get("type") == "prometheus"]
        # Scale to zero needs an activation threshold, and a query that counts leased shards too:
        # otherwise the last workers would be taken while they still score.
        to_zero = bool(trig_md) and all("activationThreshold" in md and "leased" in md.get("query", "")
                                        for md in trig_md)
        r.check(isinstance(lo, int) and (lo >= 2 or (lo == 0 and to_zero)), w,
                "minReplicaCount must keep several workers (>= 2), or be 0 with an activationThreshold and a "
                "query that counts leased shards")
        r.check(isinstance(hi, int) and hi >= lo, w, "maxReplicaCount below minReplicaCount")
        behavior = ((spec.get("advanced") or {}).get("horizontalPodAutoscalerConfig") or {}).get("behavior")
        if behavior is not None:
            validate(r, behavior, "V2beta2HorizontalPodAutoscalerBehavior", w + " spec.advanced...behavior")
        proms = [t for t in spec.get("triggers") or [] if t.get("type") == "prometheus"]
        if not r.check(proms, w, "no prometheus trigger"):
            continue
        for t in proms:
            md = t.get("metadata") or {}
            q = md.get("query", "")
            r.check(QUEUED_QUERY.search(q), w, "the trigger's query must read emar_shards{state=\"queued\"} (got %r)" % q)
            r.check(str(md.get("serverAddress", "")).startswith(("http://", "https://")), w, "serverAddress must be a URL")
            r.check(all(isinstance(v, str) for v in md.values()), w, "trigger metadata values must be strings")
            try:
                r.check(float(md.get("threshold")) > 0, w, "threshold must be positive")
            except (TypeError, ValueError):
                r.fail(w, "threshold must be a number (a string)")
            if promtool:
                check_query_with_promtool(r, w, promtool, q)
    # Pinned image.
    for p in pods:
        for c in p.containers:
            img = c.get("image", "")
            r.check("@sha256:" in img or (":" in img.rsplit("/", 1)[-1] and not img.endswith(":latest")), p.id(c),
                    "image %r is not pinned (a tag other than latest, or a digest)" % img)


def check_query_with_promtool(r, w, promtool, query):
    """promtool parses the query and evaluates it on a queued and a leased series."""
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "rules.yaml"), "w") as f:
            yaml.safe_dump({"groups": [{"name": "emar", "rules": [{"record": "emar:queued", "expr": query}]}]}, f)
        with open(os.path.join(d, "test.yaml"), "w") as f:
            yaml.safe_dump({"rule_files": ["rules.yaml"], "evaluation_interval": "1m", "tests": [{
                "interval": "1m",
                "input_series": [
                    {"series": 'emar_shards{state="queued",instance="c:9090",job="emar"}', "values": "7 7"},
                    {"series": 'emar_shards{state="leased",instance="c:9090",job="emar"}', "values": "3 3"}],
                "promql_expr_test": [{"expr": query, "eval_time": "1m",
                                      "exp_samples": [{"labels": "{}", "value": 10 if "leased" in query else 7}]}],
            }]}, f)
        res = subprocess.run([promtool, "test", "rules", "test.yaml"], cwd=d, capture_output=True, text=True)
        r.check(res.returncode == 0, w, "promtool: the query does not parse or does not count the queued shards "
                "(and the leased ones when it names them; 7 queued, 3 leased):\n" + (res.stdout + res.stderr).strip())


def check_dev(r, where, objs, workers):
    for wk in workers:
        r.check((wk["pod"].owner.get("spec") or {}).get("replicas") == 1, wk["pod"].id(), "dev runs one worker")
    r.check(not [o for o in objs if o.get("kind") in ("ScaledObject", "HorizontalPodAutoscaler")], where,
            "dev has no autoscaling")


# ---------------------------------------------------------------------------------------------
# Examples: the pipeline steps


def check_clients(r, where, objs, pods, base_objs, base_pods, bool_flags):
    clients = []
    for pod in pods:
        for c in pod.containers:
            if program_of(c) != "emarctl":
                continue
            w = pod.id(c)
            argv = container_argv(r, pod, c, objs)
            pos, flags = parse_flags(argv[1:], bool_flags)
            if not r.check(pos[:1] == ["submit"] and len(pos) == 2, w, "expected `emarctl submit JOB_FILE ...`"):
                continue
            r.check(flags.get("wait") == "true", w, "submit needs --wait (the step's exit code is the verdict)")
            t = service_port_target(base_objs, base_pods, flags.get("server", ""))
            r.check(t is not None and t[1] == CLIENT_PORT, w,
                    "--server %r must be the coordinator Service's client port" % flags.get("server"))
            for flag, expected in CLIENT_FILES.items():
                check_file_flag(r, pod, c, flags, flag, expected)
            ca_only(r, pod)
            r.check(flags.get("request-id"), w, "--request-id: a retried step must follow the job it created")
            r.check(pod.labels.get("emar-client") == "true", w, "pod needs the label emar-client: \"true\"")
            job = resolve_file(pod, c, pos[1])
            if not r.check(job is not None and job["kind"] == "ConfigMap", w, "job file %s: no ConfigMap mounted there" % pos[1]):
                continue
            cm = next((o for o in objs if o.get("kind") == "ConfigMap" and name_of(o) == job["name"]), None)
            text = ((cm or {}).get("data") or {}).get(job["key"])
            if not r.check(text, w, "job file %s: ConfigMap %s has no key %s" % (pos[1], job["name"], job["key"])):
                continue
            spec = yaml.safe_load(text)
            inputs = []
            for ds in ("target", "benchmark"):
                inputs.append((spec.get(ds) or {}).get("references"))
            for m in [spec.get("base") or {}] + (spec.get("candidates") or []):
                inputs += [m.get("target_outputs"), m.get("benchmark_outputs")]
            for p in inputs:
                full = p if str(p).startswith("/") else os.path.join(os.path.dirname(pos[1]), str(p))
                src = resolve_file(pod, c, full)
                r.check(src is not None and src["kind"] == "PersistentVolumeClaim", w,
                        "job input %s is on no mounted volume" % p)
            owner = pod.owner
            if owner.get("kind") == "Job":
                r.check(pod.spec.get("restartPolicy") == "Never", w, "restartPolicy must be Never (podFailurePolicy)")
                rules = ((owner.get("spec") or {}).get("podFailurePolicy") or {}).get("rules") or []
                fail_job = [x for x in rules if x.get("action") == "FailJob" and
                            (x.get("onExitCodes") or {}).get("operator") == "In"]
                codes = {v for x in fail_job for v in (x.get("onExitCodes") or {}).get("values") or []}
                r.check(3 in codes, w, "podFailurePolicy must FailJob on exit 3: a failed gate is not retried")
                r.check(1 not in codes, w, "exit 1 (an error) should be retried, not FailJob")
            elif owner.get("kind") == "Workflow":
                rs = pod.template.get("retryStrategy")
                if rs is not None:
                    r.check("exitCode" in str(rs.get("expression", "")), w,
                            "retryStrategy without an exitCode expression retries failed gates (exit 3)")
            clients.append({"pod": pod, "container": c, "flags": flags, "argv": argv, "job_text": text,
                            "job_path": pos[1]})
    return clients


def validate_workflow(r, where, o):
    spec = o.get("spec") or {}
    w = "%s %s" % (where, ident(o))
    r.check(spec.get("entrypoint") in {t.get("name") for t in spec.get("templates") or []}, w, "entrypoint names no template")
    validate(r, spec.get("volumes"), "list[V1Volume]", w + " spec.volumes")
    validate(r, spec.get("securityContext"), "V1PodSecurityContext", w + " spec.securityContext")
    for t in spec.get("templates") or []:
        if "container" in t:
            c = dict(t["container"], name=t["container"].get("name", "main"))  # Argo names it main
            validate(r, c, "V1Container", "%s template %s container" % (w, t.get("name")))
        validate(r, (t.get("metadata") or {}).get("labels"), "dict(str, str)", "%s template %s labels" % (w, t.get("name")))


# ---------------------------------------------------------------------------------------------
# Binaries: flag names, the dev secrets, and a loopback run of the rendered args


def known_flags(binary):
    out = subprocess.run([binary, "--helpfull"], capture_output=True, text=True).stdout
    names = set(re.findall(r"^\s+--([A-Za-z0-9_]+) \(", out, re.M))
    bools = set(re.findall(r"^\s+--([A-Za-z0-9_]+) \((?:[^;]|;(?! default:))*; default: (?:true|false);", out, re.M | re.S))
    return {n.replace("_", "-") for n in names}, {n.replace("_", "-") for n in bools}


def check_flag_names(r, where, who, flags, binary_flags):
    for f in flags:
        r.check(f in binary_flags, where, "%s has no flag --%s" % (who, f))


def run_dev_secrets(r, repo, kubectl, d):
    script = os.path.join(repo, "deploy/k8s/make-dev-secrets.sh")
    env = dict(os.environ, KUBECTL=kubectl)
    res = subprocess.run(["bash", script, "--namespace", "emar-test", "--dir", d, "--extra-san", "IP:127.0.0.1"],
                         capture_output=True, text=True, env=env)
    if not r.check(res.returncode == 0, "make-dev-secrets.sh", "failed:\n" + res.stdout + res.stderr):
        return False
    secrets = [o for o in yaml.safe_load_all(open(os.path.join(d, "secrets.yaml"))) if o]
    got = {name_of(o): set((o.get("data") or {})) for o in secrets if o.get("kind") == "Secret"}
    want = {k: v for k, v in USER_CREATED["Secret"].items()}
    r.check(got == want, "make-dev-secrets.sh", "makes Secrets %s; the manifests expect %s" % (got, want))
    tokens = {}
    for line in open(os.path.join(d, "tokens")):
        parts = line.split("#", 1)[0].split()
        if parts:
            tokens[parts[2]] = parts[0]
    for role, f in (("worker", "worker.token"), ("client", "client.token")):
        h = hashlib.sha256(open(os.path.join(d, f)).read().strip().encode()).hexdigest()
        r.check(tokens.get(h) == role, "make-dev-secrets.sh", "%s's sha256 is not a %s line of tokens" % (f, role))
    for host in ("emar-coordinator", "emar-coordinator.emar-test.svc"):
        res = subprocess.run(["openssl", "verify", "-CAfile", os.path.join(d, "ca.crt"), "-verify_hostname", host,
                              os.path.join(d, "tls.crt")], capture_output=True, text=True)
        r.check(res.returncode == 0, "make-dev-secrets.sh", "tls.crt is not valid for %s: %s" % (host, res.stdout + res.stderr))
    return True


def remap_args(argv, mapping):
    """Applies (old, new) pairs to every argument: plain substrings, or compiled regexes."""
    out = []
    for a in argv:
        for old, new in mapping:
            a = old.sub(new, a) if hasattr(old, "sub") else a.replace(old, new)
        out.append(a)
    return out


def wait_for_file(path, proc, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        if os.path.exists(path) and open(path).read().strip():
            return open(path).read().strip()
        if proc.poll() is not None:
            return None
        time.sleep(0.05)
    return None


def http_get(port, path):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%s%s" % (port, path), timeout=5) as res:
            return res.status, res.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")
    except OSError as e:
        return None, str(e)


def loopback_run(r, repo, bins, coord, worker, client, secrets_dir):
    """The rendered args, paths and addresses mapped onto loopback: coordinator, worker, emarctl."""
    w = "loopback run of overlays/prod"
    tmp = tempfile.mkdtemp(prefix="emar-k8s-")
    procs = []
    logs = {}

    def log_text(name):
        logs[name].seek(0)
        return logs[name].read()

    try:
        files = {"/etc/emar/tls/tls.crt": "tls.crt", "/etc/emar/tls/tls.key": "tls.key",
                 "/etc/emar/tls/ca.crt": "ca.crt", "/etc/emar/tokens/tokens": "tokens"}
        mapping = [(k, os.path.join(secrets_dir, v)) for k, v in files.items()]
        mapping += [(re.compile(r"^(--[a-z-]*listen=)0\.0\.0\.0:\d+$"), r"\g<1>127.0.0.1:0")]
        data = os.path.join(tmp, "data")
        os.mkdir(data)
        port_files = {f: os.path.join(tmp, f) for f in ("port", "worker-port", "metrics-port")}
        argv = [bins["coordinator"]] + remap_args(coord["argv"][1:], mapping + [("--data-dir=" + DATA_DIR, "--data-dir=" + data)])
        argv += ["--%s-file=%s" % (f, p) for f, p in port_files.items()]
        logs["coordinator"] = open(os.path.join(tmp, "coordinator.log"), "w+")
        cp = subprocess.Popen(argv, stdout=logs["coordinator"], stderr=subprocess.STDOUT)
        procs.append(cp)
        ports = {f: wait_for_file(p, cp) for f, p in port_files.items()}
        if not r.check(all(ports.values()), w, "the coordinator did not start with the rendered args %s:\n%s" % (
                argv, log_text("coordinator"))):
            return
        # The metric the ScaledObject's query reads, at the path the Service's annotation names.
        status, body = http_get(ports["metrics-port"], coord["metrics_path"])
        r.check(status == 200 and re.search(r'^emar_shards\{[^}]*state="queued"[^}]*\} ', body, re.M), w,
                "GET %s: no emar_shards{state=\"queued\"} gauge (%s):\n%s" % (coord["metrics_path"], status, body[:2000]))

        wargv = remap_args(worker["argv"][1:], mapping + [
            ("/etc/emar/token/token", os.path.join(secrets_dir, "worker.token")),
            (re.compile(r"^--coordinator=.*"), "--coordinator=127.0.0.1:" + ports["worker-port"])])
        logs["worker"] = open(os.path.join(tmp, "worker.log"), "w+")
        wp = subprocess.Popen([bins["worker"]] + wargv, stdout=logs["worker"], stderr=subprocess.STDOUT)
        procs.append(wp)
        # The example's emarctl command, its job file's /inputs mapped onto examples/restaurant-sentiment.
        inputs = os.path.join(repo, "examples/restaurant-sentiment")
        job = os.path.join(tmp, "job.yaml")
        with open(job, "w") as f:
            f.write(client["job_text"].replace("/inputs/", inputs + "/"))
        cargv = remap_args(client["argv"][1:], [
            (client["job_path"], job), ("/etc/emar/tls/ca.crt", os.path.join(secrets_dir, "ca.crt")),
            ("/etc/emar/token/token", os.path.join(secrets_dir, "client.token")),
            (re.compile("^" + re.escape(client["flags"]["server"]) + "$"), "127.0.0.1:" + ports["port"]),
            (re.compile(r"^<[A-Z_]+>$"), "k8s-manifests-test")])
        res = subprocess.run([bins["emarctl"]] + cargv, capture_output=True, text=True, timeout=300)
        r.check(res.returncode == 0, w, "the example's emarctl command exited %d (0 expected: the example's gates pass)\n"
                "command: %s\nstderr: %s\nworker log: %s\ncoordinator log: %s" % (
                    res.returncode, cargv, res.stderr.strip(), log_text("worker"), log_text("coordinator")))
        r.check("gate min_emar" in res.stdout and "PASS" in res.stdout, w, "no report on stdout: %s" % res.stdout[:500])
        # The worker's probes, as the manifest's httpGet probes ask them (after the job: /readyz needs
        # an answer from the coordinator, which a first idle long-poll gives only after its wait).
        end, hport = time.time() + 30, None
        while time.time() < end and hport is None and wp.poll() is None:
            m = re.search(r"^health on port (\d+)", log_text("worker"), re.M)
            hport = m.group(1) if m else None
            time.sleep(0.05)
        if r.check(hport, w, "the worker did not start with the rendered args %s:\n%s" % (wargv, log_text("worker"))):
            for probe in ("livenessProbe", "readinessProbe"):
                path = ((worker["container"].get(probe) or {}).get("httpGet") or {}).get("path", "/")
                end, status = time.time() + 20, None
                while time.time() < end and status != 200:
                    status, body = http_get(hport, path)
                    time.sleep(0.1)
                r.check(status == 200, w, "the worker's %s GET %s answered %s: %s" % (probe, path, status, body))

        # The worker's token may not use the client API (roles are enforced with these files).
        bad = subprocess.run([bins["emarctl"], "list", "--server", "127.0.0.1:" + ports["port"], "--tls-ca",
                              os.path.join(secrets_dir, "ca.crt"), "--token-file", os.path.join(secrets_dir, "worker.token")],
                             capture_output=True, text=True, timeout=60)
        r.check(bad.returncode == 1, w, "a worker token was not refused on the client API (exit %d)" % bad.returncode)
        for p, name in ((wp, "worker"), (cp, "coordinator")):
            p.send_signal(signal.SIGTERM)
            try:
                rc = p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
                rc = "timeout"
            r.check(rc == 0, w, "the %s did not exit 0 on SIGTERM (%s)" % (name, rc))
        if not r.failures:
            r.info.append("loopback: the prod overlay's coordinator and worker args ran (TLS, tokens, probes, "
                          "metrics), and the example Job's emarctl command exited 0")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        for f in logs.values():
            f.close()
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Driver


def render(r, kubectl, directory):
    res = subprocess.run([kubectl, "kustomize", directory], capture_output=True, text=True)
    if not r.check(res.returncode == 0, directory, "kubectl kustomize failed:\n" + res.stderr.strip()):
        return None
    try:
        return [o for o in yaml.safe_load_all(res.stdout) if o]
    except yaml.YAMLError as e:
        r.fail(directory, "rendered YAML does not parse: %s" % e)
        return None


def load_examples(r, d):
    objs = []
    for f in sorted(os.listdir(d)):
        if f.endswith((".yaml", ".yml")):
            try:
                objs += [o for o in yaml.safe_load_all(open(os.path.join(d, f))) if o]
            except yaml.YAMLError as e:
                r.fail("deploy/examples/" + f, "does not parse: %s" % e)
    return objs


def run_checks(repo, kubectl, bins, promtool, loopback=True):
    r = Report()
    k8s_dir = os.path.join(repo, "deploy/k8s")
    readme = os.path.join(k8s_dir, "README.md")
    readme_text = open(readme).read() if os.path.exists(readme) else ""
    r.check(readme_text, "deploy/k8s/README.md", "missing")
    flag_sets = {}
    bool_flags = {"wait"}
    for who, b in bins.items():
        flag_sets[who] = known_flags(b)
        bool_flags |= flag_sets[who][1]
    for root, _, files in os.walk(os.path.join(repo, "deploy")):
        for f in files:
            p = os.path.join(root, f)
            try:
                text = open(p, errors="replace").read()
            except OSError:
                continue
            r.check(not re.search(r"-----BEGIN [A-Z ]*PRIVATE KEY-----", text), os.path.relpath(p, repo),
                    "holds a private key: never commit one")

    examples = load_examples(r, os.path.join(repo, "deploy/examples"))
    for o in examples:
        if o.get("kind") == "Workflow":
            validate_workflow(r, "deploy/examples", o)
    example_pods = check_objects(r, "deploy/examples", examples, readme_text)

    dirs = [("base", os.path.join(k8s_dir, "base"))]
    ov = os.path.join(k8s_dir, "overlays")
    dirs += [(d, os.path.join(ov, d)) for d in sorted(os.listdir(ov)) if os.path.isdir(os.path.join(ov, d))]
    r.check({"dev", "prod"} <= {d for d, _ in dirs}, "deploy/k8s/overlays", "needs dev and prod")
    rendered = {}
    for name, d in dirs:
        objs = render(r, kubectl, d)
        if objs is not None:
            rendered[name] = objs
    base = rendered.get("base")
    results = {}
    for name, objs in rendered.items():
        where = "overlay " + name if name != "base" else "base"
        pods = check_objects(r, where, objs, readme_text)
        coord = check_coordinator(r, where, objs, pods, bool_flags)
        workers = check_workers(r, where, objs, pods, bool_flags)
        results[name] = (objs, pods, coord, workers)
        if "coordinator" in flag_sets and coord:
            check_flag_names(r, coord["pod"].id(coord["container"]), "emar-coordinator", coord["flags"], flag_sets["coordinator"][0])
        if "worker" in flag_sets:
            for wk in workers:
                check_flag_names(r, wk["pod"].id(wk["container"]), "emar-worker", wk["flags"], flag_sets["worker"][0])
    clients = []
    if base is not None:
        clients = check_clients(r, "deploy/examples", examples, example_pods, base, results["base"][1], bool_flags)
        r.check(clients, "deploy/examples", "no pod runs emarctl submit")
        if "emarctl" in flag_sets:
            for cl in clients:
                check_flag_names(r, cl["pod"].id(cl["container"]), "emarctl", cl["flags"], flag_sets["emarctl"][0])
    if "prod" in results and results["prod"][2]:
        objs, pods, coord, workers = results["prod"]
        check_prod(r, "overlay prod", objs, pods, coord, workers, [c["pod"] for c in clients], promtool)
    if "dev" in results:
        check_dev(r, "overlay dev", results["dev"][0], results["dev"][3])

    if not bins:
        r.note("no binaries given: flag names, the dev secrets script and the loopback run were not checked")
    elif loopback:
        with tempfile.TemporaryDirectory() as sd:
            d = os.path.join(sd, "secrets")
            if run_dev_secrets(r, repo, kubectl, d) and not r.failures:
                if "prod" in results and results["prod"][2] and results["prod"][3] and clients:
                    try:
                        loopback_run(r, repo, bins, results["prod"][2], results["prod"][3][0], clients[0], d)
                    except (OSError, subprocess.SubprocessError) as e:
                        r.fail("loopback run of overlays/prod", "could not run the binaries: %s" % e)
    return r


# Each mutation breaks one invariant in a copy of deploy/; the checks must report it.
MUTATIONS = [
    ("k8s/base/worker-deployment.yaml", "            - --tls-ca=/etc/emar/tls/ca.crt\n", "", "--tls-ca must be"),
    ("k8s/base/worker-deployment.yaml", "- {key: ca.crt, path: ca.crt}", "- {key: ca.crt, path: ca.crt}\n              - {key: tls.key, path: tls.key}",
     "mounts emar-tls beyond ca.crt"),
    ("k8s/base/coordinator-statefulset.yaml", "--tokens=/etc/emar/tokens/tokens", "--tokens=/etc/emar/token/tokens", "--tokens must be"),
    ("k8s/base/coordinator-statefulset.yaml", "            readOnlyRootFilesystem: true\n", "", "readOnlyRootFilesystem must be true"),
    ("k8s/base/worker-deployment.yaml", "              mountPath: /tmp\n", "              mountPath: /scratch\n", "emptyDir mounted at /tmp"),
    ("k8s/base/worker-deployment.yaml", "              drop: [ALL]", "              drop: [NET_RAW]", "drop ALL"),
    ("k8s/base/coordinator-statefulset.yaml", "              memory: 2Gi\n", "", "resources.limits.memory must be set"),
    ("k8s/base/coordinator-statefulset.yaml", "          startupProbe:\n            httpGet: {path: /readyz, port: metrics}",
     "          startupProbe:\n            grpc:\n              port: 50051", "speaks plaintext"),
    ("k8s/base/coordinator-statefulset.yaml", "          livenessProbe:\n            httpGet: {path: /healthz, port: metrics}",
     "          livenessProbe:\n            httpGet: {path: /metrics, port: metrics}", "must GET /healthz or /readyz"),
    ("k8s/base/coordinator-statefulset.yaml", "          livenessProbe:", "          xlivenessProbe:", "unknown field"),
    ("k8s/base/worker-deployment.yaml", "              path: /readyz\n", "              path: /healthz\n", "must GET /readyz"),
    ("k8s/base/worker-deployment.yaml", "            - --health-listen=0.0.0.0:8081", "            - --health-listen=0.0.0.0:8082",
     "is no container port"),
    ("k8s/base/coordinator-service.yaml", "    app.kubernetes.io/component: coordinator\n  ports:\n    - name: grpc          #",
     "    app.kubernetes.io/component: coordinatr\n  ports:\n    - name: grpc          #", "selects no pod"),
    ("k8s/base/worker-deployment.yaml", "secretName: emar-worker-token", "secretName: emar-worker-tokn", "neither defined nor in the user-created list"),
    ("k8s/base/worker-deployment.yaml", "defaultMode: 288   # 0440\n", "defaultMode: 256   # 0400\n", "unreadable by UID"),
    ("k8s/base/worker-deployment.yaml", "terminationGracePeriodSeconds: 120", "terminationGracePeriodSeconds: 30", "at least 120"),
    ("k8s/base/worker-deployment.yaml", "--coordinator=$(EMAR_COORDINATOR_SERVICE):50052",
     "--coordinator=$(EMAR_COORDINATOR_SERVICE):50051", "worker port 50052"),
    ("k8s/base/emar-config.env", "WORKER_LEASE_WAIT_SECONDS=10\n", "", "undefined variables"),
    ("k8s/base/emar-config.env", "COORDINATOR_MAX_STORE_GB=16", "COORDINATOR_MAX_STORE_GB=40", "below the data volume"),
    ("k8s/overlays/prod/network-policies.yaml", "              emar-client: \"true\"\n", "              app.kubernetes.io/name: emar\n",
     "only pods labelled emar-client"),
    ("k8s/overlays/prod/network-policies.yaml", "          port: 50052\n", "          port: 50051\n", "lets worker pods reach port 50052"),
    ("k8s/overlays/prod/kustomization.yaml", "  - worker-pdb.yaml\n", "", "no PodDisruptionBudget"),
    ("k8s/overlays/prod/worker-scaledobject.yaml", 'query: sum(emar_shards{state=~"queued|leased"})',
     'query: sum(emar_shards{state="leased"})', 'must read emar_shards{state="queued"}'),
    ("k8s/overlays/prod/worker-scaledobject.yaml", 'query: sum(emar_shards{state=~"queued|leased"})',
     'query: sum(emar_shards{state=~"queued|leased"}', "promtool: the query does not parse", "promtool"),
    ("k8s/overlays/prod/worker-scaledobject.yaml", '        activationThreshold: "0"\n', "", "minReplicaCount must keep"),
    ("k8s/overlays/prod/worker-scaledobject.yaml", "    name: emar-worker\n  minReplicaCount", "    name: emar-workers\n  minReplicaCount",
     "scaleTargetRef"),
    ("k8s/overlays/prod/worker-resources.yaml", "  replicas: null\n", "", "would reset KEDA"),
    ("k8s/overlays/prod/kustomization.yaml", 'newTag: "0.1.0"', "newTag: latest", "is not pinned"),
    ("examples/emar-eval-job.yaml", "          values: [2, 3]", "          values: [2]", "FailJob on exit 3"),
    ("examples/emar-eval-job.yaml", "        emar-client: \"true\"", "        emar-client: true", "must be a string"),
    ("examples/emar-eval-workflow.yaml", "        expression: asInt(lastRetry.exitCode) == 1   # errors only; never a failed gate (3)\n",
     "", "retries failed gates"),
]


def self_test(repo, kubectl, promtool):
    """Every mutation must be reported; returns the list of mutations that were not."""
    missed = []
    for rel, old, new, expect, *needs in MUTATIONS:
        if needs and not promtool:
            continue
        with tempfile.TemporaryDirectory() as d:
            shutil.copytree(os.path.join(repo, "deploy"), os.path.join(d, "deploy"),
                            ignore=shutil.ignore_patterns(".git"))
            if os.path.isdir(os.path.join(repo, "examples")):
                os.symlink(os.path.join(repo, "examples"), os.path.join(d, "examples"))
            p = os.path.join(d, "deploy", rel)
            text = open(p).read()
            if text.count(old) != 1:
                missed.append("%s: the text to mutate is not there exactly once: %r" % (rel, old))
                continue
            open(p, "w").write(text.replace(old, new))
            r = run_checks(d, kubectl, {}, promtool, loopback=False)
            if not any(expect in f for f in r.failures):
                missed.append("%s: %r -> %r was not reported as %r (reported: %s)" % (
                    rel, old.strip(), new.strip(), expect, r.failures or "nothing"))
    return missed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repo", required=True)
    ap.add_argument("--kubectl", default=os.environ.get("KUBECTL", "kubectl"))
    ap.add_argument("--coordinator")
    ap.add_argument("--worker")
    ap.add_argument("--emarctl")
    ap.add_argument("--self-test", action="store_true", help="also check that broken manifests are caught")
    a = ap.parse_args()
    kubectl = shutil.which(a.kubectl)
    if kubectl is None:
        die("kubectl not found (%s): the test renders the overlays with `kubectl kustomize`; "
            "install Debian's kubernetes-client (apt-get install -y kubernetes-client)" % a.kubectl)
    promtool = shutil.which("promtool")
    a.repo = os.path.abspath(a.repo)
    bins = {k: os.path.abspath(v) for k, v in (("coordinator", a.coordinator), ("worker", a.worker),
                                               ("emarctl", a.emarctl)) if v}
    if bins and len(bins) != 3:
        die("give --coordinator, --worker and --emarctl together")
    for b in bins.values():
        if not os.access(b, os.X_OK):
            die("not an executable: %s" % b)
    version = subprocess.run([kubectl, "version", "--client"], capture_output=True, text=True).stdout.strip()
    print("kubectl: %s (%s)" % (kubectl, version.splitlines()[0] if version else "?"))
    r = run_checks(a.repo, kubectl, bins, promtool)
    if promtool is None:
        r.note("promtool not found (Debian package prometheus): the ScaledObject's query was not parsed")
    for i in r.info:
        print("ok: " + i)
    for n in r.notes:
        print("NOTE: " + n)
    for f in r.failures:
        print("FAIL: " + f)
    print("check_manifests: %d checks, %d failed" % (r.checks, len(r.failures)))
    if r.failures:
        return 1
    if a.self_test:
        missed = self_test(a.repo, kubectl, promtool)
        for m in missed:
            print("FAIL: self-test: " + m)
        print("check_manifests self-test: %d mutations, %d not caught" % (len(MUTATIONS), len(missed)))
        if missed:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
