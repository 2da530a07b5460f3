"""What the offline deploy tests share: `check` prints a line per check and records failures,
`render` runs `kubectl kustomize` ($KUBECTL picks another kubectl) and returns its objects."""
import os
import subprocess

import yaml

KUBECTL = os.environ.get("KUBECTL", "kubectl")
failures = []


def check(ok, what):
    print(("ok: " if ok else "FAIL: ") + what)
    if not ok:
        failures.append(what)
    return ok


def render(path):
    out = subprocess.run([KUBECTL, "kustomize", path], check=True, capture_output=True, text=True).stdout
    return [d for d in yaml.safe_load_all(out) if d]
