#!/usr/bin/env python3
"""The scanner of scripts/check-sizes.py on small C++ and Python snippets: which braces open a
function, what it is called, and where it starts and ends, with literals and comments that hold
braces in the way. Run: python3 tests/layout/check_sizes_test.py"""

import importlib.util
import os
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
_spec = importlib.util.spec_from_file_location("check_sizes",
                                               os.path.join(ROOT, "scripts", "check-sizes.py"))
check_sizes = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_sizes)


def functions(text):
    return list(check_sizes.cpp_functions(text))


class CppScanTest(unittest.TestCase):

    def test_namespaces_classes_and_initializers_are_not_functions(self):
        text = ("namespace a {\n"            # 1
                "struct S : B {\n"           # 2
                "  int F() const {\n"        # 3
                "    return 1;\n"            # 4
                "  }\n"                      # 5
                "};\n"                       # 6
                "const int kA[] = {1, 2};\n"  # 7
                "enum class E { kX };\n"     # 8
                "}  // namespace a\n")
        self.assertEqual(functions(text), [("F", 3, 5)])

    def test_braces_in_literals_comments_and_macros_are_ignored(self):
        text = ('#define OPEN {\n'
                'void G(int x) {\n'           # 2
                '  // }\n'
                '  /* } */ const char* s = "}";\n'
                "  char c = '}';\n"
                '  const char* r = R"x(})\n}"\n)x";\n'
                '  auto f = [] { return 1; };\n'
                '  if (x) { x = 1\'000; }\n'
                '}\n')                        # 11
        self.assertEqual(functions(text), [("G", 2, 11)])

    def test_constructor_initializer_braces_belong_to_the_constructor(self):
        text = ("Foo::Foo(int a)\n"           # 1
                "    : a_(a), b_{a, 2} {\n"
                "  Run();\n"
                "}\n"                         # 4
                "Foo::~Foo() {}\n")           # 5
        self.assertEqual(functions(text), [("Foo::Foo", 1, 4), ("Foo::~Foo", 5, 5)])

    def test_tests_are_named_by_suite_and_case(self):
        text = "TEST_F(Suite, Case) {\n  EXPECT_TRUE(true);\n}\n"
        self.assertEqual(functions(text), [("TEST_F(Suite,Case)", 1, 3)])

    def test_a_lambda_initializer_at_namespace_scope_is_a_function(self):
        text = "const auto kF = [](int x) {\n  return x;\n};\n"
        self.assertEqual([(first, last) for _, first, last in functions(text)], [(1, 3)])


class RepoCheckTest(unittest.TestCase):

    def run_check(self, files, allowlist=""):
        with tempfile.TemporaryDirectory() as d:
            subprocess.run(["git", "init", "-q", d], check=True)
            for path, text in dict(files, **{check_sizes.ALLOWLIST: allowlist}).items():
                os.makedirs(os.path.dirname(os.path.join(d, path)), exist_ok=True)
                with open(os.path.join(d, path), "w") as f:
                    f.write(text)
            subprocess.run(["git", "-C", d, "add", "."], check=True)
            return subprocess.run([sys.executable, os.path.join(ROOT, "scripts/check-sizes.py"), d],
                                  capture_output=True, text=True)

    def test_long_function_and_file_are_named_and_allowlist_entries_must_be_used(self):
        long_cc = "void Long() {\n" + "  Step();\n" * 80 + "}\n"
        long_py = "def f():\n" + "    pass\n" * 80
        r = self.run_check({"a.cc": long_cc, "b.py": long_py, "c.h": "//\n" * 601})
        self.assertEqual(r.returncode, 1)
        self.assertIn("a.cc:1: Long is 82 lines (at most 80)", r.stdout)
        self.assertIn("b.py:1: f is 81 lines (at most 80)", r.stdout)
        self.assertIn("c.h: 601 lines (at most 600)", r.stdout)
        r = self.run_check({"a.cc": long_cc, "c.h": "//\n" * 600},
                           "a.cc:Long  a table\nd.cc  gone\n")
        self.assertEqual(r.returncode, 1)
        self.assertNotIn("Long is", r.stdout)
        self.assertIn("d.cc is no longer over its limit", r.stdout)
        r = self.run_check({"a.cc": long_cc}, "a.cc:Long\n")
        self.assertIn("needs a reason", r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()
