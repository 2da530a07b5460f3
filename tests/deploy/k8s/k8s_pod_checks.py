"""The manifests check (check_manifests.py): objects, pod security, references between
objects, Services, and the coordinator's and workers' flags, files and probes."""

import math
import re

from k8s_model import (
    CA_ONLY, CLIENT_PORT, COORDINATOR_FILES, COORDINATOR_GRACE, COORDINATOR_LABELS, DATA_DIR,
    DNS_SUBDOMAIN, METRICS_PORT, RESTRICTED_VOLUME_TYPES, UID, USER_CREATED, WORKER_FILES,
    WORKER_GRACE, WORKER_LABELS, WORKER_PORT, WORKLOAD_KINDS, container_argv, effective, ident,
    name_of, parse_flags, pods_of, program_of, quantity, resolve_file, selector_matches,
    validate_object)


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


def check_coordinator_probes(r, w, c, flags, ports):
    """Probes: present, aimed at the client port, and able to work with TLS on that port."""
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


def check_coordinator_limits(r, w, c, flags, claim):
    """Limits that must agree with the flags: gRPC memory and the store quota."""
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
    check_coordinator_probes(r, w, c, flags, ports)
    check_coordinator_limits(r, w, c, flags, claim)
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
