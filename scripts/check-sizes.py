#!/usr/bin/env python3
"""Lists source files over 600 lines and functions over 80 lines; exits 1 when there is one.

Files: every C++ (.cc, .h), Python (.py) and shell (.sh) file git tracks, plus README.md and
docs/*.md. Functions: C++ function bodies found by a scan of braces (comments, string, character
and raw string literals and preprocessor lines skipped; see CppFunctions), and Python functions
and methods by `ast`. A function's length runs from the first line of its signature to its
closing brace (C++) or last line (Python), comments and blank lines included.

Exceptions live in scripts/size-allowlist.txt, one a line with the reason:
    PATH                 reason          (a file over the file limit)
    PATH:FUNCTION        reason          (a function over the function limit)
An entry that no longer matches an offender is reported too, so the list stays honest.

    python3 scripts/check-sizes.py [REPO_ROOT]
"""

import ast
import os
import re
import subprocess
import sys

MAX_FILE_LINES = 600
MAX_FUNCTION_LINES = 80
ALLOWLIST = "scripts/size-allowlist.txt"


def tracked_files(root):
    out = subprocess.run(["git", "-C", root, "ls-files"], check=True, capture_output=True,
                         text=True).stdout
    for path in out.splitlines():
        if path.endswith((".cc", ".h", ".py", ".sh")) or path == "README.md" or (
                path.startswith("docs/") and path.endswith(".md")):
            if os.path.isfile(os.path.join(root, path)):
                yield path


def blank_code(text):
    """The text with comments, literals and preprocessor lines turned into spaces (newlines
    kept), so that braces and parentheses left in it are code."""
    out = []
    i, n = 0, len(text)
    at_line_start = True
    while i < n:
        c = text[i]
        if at_line_start and c in " \t":
            out.append(c)
            i += 1
            continue
        if at_line_start and c == "#":  # a preprocessor line, with its continuations
            while i < n and text[i] != "\n":
                if text[i] == "\\" and i + 1 < n and text[i + 1] == "\n":
                    out.append(" \n")
                    i += 2
                    continue
                out.append(" ")
                i += 1
            continue
        at_line_start = False
        if c == "\n":
            at_line_start = True
            out.append(c)
            i += 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "R" and text.startswith('"', i + 1) and not (i and (text[i - 1].isalnum()
                                                                     or text[i - 1] == "_")):
            m = re.match(r'R"([^(\s]*)\(', text[i:])
            end = text.find(")" + m.group(1) + '"', i) if m else -1
            j = n if end < 0 else end + len(m.group(1)) + 2
            out.append('"' + re.sub(r"[^\n]", " ", text[i + 1:j - 1]) + '"')
            i = j
        elif c in "\"'":
            if c == "'" and i and text[i - 1].isdigit():  # a digit separator: 1'000
                out.append(" ")
                i += 1
                continue
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + " " * (j - i - 2) + c if j - i >= 2 else c)
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


FUNCTION_NAME = re.compile(r"([~\w:]+(?:<[^<>]*>)?|operator\s*\S+)\s*\($")


def function_name(head):
    """The name in a function head "RET Ns::Name(ARGS) const": the word before the top-level
    parenthesis that opens the parameter list."""
    depth, k = 0, len(head)
    for k in range(len(head) - 1, -1, -1):
        if head[k] == ")":
            depth += 1
        elif head[k] == "(":
            depth -= 1
            if depth == 0:
                before = head[:k]
                # A constructor's initializer list: look before its ':' instead.
                if re.search(r"\)\s*:\s*[\w:]*$", before) is None:
                    m = FUNCTION_NAME.search(before + "(")
                    name = m.group(1) if m else before.split()[-1] if before.split() else "?"
                    if name not in ("if", "for", "while", "switch", "return"):
                        if re.search(r"\b(TEST|TEST_F|TEST_P)$", name):
                            args = head[k + 1:head.rfind(")")]
                            return name + "(" + re.sub(r"\s+", "", args) + ")"
                        return name
    return "?"


def cpp_functions(text):
    """Yields (name, first line, last line) of every function body at namespace or class
    scope. A '{' there opens a function when the text since the previous ';', '{' or '}' (the
    head) has a ')' and is not a class, namespace or '= {...}' initializer; lambdas and local
    classes inside a function count as part of it."""
    code = blank_code(text)
    line_of = []
    line = 1
    for ch in code:
        line_of.append(line)
        if ch == "\n":
            line += 1
    scopes = []  # for each open brace: "scope" (namespace, class, data) or "function"
    head_start = 0
    func = None  # (name, first line, depth at which it ends)
    for i, ch in enumerate(code):
        if func is not None:
            if ch == "{":
                scopes.append("inner")
            elif ch == "}":
                scopes.pop()
                if len(scopes) == func[2]:
                    yield func[0], func[1], line_of[i]
                    func = None
                    head_start = i + 1
            continue
        if ch == ";":
            head_start = i + 1
        elif ch == "}":
            if (scopes.pop() if scopes else None) != "init":
                head_start = i + 1
        elif ch == "{":
            head = code[head_start:i]
            flat = " ".join(head.split())
            if re.search(r"\)\s*:", flat) and re.search(r"[\w>]\s*$", flat) and not re.search(
                    r"\b(const|override|final|noexcept|mutable)\s*$", flat):
                scopes.append("init")  # a member initializer's braces: b_{x}
                continue
            if ")" in flat and not re.search(r"\b(namespace|class|struct|union|enum)\b[^()]*$",
                                             flat) and not re.search(r"=\s*$", flat):
                first = head_start + len(head) - len(head.lstrip())
                func = (function_name(flat), line_of[min(first, i)], len(scopes))
                scopes.append("function")
            else:
                scopes.append("scope")
                head_start = i + 1


def python_functions(text, path):
    try:
        tree = ast.parse(text, path)
    except SyntaxError as e:
        raise SystemExit(f"{path}:{e.lineno}: cannot parse: {e.msg}")
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            yield node.name, first, node.end_lineno


def read_allowlist(root):
    entries = {}
    path = os.path.join(root, ALLOWLIST)
    if not os.path.exists(path):
        return entries
    with open(path, encoding="utf-8") as f:
        for number, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 1)
            if len(parts) < 2:
                raise SystemExit(f"{ALLOWLIST}:{number}: '{parts[0]}' needs a reason after it")
            entries[parts[0]] = number
    return entries


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    allowed = read_allowlist(root)
    used = set()
    offenders = []
    for path in tracked_files(root):
        with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
            text = f.read()
        lines = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
        if lines > MAX_FILE_LINES:
            if path in allowed:
                used.add(path)
            else:
                offenders.append(f"{path}: {lines} lines (at most {MAX_FILE_LINES})")
        if path.endswith((".cc", ".h")):
            functions = cpp_functions(text)
        elif path.endswith(".py"):
            functions = python_functions(text, path)
        else:
            continue
        for name, first, last in functions:
            length = last - first + 1
            key = f"{path}:{name}"
            if length <= MAX_FUNCTION_LINES:
                continue
            if key in allowed:
                used.add(key)
            else:
                offenders.append(
                    f"{path}:{first}: {name} is {length} lines (at most {MAX_FUNCTION_LINES})")
    for key, number in sorted(allowed.items(), key=lambda kv: kv[1]):
        if key not in used:
            offenders.append(f"{ALLOWLIST}:{number}: {key} is no longer over its limit: "
                             "remove the entry")
    for o in offenders:
        print(o)
    if offenders:
        print(f"check-sizes: {len(offenders)} offender(s); split them, or allow one in "
              f"{ALLOWLIST} with the reason")
        return 1
    print(f"check-sizes: no file over {MAX_FILE_LINES} lines, no function over "
          f"{MAX_FUNCTION_LINES} (exceptions: {len(allowed)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
