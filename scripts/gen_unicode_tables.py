#!/usr/bin/python3
"""Generates EMAR's pinned Unicode tables from Python's own unicodedata.

The metrics that follow Python reference code (SQuAD evaluate-v1.1.py, sacrebleu, rouge-score)
depend on what Python says about a character: `re`'s `\\w`, `str.isspace()` and `str.lower()`.
Those answers change with the Unicode version of the Python that runs the reference code, so
EMAR pins them to one version instead of asking the system ICU. This script writes

    eval/metrics/unicode_tables.cc           range tables read by eval/metrics/unicode_text.cc
    testdata/metrics/unicode_sample.tsv      a sample of ~2000 code points with Python's answers,
                                             read by tests/eval/metrics/unicode_text_test.cc

Usage (Debian 12's Python 3.11 has Unicode 14.0.0; the version must equal kUnicodeVersion in
eval/metrics/unicode_tables.h):
    /usr/bin/python3 scripts/gen_unicode_tables.py           # (re)write both files
    /usr/bin/python3 scripts/gen_unicode_tables.py --check   # exit 1 if either file differs

Every table is checked against Python over all code points 0..0x10FFFF before anything is
written. The output depends only on the Unicode version: same version, byte-identical files.
"""
import argparse
import bisect
import os
import random
import re
import sys
import unicodedata

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADER = "eval/metrics/unicode_tables.h"
TABLES = "eval/metrics/unicode_tables.cc"
SAMPLE = "testdata/metrics/unicode_sample.tsv"
MAX_CP = 0x10FFFF
ALL = range(MAX_CP + 1)
CAPITAL_SIGMA = "\u03a3"
SMALL_SIGMA = "\u03c3"
FINAL_SIGMA = "\u03c2"
LINE_WIDTH = 100


# ---------------------------------------------------------------------------------------------
# Properties, straight from Python.


def is_word(c):
    """`re`'s `\\w` for str patterns (sre: Py_UNICODE_ISALNUM(ch) || ch == '_')."""
    return c == "_" or c.isalnum()


def is_cased(c):
    """Unicode Cased = Lowercase | Uppercase | Lt, as Python's islower/isupper/istitle see them.

    For one character these read Python's LOWER/UPPER/TITLE flags directly (istitle of a single
    character is also true for Uppercase, which does not change the union).
    """
    return c.islower() or c.isupper() or c.istitle()


def sigma_is_final(s, i):
    """Whether str.lower() turns the capital sigma s[i] into the final form."""
    assert s[i] == CAPITAL_SIGMA
    before = s[:i].lower()
    out = s.lower()
    return out[len(before)] == FINAL_SIGMA


def case_ignorable_by_probe(c, cased):
    """Python's Case_Ignorable, which unicodedata does not expose, read off str.lower().

    Python lower-cases U+03A3 to the final form when a cased character precedes it (skipping
    case-ignorable ones) and no cased character follows (again skipping case-ignorable ones).
    "A" + c + "Σ" is final iff c is case-ignorable or cased; "AΣ" + c + "1" is final iff c is
    case-ignorable or not cased. Both hold iff c is case-ignorable.
    """
    final_after = sigma_is_final("A" + c + CAPITAL_SIGMA, 2)
    final_before = sigma_is_final("A" + CAPITAL_SIGMA + c + "1", 1)
    assert final_after == final_before or final_after == cased, hex(ord(c))
    return final_after and final_before


# ---------------------------------------------------------------------------------------------
# Table construction.


def to_ranges(predicate):
    """Sorted, disjoint, non-adjacent inclusive [first, last] ranges of code points."""
    ranges = []
    for cp in ALL:
        if predicate(chr(cp)):
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1][1] = cp
            else:
                ranges.append([cp, cp])
    return [tuple(r) for r in ranges]


def in_ranges(ranges, firsts, cp):
    """The C++ lookup (InRanges in unicode_tables.h), for the brute-force check."""
    k = bisect.bisect_right(firsts, cp) - 1
    return k >= 0 and cp <= ranges[k][1]


def check_ranges(name, ranges, predicate):
    firsts = [r[0] for r in ranges]
    for (a, b), (c, _) in zip(ranges, ranges[1:]):
        assert a <= b and b + 1 < c, (name, hex(a))
    for cp in ALL:
        if in_ranges(ranges, firsts, cp) != bool(predicate(chr(cp))):
            sys.exit(f"{name}: table disagrees with Python at U+{cp:04X}")


def lower_tables():
    """str.lower() of single code points as runs plus expansions.

    A run (first, last, delta, stride) maps first, first + stride, ... <= last to cp + delta; the
    code points between the strided ones lower-case to themselves. Mappings to more than one code
    point are expansions (cp, offset, length) into a pool. Code points not covered map to
    themselves.
    """
    runs = []
    expansions = []
    pool = []
    for cp in ALL:
        lowered = chr(cp).lower()
        if lowered == chr(cp):
            continue
        if len(lowered) > 1:
            expansions.append((cp, len(pool), len(lowered)))
            pool.extend(ord(x) for x in lowered)
            continue
        delta = ord(lowered) - cp
        if runs:
            first, last, run_delta, stride = runs[-1]
            step = cp - last
            if run_delta == delta and (step == stride or (first == last and step in (1, 2))):
                runs[-1] = (first, cp, delta, step)
                continue
        runs.append((cp, cp, delta, 1))
    return runs, expansions, pool


def lookup_lower(runs, run_firsts, expansions, pool, cp):
    """The C++ lookup (LowerCodePoint in unicode_text.cc), for the brute-force check."""
    k = bisect.bisect_right(run_firsts, cp) - 1
    if k >= 0:
        first, last, delta, stride = runs[k]
        if cp <= last and (cp - first) % stride == 0:
            return [cp + delta]
    for e_cp, offset, length in expansions:
        if e_cp == cp:
            return pool[offset : offset + length]
    return [cp]


def check_lower(runs, expansions, pool):
    firsts = [r[0] for r in runs]
    for (a, b, _, _), (c, _, _, _) in zip(runs, runs[1:]):
        assert a <= b < c
    for cp in ALL:
        want = [ord(x) for x in chr(cp).lower()]
        if lookup_lower(runs, firsts, expansions, pool, cp) != want:
            sys.exit(f"lower: table disagrees with Python at U+{cp:04X}")
        # PythonLower writes into a buffer of 3 bytes per input byte.
        if not 0xD800 <= cp <= 0xDFFF:
            assert len(chr(cp).lower().encode()) <= 3 * len(chr(cp).encode()), hex(cp)
    return max(len(chr(cp).lower()) for cp in ALL)


def simulate_lower(s, lower_of, cased, ignorable):
    """PythonLower in unicode_text.cc (final sigma rule included), on a str."""
    out = []
    before_cased = False  # was the last character that is not case-ignorable cased?
    for i, c in enumerate(s):
        if c == CAPITAL_SIGMA:
            final = before_cased
            if final:
                j = i + 1
                while j < len(s) and ignorable(s[j]):
                    j += 1
                final = j == len(s) or not cased(s[j])
            out.append(FINAL_SIGMA if final else SMALL_SIGMA)
        else:
            out.append(lower_of(c))
        if not ignorable(c):
            before_cased = cased(c)
    return "".join(out)


def check_final_sigma(cased_ranges, ignorable_ranges):
    """Random strings over the characters that matter to the rule, against str.lower()."""
    cased_firsts = [r[0] for r in cased_ranges]
    ign_firsts = [r[0] for r in ignorable_ranges]

    def cased(c):
        return in_ranges(cased_ranges, cased_firsts, ord(c))

    def ignorable(c):
        return in_ranges(ignorable_ranges, ign_firsts, ord(c))

    rng = random.Random(14)
    kinds = {(True, True): [], (True, False): [], (False, True): [], (False, False): []}
    for cp in ALL:
        kinds[(cased(chr(cp)), ignorable(chr(cp)))].append(chr(cp))
    alphabet = [CAPITAL_SIGMA] * 4 + [" ", "'", ".", "\u0301"]
    for members in kinds.values():
        alphabet.extend(rng.sample(members, min(40, len(members))))
    for _ in range(200000):
        s = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 8)))
        if simulate_lower(s, str.lower, cased, ignorable) != s.lower():
            sys.exit(f"final sigma: simulation disagrees with Python on {s!r}")


# ---------------------------------------------------------------------------------------------
# Output.


def c_ranges(name, ranges):
    cells = ["{0x%06X, 0x%06X}" % r for r in ranges]
    return c_array("CodePointRange", name, cells)


def c_array(element, name, cells):
    """A constexpr array, its cells packed greedily into lines of at most LINE_WIDTH columns."""
    lines = [f"constexpr {element} {name}[] = {{", "    // clang-format off"]
    line = ""
    for cell in cells:
        if line and len(line) + 1 + len(cell) + 1 > LINE_WIDTH:
            lines.append(line)
            line = ""
        line = (line + " " if line else "    ") + cell + ","
    if line:
        lines.append(line)
    lines += ["    // clang-format on", "};", ""]
    return lines


def render_tables(version, tables):
    word, space, cased, ignorable, (runs, expansions, pool), max_lower = tables
    run_cells = ["{0x%06X, 0x%06X, %d, %d}" % r for r in runs]
    exp_cells = ["{0x%06X, %d, %d}" % e for e in expansions]
    pool_cells = ["0x%06X" % cp for cp in pool]
    py = f"{sys.version_info.major}.{sys.version_info.minor}"
    out = [
        f"// GENERATED by scripts/gen_unicode_tables.py from Python {py}'s unicodedata "
        f"(Unicode {version}).",
        "// Do not edit; regenerate with /usr/bin/python3 scripts/gen_unicode_tables.py.",
        "//",
        f"// Sizes: word {len(word)} ranges, space {len(space)}, cased {len(cased)}, "
        f"case-ignorable {len(ignorable)};",
        f"// lower {len(runs)} runs and {len(expansions)} multi-code-point mapping(s) "
        f"({len(pool)} code points).",
        '#include "eval/metrics/unicode_tables.h"',
        "",
        "#include <string_view>",
        "",
        "namespace emar {",
        "namespace unicode_tables {",
        "",
        f'static_assert(std::string_view(kUnicodeVersion) == "{version}",',
        '              "regenerate with scripts/gen_unicode_tables.py");',
        f"static_assert(kMaxLowerLength == {max_lower}, "
        '"regenerate with scripts/gen_unicode_tables.py");',
        "",
        "namespace {",
        "",
    ]
    out += c_ranges("kWord", word)
    out += c_ranges("kSpace", space)
    out += c_ranges("kCased", cased)
    out += c_ranges("kCaseIgnorable", ignorable)
    out += c_array("LowerRun", "kLowerRuns", run_cells)
    out += c_array("LowerExpansion", "kLowerExpansions", exp_cells)
    out += c_array("char32_t", "kLowerPool", pool_cells)
    out += ["}  // namespace", ""]
    for fn, table in (
        ("WordRanges", "kWord"),
        ("SpaceRanges", "kSpace"),
        ("CasedRanges", "kCased"),
        ("CaseIgnorableRanges", "kCaseIgnorable"),
    ):
        out.append(f"absl::Span<const CodePointRange> {fn}() {{ return {table}; }}")
    out.append("absl::Span<const LowerRun> LowerRuns() { return kLowerRuns; }")
    out.append("absl::Span<const LowerExpansion> LowerExpansions() { return kLowerExpansions; }")
    out.append("absl::Span<const char32_t> LowerPool() { return kLowerPool; }")
    out += ["", "}  // namespace unicode_tables", "}  // namespace emar", ""]
    return "\n".join(out)


def sample_code_points(tables):
    """~2000 code points: ASCII, the edges of every range, and a seeded spread over all planes."""
    word, space, cased, ignorable, (runs, expansions, _), _ = tables
    rng = random.Random(1114111)
    picked = set(range(0x80))
    picked.update(e[0] for e in expansions)
    picked.update([0x03A3, 0x0130, 0x212A, 0x1E9E, 0x10400, 0x13A0, 0xAB70, 0x1E4D0, 0x1E4EB])
    edges = []
    for ranges in (word, space, cased, ignorable):
        for first, last in ranges:
            edges += [first - 1, first, last, last + 1]
    for first, last, _, stride in runs:
        edges += [first - 1, first, last, last + 1, min(last, first + stride)]
    edges = sorted(set(cp for cp in edges if 0 <= cp <= MAX_CP))
    picked.update(rng.sample(edges, 900))
    for plane, count in [(0, 450), (1, 250), (2, 80), (3, 40), (14, 30), (15, 10), (16, 10)]:
        picked.update(rng.randrange(plane << 16, (plane + 1) << 16) for _ in range(count))
    for plane in range(4, 14):
        picked.update(rng.randrange(plane << 16, (plane + 1) << 16) for _ in range(4))
    picked.add(MAX_CP)
    return sorted(cp for cp in picked if not 0xD800 <= cp <= 0xDFFF)


def render_sample(version, tables):
    py = f"{sys.version_info.major}.{sys.version_info.minor}"
    out = [
        f"# Python {py} (unicodedata {version}) on single code points, for unicode_text_test.cc.",
        "# GENERATED by scripts/gen_unicode_tables.py; do not edit.",
        "# Columns (tab-separated): code point (hex); re.match(r'\\w', c) (0/1); c.isspace() (0/1);",
        "# c.lower() as hex code points joined by '+'; whether ('A' + c + 'Σ').lower() ends in the",
        "# final sigma U+03C2 (0/1); whether the second code point of ('AΣ' + c + '1').lower() is",
        "# U+03C2 (0/1).",
    ]
    for cp in sample_code_points(tables):
        c = chr(cp)
        assert bool(re.match(r"\w", c)) == is_word(c)
        lower = "+".join("%04X" % ord(x) for x in c.lower())
        after = sigma_is_final("A" + c + CAPITAL_SIGMA, 2)
        before = sigma_is_final("A" + CAPITAL_SIGMA + c + "1", 1)
        out.append(f"{cp:04X}\t{int(is_word(c))}\t{int(c.isspace())}\t{lower}\t{int(after)}\t"
                   f"{int(before)}")
    return "\n".join(out) + "\n"


def header_version():
    with open(os.path.join(ROOT, HEADER), encoding="utf-8") as f:
        m = re.search(r'kUnicodeVersion\[\] = "([0-9.]+)"', f.read())
    if not m:
        sys.exit(f"{HEADER}: no kUnicodeVersion")
    return m.group(1)


def build_tables():
    cased_flags = [is_cased(chr(cp)) for cp in ALL]
    ignorable_flags = [case_ignorable_by_probe(chr(cp), cased_flags[cp]) for cp in ALL]
    # Case_Ignorable contains the general categories Mn Me Cf Lm Sk by definition.
    for cp in ALL:
        if unicodedata.category(chr(cp)) in ("Mn", "Me", "Cf", "Lm", "Sk"):
            assert ignorable_flags[cp], hex(cp)
    word = to_ranges(is_word)
    check_ranges("word", word, lambda c: re.match(r"\w", c))
    space = to_ranges(str.isspace)
    check_ranges("space", space, lambda c: re.match(r"\s", c))
    cased = to_ranges(lambda c: cased_flags[ord(c)])
    check_ranges("cased", cased, is_cased)
    ignorable = to_ranges(lambda c: ignorable_flags[ord(c)])
    check_ranges("case-ignorable", ignorable, lambda c: ignorable_flags[ord(c)])
    lower = lower_tables()
    max_lower = check_lower(*lower)
    check_final_sigma(cased, ignorable)
    return word, space, cased, ignorable, lower, max_lower


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="regenerate in memory; exit 1 if a committed file differs")
    args = parser.parse_args()
    version = header_version()
    if unicodedata.unidata_version != version:
        sys.exit(f"this Python has Unicode {unicodedata.unidata_version}, {HEADER} pins "
                 f"{version}: run with a Python whose unicodedata is {version} (Python 3.11: "
                 "Debian 12's /usr/bin/python3)")
    tables = build_tables()
    outputs = {TABLES: render_tables(version, tables), SAMPLE: render_sample(version, tables)}
    stale = []
    for path, text in outputs.items():
        full = os.path.join(ROOT, path)
        if args.check:
            try:
                with open(full, encoding="utf-8") as f:
                    if f.read() != text:
                        stale.append(path)
            except FileNotFoundError:
                stale.append(path)
        else:
            with open(full, "w", encoding="utf-8", newline="\n") as f:
                f.write(text)
    if stale:
        print("out of date (regenerate with /usr/bin/python3 scripts/gen_unicode_tables.py): "
              + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
