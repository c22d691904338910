"""End-to-end: a damaged database is reported by name, never followed into a crash. A real
database made with the fakes is copied and the copy damaged (a meta page pointing past the end,
a truncated file, a zeroed or random B-tree page, an index entry removed); `db verify`,
`reconcile` and `people` then exit 65 or 74 naming data.mdb, with no signal and no sanitizer
report, and `reconcile` refuses a database that `db verify` found inconsistent."""
import os
import random
import shutil
import struct
import subprocess
import unittest

from tests.e2e.harness import E2E, run

HDR = 16                 # LMDB page header: pgno (8), pad, flags, lower, upper (2 each)
P_BRANCH, P_LEAF = 0x01, 0x02
CRASH_MARKS = ("Sanitizer", "runtime error", "Assertion", "mdb.c")


class Pages:
    """LMDB's file format, read from data.mdb (see store/check.c for the layout)."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            self.data = bytearray(f.read())
        self.psize = struct.unpack_from("<I", self.data, HDR + 24)[0]
        t0 = self.meta_field(0, "txnid")
        t1 = self.meta_field(1, "txnid")
        self.meta = 1 if t1 > t0 else 0

    # MDB_meta, after the page header: magic, version, address, mapsize, two MDB_db of 48
    # bytes (free list, main; the root last), last page, txnid
    OFF = {"free_root": 24 + 40, "main_root": 72 + 40, "last_pg": 120, "txnid": 128}

    def meta_field(self, i, name, value=None):
        off = i * self.psize + HDR + self.OFF[name]
        if value is not None:
            struct.pack_into("<Q", self.data, off, value)
        return struct.unpack_from("<Q", self.data, off)[0]

    def nodes(self, pgno):
        off = pgno * self.psize
        _, _, flags, lower, _ = struct.unpack_from("<QHHHH", self.data, off)
        for i in range((lower - HDR) // 2):
            ptr = struct.unpack_from("<H", self.data, off + HDR + 2 * i)[0]
            lo, hi, nflags, ks = struct.unpack_from("<HHHH", self.data, off + ptr)
            key = bytes(self.data[off + ptr + 8: off + ptr + 8 + ks])
            data_off = off + ptr + 8 + ks
            yield flags, key, lo | hi << 16 | (nflags << 32 if flags & P_BRANCH else 0), \
                data_off

    def root(self, name):
        """The root page of a named sub-database (the main tree is one leaf here)."""
        main = self.meta_field(self.meta, "main_root")
        for _, key, _, data_off in self.nodes(main):
            if key == name.encode():
                return struct.unpack_from("<Q", self.data, data_off + 40)[0]
        raise KeyError(name)

    def first_child(self, pgno):
        for flags, _, child, _ in self.nodes(pgno):
            assert flags & P_BRANCH, "a branch page expected"
            return child

    def write(self, data=None):
        with open(self.path, "wb") as f:
            f.write(self.data if data is None else data)


class DamagedDatabase(E2E):
    org_args = dict(people=60, seed=7, platforms=("slack",))

    def setUp(self):
        super().setUp()
        self.assertRc(self.ps("reconcile"), 0)
        self.good = os.path.join(self.dir, "db")
        self.copy = os.path.join(self.dir, "damaged")
        shutil.copytree(self.good, self.copy)
        with open(self.cfg) as f:
            text = f.read()
        self.cfg2 = os.path.join(self.dir, "damaged.cfg")
        with open(self.cfg2, "w") as f:
            f.write(text.replace(f'database = "{self.good}";', f'database = "{self.copy}";'))
        self.file = os.path.join(self.copy, "data.mdb")
        self.pages = Pages(self.file)

    def run2(self, *args):
        return run(self.cfg2, *args)

    def assertReported(self, r, cmd, want=None):
        self.assertGreaterEqual(r.rc, 0, f"{cmd}: killed by a signal: {r!r}")
        for mark in CRASH_MARKS:
            self.assertNotIn(mark, r.err, f"{cmd}: {r!r}")
        self.assertIn(r.rc, (65, 74), f"{cmd}: {r!r}")
        self.assertIn(self.file, r.out + r.err, f"{cmd}: the file is not named: {r!r}")
        if want:
            self.assertRegex(r.out + r.err, want, f"{cmd}: {r!r}")

    def assertAllRefuse(self, want=None):
        for cmd in (("db", "verify"), ("reconcile",), ("people",), ("db", "stats")):
            self.assertReported(self.run2(*cmd), cmd, want)
        # the good database was never touched: it still passes
        self.assertRc(self.ps("db", "verify"), 0)

    def test_meta_page_pointing_past_the_end(self):
        p = self.pages
        npages = len(p.data) // p.psize
        p.meta_field(p.meta, "main_root", npages + 100)
        p.meta_field(p.meta, "last_pg", npages + 200)
        p.write()
        self.assertAllRefuse("outside the file")

    def test_meta_last_page_far_past_the_end(self):
        p = self.pages
        p.meta_field(p.meta, "last_pg", 1 << 40)
        p.write()
        self.assertAllRefuse("last page")

    def test_truncated_file(self):
        p = self.pages
        p.write(p.data[:len(p.data) - p.psize - 100])
        self.assertAllRefuse("not a whole number")

    def test_truncated_at_a_page_boundary(self):
        p = self.pages
        p.write(p.data[:len(p.data) - 4 * p.psize])
        self.assertAllRefuse("outside the file|past the end of the file")

    def test_zeroed_btree_page(self):
        p = self.pages
        leaf = p.first_child(p.root("people"))
        p.data[leaf * p.psize:(leaf + 1) * p.psize] = bytes(p.psize)
        p.write()
        self.assertAllRefuse("is not a B-tree page")

    def test_random_page(self):
        p = self.pages
        rnd = random.Random(15)
        root = p.root("accounts")
        p.data[root * p.psize:(root + 1) * p.psize] = bytes(rnd.getrandbits(8)
                                                            for _ in range(p.psize))
        p.write()
        self.assertAllRefuse()

    def test_random_nodes_under_a_valid_header(self):
        p = self.pages
        rnd = random.Random(4)
        leaf = p.first_child(p.root("accounts"))
        start = leaf * p.psize + HDR
        p.data[start:(leaf + 1) * p.psize] = bytes(rnd.getrandbits(8)
                                                   for _ in range(p.psize - HDR))
        p.write()
        self.assertAllRefuse()

    @unittest.skipUnless(shutil.which("mdb_dump") and shutil.which("mdb_load"),
                         "lmdb-utils (mdb_load, mdb_dump) not installed")
    def test_index_entry_removed(self):
        # rebuilt with LMDB's own tools, one entry of the emails index left out
        dump = subprocess.run(["mdb_dump", "-a", self.copy], capture_output=True, text=True,
                              check=True).stdout.split("\n")
        at = dump.index("database=emails")
        data = dump.index("HEADER=END", at) + 1
        self.assertTrue(dump[data].startswith(" "), "emails is empty")
        del dump[data:data + 2]
        shutil.rmtree(self.copy)
        os.mkdir(self.copy, 0o700)
        subprocess.run(["mdb_load", self.copy], input="\n".join(dump), text=True,
                       capture_output=True, check=True)
        v = self.run2("db", "verify")
        self.assertReported(v, "db verify", "is not indexed")
        self.assertIn("1 problem found", v.out)
        for cmd in (("reconcile",), ("people",)):
            self.assertReported(self.run2(*cmd), cmd, "'db verify' found 1 problem on .*: refused")
        # a second verify still finds it; restoring the good copy clears the refusal
        self.assertReported(self.run2("db", "verify"), "db verify", "is not indexed")
        shutil.rmtree(self.copy)
        shutil.copytree(self.good, self.copy)
        self.assertRc(self.run2("reconcile"), 0)
        self.assertRc(self.run2("db", "verify"), 0)


if __name__ == "__main__":
    unittest.main()
