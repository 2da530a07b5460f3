#!/usr/bin/python3
"""The monitoring pack (deploy/k8s/monitoring/) checked offline and against live binaries.

1. `kubectl kustomize` renders the pack; the ServiceMonitor selects the coordinator's Service and
   names one of its ports, the PodMonitor selects the worker pods and names one of their container
   ports, and every overlay's workers serve /metrics on that port (--metrics-listen equal to
   --health-listen) with a NetworkPolicy rule that lets the monitoring namespace scrape it.
2. The PrometheusRule's groups pass `promtool check rules`, and `promtool test rules` replays
   alerts_test.yaml (each alert fires on a synthetic failure and stays quiet when healthy).
3. Every dashboard query parses: each becomes a recording rule checked by promtool, with the
   dashboard's variables replaced by values.
4. A live coordinator (TLS, a store limit) and worker on 127.0.0.1 are scraped: every metric the
   rules and the dashboard name (but Prometheus' own `up` and kubelet's) is exported by one of
   them, and `promtool check metrics` accepts both pages.

  /usr/bin/python3 tests/deploy/monitoring/monitoring_test.py BIN_DIR
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
PACK = os.path.join(REPO, "deploy", "k8s", "monitoring")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from kustomize_checks import KUBECTL, check, failures, render  # noqa: E402  (tests/deploy/)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "testlib"))
from procs import read_port_file  # noqa: E402  (tests/testlib/)


def matches(selector, labels):
    return all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items())


def flags_of(args):
    return dict(a[2:].split("=", 1) for a in args if a.startswith("--") and "=" in a)


def check_scrape_objects(tmp):
    pack = render(PACK)
    kinds = {d["kind"]: d for d in pack}
    check(set(kinds) == {"ServiceMonitor", "PodMonitor", "PrometheusRule", "ConfigMap"},
          "the pack renders a ServiceMonitor, a PodMonitor, a PrometheusRule and a ConfigMap: %s" % sorted(kinds))
    cm = kinds.get("ConfigMap", {})
    check(cm.get("metadata", {}).get("labels", {}).get("grafana_dashboard") == "1",
          "the dashboard ConfigMap carries grafana_dashboard: \"1\" for Grafana's sidecar")
    for overlay in ("dev", "prod"):
        objs = render(os.path.join(REPO, "deploy", "k8s", "overlays", overlay))
        svc = [o for o in objs if o["kind"] == "Service" and matches(kinds["ServiceMonitor"]["spec"]["selector"],
                                                                    o["metadata"].get("labels", {}))]
        ports = {p["name"] for s in svc for p in s["spec"]["ports"]}
        want = {e["port"] for e in kinds["ServiceMonitor"]["spec"]["endpoints"]}
        check(svc and want <= ports, "%s: the ServiceMonitor selects the coordinator Service and its ports %s exist"
              % (overlay, sorted(want)))
        workers = [o for o in objs if o["kind"] == "Deployment" and
                   matches(kinds["PodMonitor"]["spec"]["selector"], o["spec"]["template"]["metadata"]["labels"])]
        if not check(len(workers) == 1, "%s: the PodMonitor selects the worker pods" % overlay):
            continue
        pod = workers[0]["spec"]["template"]
        c = pod["spec"]["containers"][0]
        named = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
        for ep in kinds["PodMonitor"]["spec"]["podMetricsEndpoints"]:
            port = named.get(ep["port"])
            check(port is not None, "%s: the worker has the PodMonitor's port %s" % (overlay, ep["port"]))
            f = flags_of(c.get("args", []))
            check(f.get("metrics-listen") == "0.0.0.0:%s" % port,
                  "%s: emar-worker serves /metrics on port %s (--metrics-listen=%s)" % (overlay, port, f.get("metrics-listen")))
            nps = [o for o in objs if o["kind"] == "NetworkPolicy" and
                   matches(o["spec"]["podSelector"], pod["metadata"]["labels"])]
            if nps:  # prod isolates the workers: the monitoring namespace must still reach the port
                rules = [r for n in nps for r in n["spec"].get("ingress") or []
                         if any(p.get("port") in (port, ep["port"]) for p in r.get("ports") or [])]
                check(any(any("namespaceSelector" in peer for peer in r.get("from") or []) for r in rules),
                      "%s: a NetworkPolicy lets the monitoring namespace reach the workers' port %s" % (overlay, port))
    return kinds


def promtool(*args, cwd=None):
    r = subprocess.run(["promtool", *args], cwd=cwd, capture_output=True, text=True)
    print(r.stdout + r.stderr)
    return r.returncode == 0


def check_rules(kinds, tmp):
    rules_dir = os.path.join(tmp, "rules")
    os.makedirs(rules_dir)
    with open(os.path.join(rules_dir, "rules.yaml"), "w") as f:
        yaml.safe_dump({"groups": kinds["PrometheusRule"]["spec"]["groups"]}, f)
    shutil.copy(os.path.join(HERE, "alerts_test.yaml"), rules_dir)
    check(promtool("check", "rules", "rules.yaml", cwd=rules_dir), "promtool check rules: the PrometheusRule")
    check(promtool("test", "rules", "alerts_test.yaml", cwd=rules_dir), "promtool test rules: alerts_test.yaml")
    tested = set(re.findall(r"alertname: (\w+)", open(os.path.join(HERE, "alerts_test.yaml")).read()))
    defined = {r["alert"] for g in kinds["PrometheusRule"]["spec"]["groups"] for r in g["rules"] if "alert" in r}
    check(defined <= tested, "every alert has a promtool test case (untested: %s)" % sorted(defined - tested))
    return [r["expr"] for g in kinds["PrometheusRule"]["spec"]["groups"] for r in g["rules"]]


def dashboard_queries():
    dash = json.load(open(os.path.join(PACK, "emar-dashboard.json")))
    exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
    return [e.replace("$__rate_interval", "5m").replace("$namespace", "emar") for e in exprs]


def check_dashboard(tmp):
    exprs = dashboard_queries()
    path = os.path.join(tmp, "dashboard-rules.yaml")
    with open(path, "w") as f:
        yaml.safe_dump({"groups": [{"name": "dashboard", "rules": [
            {"record": "dashboard:query_%d" % i, "expr": e} for i, e in enumerate(exprs)]}]}, f)
    check(exprs and promtool("check", "rules", path), "promtool parses all %d dashboard queries" % len(exprs))
    return exprs


def metric_names(exprs):
    names = set()
    for e in exprs:
        names |= set(re.findall(r"\b((?:emar|process)_[a-z_]+)\b", e))
    return names


def scrape(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        return r.read().decode()


def check_live(bin_dir, names, tmp):
    pki = os.path.join(tmp, "pki")
    subprocess.run(["bash", os.path.join(REPO, "tests", "pki", "make-test-pki.sh"), pki], check=True,
                   capture_output=True)
    files = {n: os.path.join(tmp, n) for n in ("port", "worker-port", "metrics-port")}
    coord = subprocess.Popen([os.path.join(bin_dir, "emar-coordinator"), "--listen=127.0.0.1:0",
                              "--port_file=" + files["port"], "--worker-listen=127.0.0.1:0",
                              "--worker_port_file=" + files["worker-port"], "--metrics-listen=127.0.0.1:0",
                              "--metrics_port_file=" + files["metrics-port"], "--data-dir=" + os.path.join(tmp, "data"),
                              "--tls-cert=" + os.path.join(pki, "server.crt"), "--tls-key=" + os.path.join(pki, "server.key"),
                              "--max-store-gb=1", "--log-format=json"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = None
    try:
        wport = read_port_file(files["worker-port"], coord)
        mport = read_port_file(files["metrics-port"], coord)
        # The same address for both: one endpoint serves probes and metrics, as in the manifests.
        worker = subprocess.Popen([os.path.join(bin_dir, "emar-worker"), "--coordinator=127.0.0.1:%d" % wport,
                                   "--tls-ca=" + os.path.join(pki, "ca.crt"), "--health-listen=127.0.0.1:0",
                                   "--metrics-listen=127.0.0.1:0"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        wmport = None
        for line in worker.stdout:
            if line.startswith("health on port "):
                wmport = int(line.split()[-1])
                break
        if not wmport:
            raise RuntimeError("the worker never printed its health port")
        pages = {"coordinator": scrape(mport), "worker": scrape(wmport)}
        exported = set()
        for who, page in pages.items():
            with open(os.path.join(tmp, who + ".prom"), "w") as f:
                f.write(page)
            r = subprocess.run(["promtool", "check", "metrics"], input=page, capture_output=True, text=True)
            check(r.returncode == 0, "promtool check metrics: the %s's /metrics %s" % (who, r.stdout + r.stderr))
            for line in page.splitlines():
                m = re.match(r"# TYPE (\S+) (\S+)", line)
                if m:
                    exported.add(m.group(1))
        missing = sorted(n for n in names if re.sub(r"_(bucket|count|sum)$", "", n) not in exported)
        check(not missing, "every metric the rules and the dashboard name is exported (missing: %s)" % missing)
    finally:
        for p in (worker, coord):
            if p and p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()


def main():
    bin_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "build", "bin")
    for tool in (KUBECTL, "promtool"):
        if not shutil.which(tool):
            print("FAIL: %s not found: scripts/install-deps.sh installs it" % tool)
            return 1
    with tempfile.TemporaryDirectory() as tmp:
        kinds = check_scrape_objects(tmp)
        rule_exprs = check_rules(kinds, tmp)
        dash_exprs = check_dashboard(tmp)
        check_live(bin_dir, metric_names(rule_exprs + dash_exprs), tmp)
    print("%d failed" % len(failures) if failures else "monitoring pack: all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
