"""The folders are the architecture: scripts/check-layers.py on the real tree and on small
made-up trees that break each rule (an upward include, an upward call, a cycle), so that the
check is known to fail when it should."""
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHECK = os.path.join(ROOT, "scripts", "check-layers.py")
OBJECTS = os.path.join(ROOT, "build", "test")


def run_check(root, objects=None):
    args = [sys.executable, CHECK, "--root", root]
    if objects:
        args += ["--objects", objects]
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return p.returncode, p.stdout


class Layering(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ps-layers-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write(self, rel, text):
        path = os.path.join(self.tmp, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(textwrap.dedent(text))

    def tree(self):
        """A clean miniature: base <- store <- reconcile <- src."""
        self.write("include/util.h", "int util_f(void);\n")
        self.write("base/util.c", '#include "util.h"\nint util_f(void) { return 1; }\n')
        self.write("include/store.h", '#include "util.h"\nint store_f(void);\n')
        self.write("store/store.c", '#include "store.h"\nint store_f(void) { return util_f(); }\n')
        self.write("include/engine.h", '#include "store.h"\nint rec_f(void);\n')
        self.write("reconcile/engine.c",
                   '#include "engine.h"\nint rec_f(void) { return store_f(); }\n')
        self.write("src/main.c", '#include "engine.h"\nint main(void) { return rec_f(); }\n')

    def compile_tree(self):
        objdir = os.path.join(self.tmp, "build")
        for dirpath, _, files in os.walk(self.tmp):
            for f in files:
                if not f.endswith(".c"):
                    continue
                src = os.path.join(dirpath, f)
                rel = os.path.relpath(src, self.tmp)
                obj = os.path.join(objdir, rel[:-2] + ".o")
                os.makedirs(os.path.dirname(obj), exist_ok=True)
                subprocess.run(["cc", "-c", "-I", os.path.join(self.tmp, "include"), "-o", obj,
                                src], check=True)
        return objdir

    def test_the_real_tree_is_clean(self):
        if not os.path.isdir(os.path.join(OBJECTS, "reconcile")):
            self.fail("build/test has no objects: make test builds them first")
        rc, out = run_check(ROOT, OBJECTS)
        self.assertEqual(rc, 0, out)
        self.assertIn("calls checked", out)

    def test_no_file_over_900_lines_no_function_over_100(self):
        p = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "check-size.py")],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.assertEqual(p.returncode, 0, p.stdout)

    def test_the_size_check_fails_on_a_long_function(self):
        body = "".join("\tx += %d;\n" % i for i in range(101))
        self.write("reconcile/long.c", "int\nlong_one(int x)\n{\n" + body + "\treturn x;\n}\n")
        p = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "check-size.py"),
                            "--root", self.tmp], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertIn("reconcile/long.c:2: long_one: 105 lines (at most 100)", p.stdout)

    def test_a_clean_miniature_passes(self):
        self.tree()
        rc, out = run_check(self.tmp, self.compile_tree())
        self.assertEqual(rc, 0, out)

    def test_an_upward_include_fails(self):
        self.tree()
        # store/ reaching up into the engine's header
        self.write("store/store.c", '#include "store.h"\n#include "engine.h"\n'
                   'int store_f(void) { return util_f(); }\n')
        rc, out = run_check(self.tmp)
        self.assertEqual(rc, 1, out)
        self.assertIn("store/store.c:2: includes include/engine.h (store -> reconcile)", out)

    def test_an_include_of_src_fails(self):
        self.tree()
        self.write("include/cli.h", "int cli_f(void);\n")
        self.write("src/cli.c", '#include "cli.h"\nint cli_f(void) { return 0; }\n')
        self.write("reconcile/engine.c", '#include "engine.h"\n#include "cli.h"\n'
                   'int rec_f(void) { return store_f(); }\n')
        rc, out = run_check(self.tmp)
        self.assertEqual(rc, 1, out)
        self.assertIn("(reconcile -> src)", out)

    def test_an_upward_call_fails(self):
        self.tree()
        # no include, just a call declared by hand: only the object check sees it
        self.write("base/util.c", "int rec_f(void);\nint util_f(void) { return rec_f(); }\n")
        rc, out = run_check(self.tmp, self.compile_tree())
        self.assertEqual(rc, 1, out)
        self.assertIn("base/util.c: calls into reconcile/engine.c (base -> reconcile)", out)

    def test_a_cycle_between_files_of_one_layer_fails(self):
        self.tree()
        self.write("reconcile/a.c", "int b_f(void);\nint a_f(void) { return b_f(); }\n")
        self.write("reconcile/b.c", "int a_f(void);\nint b_f(void) { return a_f(); }\n")
        rc, out = run_check(self.tmp, self.compile_tree())
        self.assertEqual(rc, 1, out)
        self.assertIn("call cycle between files: reconcile/a.c <-> reconcile/b.c", out)

    def test_a_header_of_no_layer_fails(self):
        self.tree()
        self.write("include/orphan.h", "int orphan(void);\n")
        rc, out = run_check(self.tmp)
        self.assertEqual(rc, 1, out)
        self.assertIn("include/orphan.h: belongs to no layer", out)


if __name__ == "__main__":
    unittest.main()
