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
           parsed and evaluated by promtool when installed); the image pinned by digest (NAME@sha256:DIGEST, no tag).
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
import os
import re
import shutil
import subprocess
import sys
import tempfile

from k8s_model import Report, die, yaml
from k8s_pod_checks import check_coordinator, check_objects, check_workers
from k8s_prod_checks import (
    check_clients, check_dev, check_flag_names, check_prod, known_flags, validate_workflow)
from k8s_loopback import loopback_run, run_dev_secrets


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
    bool_flags = {"wait", "timestamped"}
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
        r.check([cl for cl in clients if not cl.get("backup")], "deploy/examples", "no pod runs emarctl submit")
        r.check([cl for cl in clients if cl.get("backup")], "deploy/examples", "no pod runs emarctl admin backup")
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
                        submit = next(cl for cl in clients if not cl.get("backup"))
                        loopback_run(r, repo, bins, results["prod"][2], results["prod"][3][0], submit, d)
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
    ("examples/emar-backup-cronjob.yaml", "concurrencyPolicy: Forbid", "concurrencyPolicy: Allow", "must be Forbid"),
    ("examples/emar-backup-cronjob.yaml", "secretName: emar-admin-token", "secretName: emar-client-token", "--token-file"),
    ("examples/emar-backup-cronjob.yaml", "                - --timestamped\n", "", "--timestamped"),
    ("k8s/overlays/prod/kustomization.yaml", "    digest: sha256:%s" % ("0" * 64), '    newTag: "0.1.0"',
     "is not pinned by digest"),
    ("k8s/overlays/prod/kustomization.yaml", "    newName: emar\n", "    newName: emar:0.1.0\n",
     "is not pinned by digest"),
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
