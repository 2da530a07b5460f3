"""The manifests check (check_manifests.py) with the binaries: make the dev secrets, then run
the prod overlay's coordinator and worker args on loopback and the example's emarctl command
through them."""

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from k8s_model import DATA_DIR, USER_CREATED, name_of, yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "testlib"))
from procs import http_get, read_port_file  # noqa: E402  (tests/testlib/)


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


def run_example_client(r, w, tmp, repo, bins, client, secrets_dir, client_port, log_text):
    """The example's emarctl command, its job file's /inputs mapped onto examples/restaurant-sentiment."""
    inputs = os.path.join(repo, "examples/restaurant-sentiment")
    job = os.path.join(tmp, "job.yaml")
    with open(job, "w") as f:
        f.write(client["job_text"].replace("/inputs/", inputs + "/"))
    cargv = remap_args(client["argv"][1:], [
        (client["job_path"], job), ("/etc/emar/tls/ca.crt", os.path.join(secrets_dir, "ca.crt")),
        ("/etc/emar/token/token", os.path.join(secrets_dir, "client.token")),
        (re.compile("^" + re.escape(client["flags"]["server"]) + "$"), "127.0.0.1:" + client_port),
        (re.compile(r"^<[A-Z_]+>$"), "k8s-manifests-test")])
    res = subprocess.run([bins["emarctl"]] + cargv, capture_output=True, text=True, timeout=300)
    r.check(res.returncode == 0, w, "the example's emarctl command exited %d (0 expected: the example's gates pass)\n"
            "command: %s\nstderr: %s\nworker log: %s\ncoordinator log: %s" % (
                res.returncode, cargv, res.stderr.strip(), log_text("worker"), log_text("coordinator")))
    r.check("gate min_emar" in res.stdout and "PASS" in res.stdout, w, "no report on stdout: %s" % res.stdout[:500])


def check_worker_probes(r, w, worker, wp, wargv, log_text):
    """The worker's probes, as the manifest's httpGet probes ask them (after the job: /readyz
    needs an answer from the coordinator, which a first idle long-poll gives only after its wait)."""
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


def stop_gracefully(r, w, procs):
    """SIGTERM to each (process, name); each must exit 0."""
    for p, name in procs:
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = "timeout"
        r.check(rc == 0, w, "the %s did not exit 0 on SIGTERM (%s)" % (name, rc))


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
        try:
            ports = {f: str(read_port_file(p, cp)) for f, p in port_files.items()}
        except RuntimeError:
            ports = {}
        if not r.check(ports, w, "the coordinator did not start with the rendered args %s:\n%s" % (
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
        run_example_client(r, w, tmp, repo, bins, client, secrets_dir, ports["port"], log_text)
        check_worker_probes(r, w, worker, wp, wargv, log_text)

        # The worker's token may not use the client API (roles are enforced with these files).
        bad = subprocess.run([bins["emarctl"], "list", "--server", "127.0.0.1:" + ports["port"], "--tls-ca",
                              os.path.join(secrets_dir, "ca.crt"), "--token-file", os.path.join(secrets_dir, "worker.token")],
                             capture_output=True, text=True, timeout=60)
        r.check(bad.returncode == 1, w, "a worker token was not refused on the client API (exit %d)" % bad.returncode)
        stop_gracefully(r, w, ((wp, "worker"), (cp, "coordinator")))
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
