"""The manifests check (check_manifests.py): the prod overlay (NetworkPolicies, PDB, KEDA),
the dev overlay, the client examples (Job, Argo Workflow), and flag names against the
binaries."""

import os
import re
import subprocess
import tempfile

from k8s_model import (
    CLIENT_FILES, CLIENT_LABEL, CLIENT_PORT, KEDA_SPEC_FIELDS, QUEUED_QUERY, WORKER_LABELS,
    WORKER_PORT, container_argv, ident, name_of, parse_flags, program_of, resolve_file,
    selector_matches, validate, yaml)
from k8s_pod_checks import ca_only, check_file_flag, service_port_target

# An image reference pinned by digest alone: [HOST[:PORT]/]PATH@sha256:<64 hex>, no tag.
PINNED_IMAGE = re.compile(r"^[a-z0-9][a-z0-9.-]*(:[0-9]+)?(/[a-z0-9._-]+)*@sha256:[0-9a-f]{64}$")


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
    # The image pinned by digest (NAME@sha256:64 hex, no tag): deploy/pin-image.sh writes it.
    for p in pods:
        for c in p.containers:
            img = c.get("image", "")
            r.check(PINNED_IMAGE.match(img), p.id(c),
                    "image %r is not pinned by digest (NAME@sha256:DIGEST, no tag; deploy/pin-image.sh)" % img)


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
            if pos[:2] == ["admin", "backup"]:
                if check_backup_client(r, pod, c, pos, flags, base_objs, base_pods):
                    clients.append({"pod": pod, "container": c, "flags": flags, "argv": argv, "backup": True})
                continue
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


def check_backup_client(r, pod, c, pos, flags, base_objs, base_pods):
    """`emarctl admin backup DIR`: an admin token, DIR on a volume of its own, one run at a time."""
    w = pod.id(c)
    if not r.check(len(pos) == 3, w, "expected `emarctl admin backup DIR ...`"):
        return False
    t = service_port_target(base_objs, base_pods, flags.get("server", ""))
    r.check(t is not None and t[1] == CLIENT_PORT, w,
            "--server %r must be the coordinator Service's client port" % flags.get("server"))
    check_file_flag(r, pod, c, flags, "tls-ca", CLIENT_FILES["tls-ca"])
    check_file_flag(r, pod, c, flags, "token-file", ("/etc/emar/token/token", "emar-admin-token", "token"))
    ca_only(r, pod)
    r.check(pod.labels.get("emar-client") == "true", w, "pod needs the label emar-client: \"true\"")
    dest = resolve_file(pod, c, pos[2])
    r.check(dest is not None and dest["kind"] == "PersistentVolumeClaim" and not dest["mount"].get("readOnly"), w,
            "backup dir %s must be on a writable PersistentVolumeClaim (the second volume)" % pos[2])
    r.check(flags.get("timestamped") == "true", w,
            "--timestamped: without a shell in the image, each run needs a directory of its own")
    owner = pod.owner
    if owner.get("kind") == "CronJob":
        r.check((owner.get("spec") or {}).get("concurrencyPolicy") == "Forbid", w,
                "concurrencyPolicy must be Forbid: the coordinator takes one backup at a time")
    return True


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
    names = set(re.findall(r"^\s+--([A-Za-z0-9_-]+) \(", out, re.M))
    # One block per flag (a description may span lines; a pattern across blocks would give a
    # flag the default of the boolean after it).
    bools = set()
    for block in re.split(r"\n(?=\s+--[A-Za-z0-9_-]+ \()", out):
        m = re.match(r"\s+--([A-Za-z0-9_-]+) \(", block)
        if m and re.search(r"; default: (?:true|false);", block):
            bools.add(m.group(1))
    return {n.replace("_", "-") for n in names}, {n.replace("_", "-") for n in bools}


def check_flag_names(r, where, who, flags, binary_flags):
    for f in flags:
        r.check(f in binary_flags, where, "%s has no flag --%s" % (who, f))
