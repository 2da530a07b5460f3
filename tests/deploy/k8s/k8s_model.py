"""The model of the manifests check (check_manifests.py): the contract the manifests keep
(labels, ports, files, user-created objects), the report of failures, schema validation
against python3-kubernetes, pod templates and their containers' effective settings."""

import os
import re
import sys


def die(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


try:
    import yaml  # noqa: F401 (the other modules take it from here, after this check)
except ImportError:
    die("PyYAML is missing for /usr/bin/python3: apt-get install -y python3-yaml")
try:
    import kubernetes.client as k8s
    from kubernetes.utils import parse_quantity
except ImportError:
    die("the Kubernetes API models are missing for /usr/bin/python3 (schema checks): "
        "apt-get install -y python3-kubernetes")

# ---------------------------------------------------------------------------------------------
# The contract the manifests keep (docs/service.md, docs/security.md; deploy/Dockerfile)

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
        "emar-admin-token": {"token"},
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
        elif kind == "CronJob":
            t = ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}
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
